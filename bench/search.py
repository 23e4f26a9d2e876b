"""Search latency of the embedded store against LangGraph's InMemoryStore and SqliteStore.

Stores hold 10k and 100k items (384-d vectors, short texts with a Zipf vocabulary); every store
gets the same precomputed vectors through one lookup "embedding", so only search is timed.
Reports p50/p95 wall time per query (limit 10) for ours (hybrid, the default; and dense only),
the CPU time per query (p50 of the calling thread's time; the process's, worker included, beside
it for ours), where the hybrid search's time goes (mean wall and thread-CPU time per search of
each stage on the calling thread, measured on a new handle whose caches start cold like the
timed one's; when the machine has a core to spare the worker thread computes part of the cosines
meanwhile, and the bench says in how many searches it did), checks that our dense top 10 equals
a brute-force numpy top 10 (exact search), and prints baseline/ours ratios. The machine's load
average is printed with every table: wall times on a loaded machine are inflated, CPU times
less.
Targets: p50 <= 1 ms at 10k and <= 10 ms at 100k.

``--baseline REF`` also runs the same measurements on ``src/`` of git ``REF`` (e.g. ``main``,
extracted to a temporary folder, in a subprocess, just before ours at each size so both see
the same machine load) and prints them side by side: p50/p95 wall and CPU per search, hybrid
and dense only, and the write throughput of loading the store (items per second of
``batch`` puts of 2,000 items, embedding excluded).

    python bench/search.py [--sizes 10000 100000] [--baseline main] [--ours-only]
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _search_corpus import DIMS, NAMESPACE, LookupEmbeddings, baseline_src, corpus, load
from langchain_core.embeddings import Embeddings
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from langmem.stores import SqliteStore, _cosines

Row = tuple[str, float, float, float, float, float | None]
"""store, p50 ms, p95 ms, load s, thread CPU p50 ms, process CPU p50 ms (ours only)."""


def timed(search: Callable[[str], Any], queries: list[str]) -> tuple[float, float, float, float]:
    """p50 and p95 wall ms, p50 CPU ms of this thread and of the process (all threads)."""
    search(queries[0])  # warm (first load of the matrix, caches)
    samples, thread_cpu, process_cpu = [], [], []
    for query in queries:
        started, thread, process = time.perf_counter(), time.thread_time(), time.process_time()
        search(query)
        samples.append((time.perf_counter() - started) * 1000)
        thread_cpu.append((time.thread_time() - thread) * 1000)
        process_cpu.append((time.process_time() - process) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    return (
        statistics.median(samples),
        p95,
        statistics.median(thread_cpu),
        statistics.median(process_cpu),
    )


STAGES = {
    "index check + matrix sync": ("_sqlite", "SqliteStore._check"),
    "cosines + lexical side (overlapped)": ("_cosines", "cosines_beside"),
    "lexical side (FTS5)": ("_search", "_lexical_side"),
    "lexical side (in memory)": ("_hybrid", "_memory_side"),
    "top rows by cosine": ("_vectors", "VectorIndex.best"),
    "provenance (thread, time)": ("_search", "_provenance"),
    "provenance (in memory)": ("_hybrid", "_provenance"),
    "query terms in candidate texts": ("_search", "_documents"),
    "query terms in candidate texts (arrays)": ("_hybrid", "_held"),
    "fusion + order (ranking)": ("ranking", "ranked_items"),
    "fusion + order (arrays)": ("_fused", "ranked"),
    "stored rows of the hits": ("_reads", "Reader._rows"),
    "results (JSON values, timestamps)": ("_reads", "_item"),
}
"""Stage -> where it is timed (module of ``langmem.stores``, attribute; stages the code under
test lacks are left out). A stage that runs inside another counts as part of it (shown below it
as "of which"), not on its own line."""
OTHER = "everything else (batch, plan, transaction, merge)"
NESTED = " / "


def _stage_places() -> dict[str, tuple[Any, str]]:
    """Each stage of :data:`STAGES` the code under test has, as (owner, attribute name)."""
    places: dict[str, tuple[Any, str]] = {}
    for name, (module, path) in STAGES.items():
        try:
            owner: Any = importlib.import_module(f"langmem.stores.{module}")
        except ImportError:
            continue
        *outer, attr = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        if attr in owner.__dict__:
            places[name] = (owner, attr)
    return places


def breakdown(search: Callable[[str], Any], queries: list[str]) -> dict[str, tuple[float, float]]:
    """Mean wall and thread-CPU microseconds per search spent in each stage on the calling
    thread (wrapped while measuring; ``"outer / inner"`` for a stage inside another), the rest
    of the search's time as :data:`OTHER`, and the whole search. CPU time (``thread_time_ns``)
    is what the machine's other load distorts least; reading it costs ~1 us per stage call."""
    spent: dict[str, list[float]] = {}
    active: list[str] = []
    caller = threading.get_ident()
    places = _stage_places()
    originals = {name: owner.__dict__[attr] for name, (owner, attr) in places.items()}
    clock, cpu_clock = time.perf_counter_ns, time.thread_time_ns

    def wrap(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(real)
        def timing(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() != caller:  # the worker's part: not this thread's time
                return real(*args, **kwargs)
            key = f"{active[0]}{NESTED}{name}" if active else name
            active.append(name)
            started, cpu = clock(), cpu_clock()
            try:
                return real(*args, **kwargs)
            finally:
                total = spent.setdefault(key, [0.0, 0.0])
                total[0] += clock() - started
                total[1] += cpu_clock() - cpu
                active.pop()

        return timing

    whole = [0.0, 0.0]
    try:
        for name, (owner, attr) in places.items():
            real = originals[name]
            if isinstance(real, staticmethod):
                setattr(owner, attr, staticmethod(wrap(name, real.__func__)))
            else:
                setattr(owner, attr, wrap(name, real))
        for query in queries:
            started, cpu = clock(), cpu_clock()
            search(query)
            whole[0] += clock() - started
            whole[1] += cpu_clock() - cpu
    finally:
        for name, (owner, attr) in places.items():
            setattr(owner, attr, originals[name])
    per = len(queries) * 1e3  # ns -> us per search
    out: dict[str, tuple[float, float]] = {}
    for name in places:  # each stage, then what ran inside it
        for key in sorted(spent, key=lambda k: k != name):
            if key == name or key.startswith(name + NESTED):
                out[key] = (spent[key][0] / per, spent[key][1] / per)
    top = [sum(times[i] for key, times in out.items() if NESTED not in key) for i in (0, 1)]
    out[OTHER] = (whole[0] / per - top[0], whole[1] / per - top[1])
    out["whole search"] = (whole[0] / per, whole[1] / per)
    return out


def sharing() -> Callable[[], str]:
    """Counts, from now on, how many searches handed the cosines to the worker thread (the
    store decides from the machine's load: see ``langmem.stores._cosines``)."""
    real = _cosines.overlaps
    decisions: list[bool] = []

    def counting(vectors: Any) -> bool:
        decided = real(vectors)
        decisions.append(decided)
        return decided

    _cosines.overlaps = counting

    def report() -> str:
        _cosines.overlaps = real
        return f"{sum(decisions)}/{len(decisions)}"

    return report


def in_memory(texts: list[str], queries: list[str], index: Any) -> Row:
    store = InMemoryStore(index=index)
    load_s = load(store, texts)
    p50, p95, cpu, _ = timed(lambda q: store.search(NAMESPACE, query=q, limit=10), queries)
    return "LangGraph InMemoryStore", p50, p95, load_s, cpu, None


def langgraph_sqlite(path: Path, embed: Embeddings) -> BaseStore | None:
    try:
        from langgraph.store.sqlite import SqliteStore as LangGraphSqliteStore
    except ImportError:
        print("  LangGraph SqliteStore: not installed (pip install langgraph-checkpoint-sqlite)")
        return None
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    store = LangGraphSqliteStore(conn, index={"dims": DIMS, "embed": embed, "fields": ["text"]})
    try:
        store.setup()  # vector search needs the sqlite-vec loadable extension
    except (AttributeError, sqlite3.OperationalError) as exc:
        print(f"  LangGraph SqliteStore: does not load with this Python's sqlite3 ({exc})")
        return None
    return store


def run(
    n: int, folder: Path, *, others: bool = True
) -> tuple[list[Row], dict[str, tuple[float, float]]]:
    queries_n = 200
    texts, queries, vectors = corpus(n, queries_n)
    table = dict(zip(texts + queries, vectors))
    embed = LookupEmbeddings(table)
    index: Any = {"dims": DIMS, "embed": embed, "fields": ["text"]}
    rows: list[Row] = []

    ours = SqliteStore(folder / f"ours-{n}.sqlite", index=index)
    load_s = load(ours, texts)
    shared = sharing()
    p50, p95, cpu, process = timed(lambda q: ours.search(NAMESPACE, query=q, limit=10), queries)
    rows.append(("langmem SqliteStore (hybrid, default)", p50, p95, load_s, cpu, process))
    print(f"  cosines on the worker thread in {shared()} of the hybrid searches")
    # the stages on a new handle: its caches start as cold as the timed handle's did
    with SqliteStore(folder / f"ours-{n}.sqlite", index=index) as fresh:
        fresh.search(NAMESPACE, query=queries[0], limit=10)  # loads the matrix
        stages = breakdown(lambda q: fresh.search(NAMESPACE, query=q, limit=10), queries)
    dense = SqliteStore(folder / f"ours-{n}.sqlite", index=index, hybrid=False)
    p50, p95, cpu, process = timed(lambda q: dense.search(NAMESPACE, query=q, limit=10), queries)
    rows.append(("langmem SqliteStore (dense only)", p50, p95, load_s, cpu, process))

    matrix = vectors[:n]
    exact = 0
    for i, query in enumerate(queries[:20]):
        truth = set(np.argsort(-(matrix @ vectors[n + i]))[:10].tolist())
        got = {int(hit.key[1:]) for hit in dense.search(NAMESPACE, query=query, limit=10)}
        exact += got == truth
    print(f"  exact search check: {exact}/20 dense top-10 lists equal numpy brute force")
    ours.close()
    dense.close()
    gc.collect()
    if not others:
        return rows, stages

    few = queries[: 5 if n >= 100_000 else 20]
    rows.append(in_memory(texts, few, index))
    gc.collect()

    theirs = langgraph_sqlite(folder / f"langgraph-{n}.sqlite", embed)
    if theirs is not None:
        load_s = load(theirs, texts)
        p50, p95, cpu, _ = timed(lambda q: theirs.search(NAMESPACE, query=q, limit=10), few)
        rows.append(("LangGraph SqliteStore", p50, p95, load_s, cpu, None))
    return rows, stages


def baseline(ref: str, n: int, folder: Path) -> list[Row]:
    """The hybrid and dense rows of this bench run on ``src/`` of git ``ref`` (a subprocess)."""
    out = folder / f"baseline-{n}.json"
    env = dict(os.environ, PYTHONPATH=str(baseline_src(ref, folder)))
    command = [sys.executable, __file__, "--sizes", str(n), "--ours-only", "--json", str(out)]
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return [tuple(row) for row in json.loads(out.read_text())]  # type: ignore[misc]


def side_by_side(ref: str, n: int, theirs: list[Row], ours: list[Row]) -> None:
    print(f"  {ref} (baseline) against this tree, same machine, run one after the other:")
    print(f"  {'':<36}{'p50 ms':>8}{'p95 ms':>8}{'cpu ms':>8}   {'ratio p50':>9}{'ratio cpu':>10}")
    for (name, p50, p95, _, cpu, _), (_, p50b, p95b, _, cpub, _) in zip(theirs, ours):
        short = name.replace("langmem SqliteStore ", "")
        print(f"  {ref + ' ' + short:<36}{p50:>8.3f}{p95:>8.3f}{cpu:>8.3f}")
        print(
            f"  {'this tree ' + short:<36}{p50b:>8.3f}{p95b:>8.3f}{cpub:>8.3f}"
            f"   {p50 / p50b:>8.2f}x{cpu / cpub:>9.2f}x"
        )
    rate, mine = n / theirs[0][3], n / ours[0][3]
    print(
        f"  writes (loading {n:,} items in batches of 2,000): {ref} {rate:,.0f} items/s,"
        f" this tree {mine:,.0f} items/s ({mine / rate:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--baseline", help="git ref whose src/ to measure beside this tree")
    parser.add_argument("--ours-only", action="store_true", help="skip LangGraph's stores (faster)")
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)  # rows, for --baseline
    args = parser.parse_args()
    targets = {10_000: 1.0, 100_000: 10.0}
    all_ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            print(f"search, {n:,} items x {DIMS} dims, limit 10 ({os.cpu_count()} cores):")
            before = os.getloadavg()[0]
            theirs = baseline(args.baseline, n, Path(tmp)) if args.baseline else None
            rows, stages = run(n, Path(tmp), others=not (args.ours_only or args.json))
            after = os.getloadavg()[0]
            if args.json is not None:
                args.json.write_text(json.dumps(rows))
                return
            print(f"  load average (1 min) {before:.2f} before, {after:.2f} after this table")
            ours_p50 = rows[0][1]
            header = f"{'p50 ms':>9}{'p95 ms':>9}{'cpu ms':>8}{'proc ms':>9}{'load s':>8}"
            print(f"  {'store':<40}{header}{'p50 / ours':>12}")
            for name, p50, p95, load_s, cpu, process in rows:
                shown = f"{process:>9.3f}" if process is not None else f"{'':>9}"
                print(
                    f"  {name:<40}{p50:>9.3f}{p95:>9.3f}{cpu:>8.3f}{shown}{load_s:>8.1f}"
                    f"{p50 / ours_p50:>12.1f}"
                )
            print(
                "  (cpu: the calling thread's CPU time per search, p50; proc: the whole process's)"
            )
            print(
                "  hybrid search (new handle), mean us per search on the calling thread"
                f" (wall, thread CPU; load {os.getloadavg()[0]:.2f}):"
            )
            for stage, (micros, cpu_micros) in stages.items():
                label = f"  of which {stage.split(NESTED)[-1]}" if NESTED in stage else stage
                print(f"    {label:<50}{micros:>8.1f}{cpu_micros:>8.1f}")
            if theirs is not None:
                side_by_side(args.baseline, n, theirs, rows)
            target = targets.get(n)
            if target is not None:
                ok = ours_p50 <= target
                all_ok &= ok
                print(f"  target p50 <= {target:g} ms: {'met' if ok else 'MISSED'}")
            sys.stdout.flush()
    print("all targets met" if all_ok else "some target MISSED")


if __name__ == "__main__":
    main()
