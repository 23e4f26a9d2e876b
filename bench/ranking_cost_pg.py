"""What the ranking options cost per search on PostgreSQL: the default against the default with
supersede, with centering and with the learned fusion.

bench/search.py's corpus (short Zipf-worded texts, random 384-d vectors served by a lookup
"embedding", one namespace, plain values), stored in the PostgreSQL database at URL (it writes
into the namespace ``("bench",)``; use a scratch database, e.g. the one
``scripts/pg-test-server.sh start`` prints). The queries are searched with every ranking in
rotating order (load drifts hit all alike); prints p50 wall time and mean client CPU time per
search and, against the default, the median of the paired wall differences and the mean CPU
difference with its standard error. Check the printed load average.

    python bench/ranking_cost_pg.py URL [--items 10000] [--queries 110]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _search_corpus import DIMS, NAMESPACE, LookupEmbeddings, corpus, load

from langmem.stores import PostgresStore
from langmem.stores.ranking import Ranking

RANKINGS = {
    "default": Ranking(),
    "+ supersede": Ranking(supersede=0.3),
    "+ centering": Ranking(centering=0.1),
    "learned": Ranking(fusion="learned"),
    "+ restate": Ranking(restate=0.2),
    "+ restate + supersede": Ranking(restate=0.2, supersede=0.3),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=110)
    args = parser.parse_args()
    texts, queries, vectors = corpus(args.items, args.queries + 10)
    embed = LookupEmbeddings(dict(zip(texts + queries, vectors)))
    index: Any = {"dims": DIMS, "embed": embed, "fields": ["text"]}
    store = PostgresStore.from_url(args.url, index=index)
    try:
        print(f"loaded {args.items:,} items in {load(store, texts):.0f} s")
        for ranking in RANKINGS.values():  # warm the server's caches
            store.ranking = ranking
            for query in queries[:10]:
                store.search(NAMESPACE, query=query, limit=10)
        walls: dict[str, list[float]] = {label: [] for label in RANKINGS}
        cpus: dict[str, list[float]] = {label: [] for label in RANKINGS}
        for number, query in enumerate(queries[10:]):
            turn = number % len(RANKINGS)
            for label in list(RANKINGS)[turn:] + list(RANKINGS)[:turn]:
                store.ranking = RANKINGS[label]
                wall, cpu = time.perf_counter(), time.thread_time()
                store.search(NAMESPACE, query=query, limit=10)
                cpus[label].append(time.thread_time() - cpu)
                walls[label].append(time.perf_counter() - wall)
    finally:
        store.close()
    print(
        f"PostgreSQL, {args.items:,} items, {args.queries} queries, "
        f"1-min load average {os.getloadavg()[0]:.2f}:"
    )
    for label in RANKINGS:
        wall = statistics.median(np.asarray(walls[label]) - np.asarray(walls["default"]))
        cpu = np.asarray(cpus[label]) - np.asarray(cpus["default"])
        error = float(cpu.std(ddof=1) / np.sqrt(len(cpu))) if label != "default" else 0.0
        print(
            f"  {label:<12} wall p50 {statistics.median(walls[label]) * 1e3:.2f} ms, client CPU"
            f" mean {statistics.fmean(cpus[label]) * 1e3:.2f} ms; - default: wall median"
            f" {wall * 1e3:+.2f} ms, CPU {cpu.mean() * 1e3:+.3f} ms (s.e. {error * 1e3:.3f})"
        )


if __name__ == "__main__":
    main()
