"""The cost of the re-ranking stage itself (``Ranking(rerank=...)``), with a re-ranker that costs
nothing, on the corpus of bench/search.py.

One store file of ``--size`` items (384-d vectors, Zipf texts) is searched (limit 10) by three
handles, interleaved query by query so that all three see the same machine load:

* ``no re-ranker``: the default ranking (the code path of every search without the stage);
* ``trivial re-ranker, depth D``: a function returning ``[0.0] * len(texts)`` (sync search),
  for each ``--depths`` value: the store ranks ``max(D, 10)`` results, reads their rows,
  builds each one's text, asks the function, checks its answer, orders and re-scores;
* ``trivial, async``: the same through ``asearch`` with an ``async def arerank``, against
  ``asearch`` without a re-ranker.

It prints p50 wall time and p50 CPU time of the calling thread per search (ms), and the
difference to the search without the stage: that difference is the stage's own overhead (what
a real re-ranker costs comes on top). Wall times on a loaded machine are inflated; the load
average is printed with the table.

    python bench/rerank_overhead.py [--size 10000] [--queries 300] [--depths 20 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _search_corpus import DIMS, NAMESPACE, LookupEmbeddings, corpus, load

from langmem.stores import SqliteStore
from langmem.stores.ranking import Ranking


def zeros(query: str, texts: Sequence[str]) -> list[float]:
    return [0.0] * len(texts)


class AsyncZeros:
    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        return [0.0] * len(texts)

    async def arerank(self, query: str, texts: Sequence[str]) -> list[float]:
        return [0.0] * len(texts)


def measure(
    searches: dict[str, Callable[[str], Any]], queries: list[str], rounds: int = 1
) -> dict[str, tuple[float, float]]:
    """p50 wall ms and p50 thread-CPU ms per search of each, interleaved query by query."""
    wall: dict[str, list[float]] = {name: [] for name in searches}
    cpu: dict[str, list[float]] = {name: [] for name in searches}
    for search in searches.values():
        search(queries[0])  # warm
    for _ in range(rounds):
        for query in queries:
            for name, search in searches.items():
                started, thread = time.perf_counter(), time.thread_time()
                search(query)
                wall[name].append((time.perf_counter() - started) * 1000)
                cpu[name].append((time.thread_time() - thread) * 1000)
    return {n: (statistics.median(wall[n]), statistics.median(cpu[n])) for n in searches}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--depths", type=int, nargs="+", default=[20, 50])
    args = parser.parse_args()
    texts, queries, vectors = corpus(args.size, args.queries)
    index: Any = {
        "dims": DIMS,
        "embed": LookupEmbeddings(dict(zip(texts + queries, vectors))),
        "fields": ["text"],
    }
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rerank.sqlite"
        with SqliteStore(path, index=index) as store:
            load(store, texts)
        handles = {"no re-ranker": SqliteStore(path, index=index)}
        for depth in args.depths:
            ranking = Ranking(rerank=zeros, rerank_depth=depth)
            handles[f"trivial re-ranker, depth {depth}"] = SqliteStore(
                path, index=index, ranking=ranking
            )
        searches = {
            name: (lambda q, s=handle: s.search(NAMESPACE, query=q, limit=10))
            for name, handle in handles.items()
        }
        sync = measure(searches, queries)

        plain_async = SqliteStore(path, index=index)
        reranked_async = SqliteStore(
            path, index=index, ranking=Ranking(rerank=AsyncZeros(), rerank_depth=args.depths[0])
        )
        loop = asyncio.new_event_loop()
        async_searches = {
            "asearch, no re-ranker": lambda q: loop.run_until_complete(
                plain_async.asearch(NAMESPACE, query=q, limit=10)
            ),
            f"asearch, async trivial re-ranker, depth {args.depths[0]}": lambda q: (
                loop.run_until_complete(reranked_async.asearch(NAMESPACE, query=q, limit=10))
            ),
        }
        measured_async = measure(async_searches, queries[: max(len(queries) // 3, 1)])
        loop.close()
        for handle in [*handles.values(), plain_async, reranked_async]:
            handle.close()

    load1, load5, _ = os.getloadavg()
    print(
        f"re-ranking stage overhead, {args.size:,} items, limit 10, {len(queries)} queries; "
        f"load average {load1:.2f} (1 min) {load5:.2f} (5 min)"
    )
    print(f"{'search':<44} {'p50 ms':>8} {'CPU ms':>8} {'+ wall':>8} {'+ CPU':>8}")
    for table in (sync, measured_async):
        base_wall, base_cpu = next(iter(table.values()))
        for name, (p50, cpu) in table.items():
            print(
                f"{name:<44} {p50:8.3f} {cpu:8.3f} {p50 - base_wall:+8.3f} {cpu - base_cpu:+8.3f}"
            )


if __name__ == "__main__":
    main()
