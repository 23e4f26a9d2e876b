"""What checking the matrix cache for damage costs a new process (format 5, ``_snapshot``).

A new process reads the vector matrix from ``<file>-lmmatrix``; since format 5 it verifies a
CRC-32 of the header and a checksum of every section as it reads them (``_snapshot.Sum``). This
bench builds bench/search.py's corpus (20k and 100k items by default), copies the file for each
tree measured (``--baseline``, default 8f528ca: the code before the check, which trusted the
file), lets one process per tree write its cache (timing the write), then starts ``--runs`` new
processes per tree, alternating, each timing:

* ``load``: ``_snapshot.load`` alone (open the file, check it, read every array), wall and CPU
  (``time.process_time``) of the process;
* ``open+search``: opening the store and its first hybrid search, which includes the load.

The file is in the OS page cache in every run (it was just written): "cold" is a new process,
not a cold disk. Then, on this tree's 100k file, the checksums considered are timed the way the
load runs them (the file read in 512 KB pieces into one array, each piece summed while it is in
the CPU cache), best of ``--runs``: read alone, a plain 64-bit sum, ``_snapshot.Sum`` (what
format 5 uses), a word-weighted two-term sum, ``zlib.crc32`` and ``zlib.adler32``.

    python bench/matrix_cache.py [--sizes 20000 100000] [--runs 7] [--baseline 8f528ca]

Load averages are printed before and after; compare CPU times when the machine is busy.
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
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _search_corpus import DIMS, NAMESPACE, LookupEmbeddings, baseline_src, corpus, load

QUERY_COUNT = 5
PIECE = 1 << 19  # as _snapshot._CHUNK


def _index(size: int) -> tuple[Any, list[str], list[str]]:
    texts, queries, vectors = corpus(size, QUERY_COUNT)
    index: Any = {"dims": DIMS, "embed": LookupEmbeddings(dict(zip(texts + queries, vectors)))}
    index["fields"] = ["text"]
    return index, texts, queries


def _timed(module: Any, name: str, spent: list[tuple[float, float]]) -> None:
    real = getattr(module, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - wall, time.process_time() - cpu))

    setattr(module, name, timed)


def child(path: Path, size: int) -> dict[str, float]:
    """One new process: open the store, search once; returns the times."""
    from langmem.stores import SqliteStore, _snapshot

    index, _, queries = _index(size)
    loads: list[tuple[float, float]] = []
    saves: list[tuple[float, float]] = []
    _timed(_snapshot, "load", loads)
    _timed(_snapshot, "save", saves)
    wall, cpu = time.perf_counter(), time.process_time()
    with SqliteStore(path, index=index) as store:
        store.search(NAMESPACE, query=queries[0], limit=10)
        installed = bool(store._vectors is not None and store._vectors.installed)
        total = (time.perf_counter() - wall, time.process_time() - cpu)
    return {
        "wall": total[0],
        "cpu": total[1],
        "load_wall": sum(w for w, _ in loads),
        "load_cpu": sum(c for _, c in loads),
        "save_wall": sum(w for w, _ in saves),
        "save_cpu": sum(c for _, c in saves),
        "installed": float(installed),
    }


def _run(code: Path, path: Path, size: int) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(code))
    command = [sys.executable, __file__, "--child", str(path), "--size", str(size)]
    out = subprocess.run(command, check=True, env=env, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def _loads(folder: Path, size: int, trees: dict[str, Path], runs: int) -> None:
    from langmem.stores import SqliteStore

    index, texts, _ = _index(size)
    built = folder / f"store-{size}.sqlite"
    with SqliteStore(built, index=index) as store:
        load(store, texts)
    files: dict[str, Path] = {}
    written: dict[str, dict[str, float]] = {}
    for number, name in enumerate(trees):
        files[name] = folder / f"tree{number}-{size}.sqlite"
        shutil.copyfile(built, files[name])
        written[name] = _run(trees[name], files[name], size)  # loads from SQLite, writes
    times: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(runs):
        for name in trees:
            times[name].append(_run(trees[name], files[name], size))
    print(f"\n{size:,} items ({DIMS}-d), {runs} new processes per tree, alternating (medians):")
    for name, measured in times.items():
        cache = Path(f"{files[name]}-lmmatrix")
        megabytes = cache.stat().st_size / 1e6 if cache.exists() else 0.0
        installed = sum(run["installed"] for run in measured)
        print(
            f"  {name:<22} load wall {_median(measured, 'load_wall') * 1e3:6.1f} ms, CPU"
            f" {_median(measured, 'load_cpu') * 1e3:6.1f} ms | open+search wall"
            f" {_median(measured, 'wall') * 1e3:6.1f} ms, CPU {_median(measured, 'cpu') * 1e3:6.1f}"
            f" ms | from the cache in {installed:.0f}/{len(measured)} | writing the cache (once)"
            f" {written[name]['save_cpu'] * 1e3:.0f} ms CPU | file {megabytes:.0f} MB"
        )
    if len(times) == 2:
        (base, old), (_, new) = times.items()
        print(f"  ratio this tree / {base}: ", end="")
        print(
            ", ".join(
                f"{key} {_median(new, key) / _median(old, key):.2f}"
                for key in ("load_wall", "load_cpu", "wall", "cpu")
            )
        )
    if size == max(_sizes) and Path(f"{files[list(trees)[-1]]}-lmmatrix").exists():
        _kernels(files[list(trees)[-1]], runs)


def _kernels(store_file: Path, runs: int) -> None:
    """Each checksum, run as the load runs it, on one cache file."""
    from langmem.stores._snapshot import Sum

    path = Path(f"{store_file}-lmmatrix")
    size = path.stat().st_size
    weights = np.random.default_rng(1).integers(0, 2**63, PIECE // 8, dtype=np.uint64) * 2 + 1
    scratch = np.empty(PIECE // 8, dtype=np.uint64)

    def plain(piece: Any, state: list[Any]) -> None:
        state[0] += int(np.frombuffer(piece, "<u8").sum(dtype=np.uint64))

    def ours(piece: Any, state: list[Any]) -> None:
        state[1].update(piece)

    def weighted(piece: Any, state: list[Any]) -> None:
        words = np.frombuffer(piece, "<u8")
        state[0] += int(words.sum(dtype=np.uint64))
        part = scratch[: len(words)]
        np.multiply(words, weights[: len(words)], out=part)
        state[0] += int(part.sum(dtype=np.uint64))

    def crc(piece: Any, state: list[Any]) -> None:
        state[0] = zlib.crc32(piece, state[0])

    def adler(piece: Any, state: list[Any]) -> None:
        state[0] = zlib.adler32(piece, state[0])

    def nothing(piece: Any, state: list[Any]) -> None:
        return None

    kernels: dict[str, Callable[[Any, list[Any]], None]] = {
        "read alone": nothing,
        "plain 64-bit sum": plain,
        "_snapshot.Sum (format 5)": ours,
        "word-weighted 2-term sum": weighted,
        "zlib.crc32": crc,
        "zlib.adler32": adler,
    }
    whole = size - size % 8  # whole words (the plain and weighted sums read 64-bit words)
    best: dict[str, tuple[float, float]] = {}
    for _ in range(runs):
        for name, kernel in kernels.items():
            data = np.empty(whole, dtype=np.uint8)
            view = memoryview(data)  # type: ignore[arg-type]
            state: list[Any] = [0, Sum()]
            wall, cpu = time.perf_counter(), time.process_time()
            with open(path, "rb") as stream:
                for at in range(0, whole, PIECE):
                    piece = view[at : at + PIECE]
                    stream.readinto(piece)
                    kernel(piece, state)
            spent = (time.perf_counter() - wall, time.process_time() - cpu)
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], spent[0]), min(old[1], spent[1]))
    base = best["read alone"][1]
    print(
        f"\nchecksums over this tree's {size / 1e6:.0f} MB cache file, read in"
        f" {PIECE >> 10} KB pieces and summed in the CPU cache (best of {runs}):"
    )
    for name, (wall, cpu) in best.items():
        print(
            f"  {name:<26} wall {wall * 1e3:6.1f} ms, CPU {cpu * 1e3:6.1f} ms"
            f" (+{(cpu - base) * 1e3:5.1f} ms CPU over the read)"
        )


_sizes: list[int] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", default="8f528ca", help="git ref ('' for none)")
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.size)))
        return
    _sizes.extend(args.sizes)
    repo = Path(__file__).resolve().parent.parent
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        trees: dict[str, Path] = {}
        if args.baseline:
            trees[f"{args.baseline} (baseline)"] = baseline_src(args.baseline, folder)
        trees["this tree"] = repo / "src"
        for size in args.sizes:
            _loads(folder, size, trees, args.runs)
    print(f"\nload average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
