"""What the default ranking's provenance rules cost per search: the default, and the default
with supersede, with centering, with the learned fusion or with restate (alone and with
supersede), against the default (and the default against the default before them: thread boost
0.5, no recency).

bench/search.py's corpus (short Zipf-worded texts, random 384-d vectors served by a lookup
"embedding", one namespace), 10k and 100k items, stored twice: as bench/search.py stores them
(``{"text": ...}``: no thread, the time is the store's own ``created_at``) and as langmem's
memory tools write them (with ``thread_id`` and ``created_at`` in the value, 20 items a
thread, one a minute). 200 queries, each searched with both rankings in alternating order (load
drifts hit both alike); prints p50 wall time and mean CPU time of the calling thread per search
and the paired difference with its standard error. Check the printed load average: wall times
on a loaded machine are inflated, CPU times less.

``--baseline REF`` also runs the same measurements on ``src/`` of git ``REF`` (extracted to a
temporary folder, in a subprocess, just before ours) and prints what each option adds over the
default in both, side by side, and the ratio; an option the baseline's ``Ranking`` lacks
(restate before session 7) is measured in this tree only.

    python bench/ranking_cost.py [--sizes 10000 100000] [--baseline main] [--plain|--threaded]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.store.base import PutOp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _search_corpus import DIMS, NAMESPACE, LookupEmbeddings, baseline_src, corpus, load

from langmem.stores import SqliteStore
from langmem.stores.ranking import Ranking

OLD = dataclasses.replace(
    Ranking(), thread_boost=0.5, recency_weight=0.0, recency_half_life=30 * 86400.0, supersede=0.0
)


def _load_threaded(store: SqliteStore, texts: list[str], chunk: int = 2000) -> None:
    start = datetime(2025, 1, 1)
    for first in range(0, len(texts), chunk):
        ops = []
        for i in range(first, min(first + chunk, len(texts))):
            at = (start + timedelta(minutes=i)).isoformat()
            value = {"text": texts[i], "thread_id": f"t{i // 20}", "created_at": at}
            ops.append(PutOp(NAMESPACE, f"k{i}", value))
        store.batch(ops)


def measure(n: int, threaded: bool) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU seconds (calling thread) of each search, by ranking."""
    texts, queries, vectors = corpus(n, 200)
    embed = LookupEmbeddings(dict(zip(texts + queries, vectors)))
    index: Any = {"dims": DIMS, "embed": embed, "fields": ["text"]}
    rankings = {
        "old default": OLD,
        "default": Ranking(),
        "+ supersede": dataclasses.replace(Ranking(), supersede=0.3),
        "+ centering": dataclasses.replace(Ranking(), centering=0.1),
        "learned": dataclasses.replace(Ranking(), fusion="learned"),
    }
    if "restate" in {f.name for f in dataclasses.fields(Ranking)}:  # since session 7
        rankings["+ restate"] = dataclasses.replace(Ranking(), restate=0.2)
        rankings["+ restate + supersede"] = dataclasses.replace(
            Ranking(), restate=0.2, supersede=0.3
        )
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "s.sqlite", index=index)
        if threaded:
            _load_threaded(store, texts)
        else:
            load(store, texts)
        for ranking in rankings.values():  # warm caches (term forms, origins)
            store.ranking = ranking
            for query in queries[:20]:
                store.search(NAMESPACE, query=query, limit=10)
        walls: dict[str, list[float]] = {label: [] for label in rankings}
        cpus: dict[str, list[float]] = {label: [] for label in rankings}
        for number, query in enumerate(queries):
            turn = number % len(rankings)
            order = list(rankings)[turn:] + list(rankings)[:turn]
            for label in order:
                store.ranking = rankings[label]
                wall, cpu = time.perf_counter(), time.thread_time()
                store.search(NAMESPACE, query=query, limit=10)
                cpus[label].append(time.thread_time() - cpu)
                walls[label].append(time.perf_counter() - wall)
        store.close()
    return {label: {"wall": walls[label], "cpu": cpus[label]} for label in rankings}


