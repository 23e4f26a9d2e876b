"""What the default ranking's provenance rules cost per search: the default, and the default
with supersede, with centering, with the learned fusion or with restate (alone and with
supersede), against the default before them (thread boost 0.5, no recency) and the default.

bench/search.py's corpus (short Zipf-worded texts, random 384-d vectors served by a lookup
"embedding", one namespace), 10k and 100k items, stored twice: as bench/search.py stores them
(``{"text": ...}``: no thread, the time is the store's own ``created_at``) and as langmem's
memory tools write them (with ``thread_id`` and ``created_at`` in the value, 20 items a
thread, one a minute). 200 queries, each searched with both rankings in alternating order (load
drifts hit both alike); prints p50 wall time and mean CPU time of the calling thread per search
and the paired difference with its standard error. Check the printed load average: wall times
on a loaded machine are inflated, CPU times less.

    python bench/ranking_cost.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.store.base import PutOp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _search_corpus import DIMS, NAMESPACE, LookupEmbeddings, corpus, load

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


def measure(n: int, threaded: bool) -> None:
    texts, queries, vectors = corpus(n, 200)
    embed = LookupEmbeddings(dict(zip(texts + queries, vectors)))
    index: Any = {"dims": DIMS, "embed": embed, "fields": ["text"]}
    rankings = {
        "old default": OLD,
        "default": Ranking(),
        "+ supersede": dataclasses.replace(Ranking(), supersede=0.3),
        "+ centering": dataclasses.replace(Ranking(), centering=0.1),
        "learned": dataclasses.replace(Ranking(), fusion="learned"),
        "+ restate": dataclasses.replace(Ranking(), restate=0.2),
        "+ restate + supersede": dataclasses.replace(Ranking(), restate=0.2, supersede=0.3),
    }
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
    kind = "with thread_id and created_at" if threaded else "plain values"
    print(f"{n:,} items ({kind}), 200 queries, 1-min load average {os.getloadavg()[0]:.2f}:")
    for label in rankings:  # the order in which they ran alternates
        print(
            f"  {label:<22} wall p50 {statistics.median(walls[label]) * 1e3:.3f} ms,"
            f" CPU mean {statistics.fmean(cpus[label]) * 1e3:.3f} ms"
        )
    pairs = [(label, "old default") for label in ("default", "+ supersede", "+ centering")]
    pairs += [(label, "default") for label in rankings if label not in ("old default", "default")]
    for label, base in pairs:
        added = np.asarray(cpus[label]) - np.asarray(cpus[base])
        error = float(added.std(ddof=1) / np.sqrt(len(added)))
        wall = statistics.median(np.asarray(walls[label]) - np.asarray(walls[base]))
        print(
            f"  {label} - {base}: CPU {added.mean() * 1e3:+.3f} ms (s.e. {error * 1e3:.3f})"
            f" per search, wall median of the paired differences {wall * 1e3:+.3f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    for n in args.sizes:
        for threaded in (False, True):
            measure(n, threaded)


if __name__ == "__main__":
    main()
