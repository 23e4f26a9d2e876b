"""The first hybrid search of a new process on a large store, which reads the matrix cache.

A new process loads the vector matrix from ``<file>-lmmatrix`` (written by the process before
it) and, for the lexical side, needs the word postings of every text: built from the rows
(about 44 ms at 100k texts, session 6) unless the cache holds them (format 4, session 7). This
bench builds bench/search.py's corpus once (100k items by default), copies the file for each
tree measured, lets one process per tree write its cache, then starts ``--runs`` new processes
per tree, alternating, each timing (wall and CPU of the process) its store's open and first
search, and the postings' build (when it happens) alone.

    python bench/first_search.py [--size 100000] [--runs 5] [--baseline main]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _search_corpus import DIMS, NAMESPACE, LookupEmbeddings, baseline_src, corpus, load

QUERY_COUNT = 20


def _index(size: int) -> Any:
    texts, queries, vectors = corpus(size, QUERY_COUNT)
    return (
        {"dims": DIMS, "embed": LookupEmbeddings(dict(zip(texts + queries, vectors)))},
        texts,
        queries,
    )


def child(path: Path, size: int) -> dict[str, float]:
    """One new process: open the store, search once; returns the times."""
    from langmem.stores import SqliteStore, _lexicon

    index, _, queries = _index(size)
    index["fields"] = ["text"]
    built: list[float] = []
    real = _lexicon.Lexicon._merge

    def timed(self: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        real(self, **kwargs)
        built.append(time.perf_counter() - started)

    _lexicon.Lexicon._merge = timed  # type: ignore[method-assign]
    wall, cpu = time.perf_counter(), time.process_time()
    with SqliteStore(path, index=index) as store:
        store.search(NAMESPACE, query=queries[0], limit=10)
        installed = bool(store._vectors is not None and store._vectors.installed)
    return {
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "postings": sum(built),
        "installed": float(installed),
    }


def _run(code: Path | None, path: Path, size: int) -> dict[str, float]:
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    command = [sys.executable, __file__, "--child", str(path), "--size", str(size)]
    out = subprocess.run(command, check=True, env=env, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", help="git ref whose src/ to measure beside this tree")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.size)))
        return
    from langmem.stores import SqliteStore

    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        index, texts, _ = _index(args.size)
        index["fields"] = ["text"]
        built = folder / "store.sqlite"
        with SqliteStore(built, index=index) as store:
            load(store, texts)
        trees: dict[str, Path | None] = {"this tree": repo / "src"}
        if args.baseline:
            trees = {f"{args.baseline} (baseline)": baseline_src(args.baseline, folder), **trees}
        files = {}
        for number, name in enumerate(trees):
            files[name] = folder / f"tree{number}.sqlite"
            shutil.copyfile(built, files[name])
            _run(trees[name], files[name], args.size)  # writes this tree's cache
        times: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(args.runs):
            for name in trees:
                times[name].append(_run(trees[name], files[name], args.size))
    print(
        f"first search of a new process, {args.size:,} items, cache written by the process"
        f" before; {args.runs} processes per tree, alternating; load average"
        f" {os.getloadavg()[0]:.2f}:"
    )
    for name, runs in times.items():
        installed = sum(run["installed"] for run in runs)
        print(
            f"  {name:<18} open + first search: wall median {_median(runs, 'wall'):.3f} s,"
            f" process CPU median {_median(runs, 'cpu'):.3f} s; of which building the word"
            f" postings {_median(runs, 'postings') * 1e3:.1f} ms (median);"
            f" matrix from the cache in {installed:.0f}/{len(runs)}"
        )


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


if __name__ == "__main__":
    main()