def report(n: int, threaded: bool, runs: dict[str, dict[str, dict[str, list[float]]]]) -> None:
    """Print each run's times per ranking, what each option adds over the default (paired per
    query), and ours against the baseline's."""
    kind = "with thread_id and created_at" if threaded else "plain values"
    print(f"{n:,} items ({kind}), 200 queries, 1-min load average {os.getloadavg()[0]:.2f}:")
    added: dict[str, dict[str, float]] = {}
    for name, times in runs.items():
        print(f"  {name}:")
        for label, measured in times.items():  # the order in which they ran alternates
            print(
                f"    {label:<21} wall p50 {statistics.median(measured['wall']) * 1e3:.3f} ms,"
                f" CPU mean {statistics.fmean(measured['cpu']) * 1e3:.3f} ms"
            )
        for label in [label for label in times if label != "old default"]:
            against = "old default" if label == "default" else "default"
            more = np.asarray(times[label]["cpu"]) - np.asarray(times[against]["cpu"])
            error = float(more.std(ddof=1) / np.sqrt(len(more)))
            wall = statistics.median(
                np.asarray(times[label]["wall"]) - np.asarray(times[against]["wall"])
            )
            added.setdefault(label, {})[name] = float(more.mean())
            print(
                f"    {label} - {against}: CPU {more.mean() * 1e3:+.3f} ms (s.e."
                f" {error * 1e3:.3f}) per search, wall median of the paired differences"
                f" {wall * 1e3:+.3f} ms"
            )
    if len(runs) == 2:
        base, ours = runs
        print(f"  CPU per search each option adds over the default: {base} -> {ours}")
        for label, by_run in added.items():
            if label == "default":
                continue
            after = by_run[ours]
            if base not in by_run:
                print(f"    {label:<21} (not in the baseline) -> {after * 1e3:+.3f} ms")
                continue
            before = by_run[base]
            ratio = f"{before / after:.1f}x less" if after > 0 else "no cost left"
            print(f"    {label:<21} {before * 1e3:+.3f} ms -> {after * 1e3:+.3f} ms ({ratio})")
        for label in ("default", "learned"):
            before = statistics.fmean(runs[base][label]["cpu"])
            after = statistics.fmean(runs[ours][label]["cpu"])
            print(
                f"    {label} CPU mean {before * 1e3:.3f} -> {after * 1e3:.3f} ms"
                f" ({before / after:.2f}x)"
            )


def baseline(ref: str, n: int, threaded: bool, folder: Path) -> Any:
    """:func:`measure` on ``src/`` of git ``ref`` (a subprocess)."""
    out = folder / "baseline.json"
    env = dict(os.environ, PYTHONPATH=str(baseline_src(ref, folder)))
    command = [sys.executable, __file__, "--sizes", str(n), "--json", str(out)]
    command += ["--threaded"] if threaded else ["--plain"]
    subprocess.run(command, check=True, env=env)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--baseline", help="git ref whose src/ to measure beside this tree")
    parser.add_argument("--plain", action="store_true", help="only the plain values")
    parser.add_argument("--threaded", action="store_true", help="only the threaded values")
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # for --baseline
    args = parser.parse_args()
    kinds = [False, True]
    if args.plain != args.threaded:
        kinds = [args.threaded]
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            for threaded in kinds:
                if args.json is not None:
                    args.json.write_text(json.dumps(measure(n, threaded)))
                    return
                runs = {}
                if args.baseline:  # just before ours: both see about the same machine load
                    runs[f"{args.baseline} (baseline)"] = baseline(
                        args.baseline, n, threaded, Path(tmp)
                    )
                runs["this tree"] = measure(n, threaded)
                report(n, threaded, runs)
                sys.stdout.flush()


if __name__ == "__main__":
    main()
