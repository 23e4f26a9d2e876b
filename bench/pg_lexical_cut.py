"""What PostgreSQL's lexical candidates cost per search, this tree against a git ref (``main``).

Since session 8 the PostgreSQL store takes the lexical candidates as the embedded store does when
the query's rarer words match more texts than it takes: the best of the whole store by FTS5's
``bm25()``, then the allowed ones (before: the best of the namespace by the ranking's BM25). This
bench measures what that costs: bench/search.py's corpus (short Zipf-worded texts, random 384-d
vectors served by a lookup "embedding") in the PostgreSQL database at URL, in ``--namespaces``
namespaces (item i in ``("lexcut", "u{i % K}")``), searched in ``("lexcut", "u0")`` with the
default ranking, limit 10, by a child process on this tree's code and one on ``--against``'s,
in alternating order for ``--rounds`` rounds (load drifts hit both alike).

Prints, per side: p50 wall time and mean client CPU time (``time.thread_time``) per search, the
median of the paired wall differences, and how many queries took the "best of many" path (the
others read every match, as before). Check the printed load averages: the machine is shared.

    python bench/pg_lexical_cut.py URL [--items 10000] [--namespaces 1] [--queries 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _search_corpus import DIMS, LookupEmbeddings, baseline_src, corpus
from langgraph.store.base import PutOp

ROOT = "lexcut"


def _store(url: str, items: int, queries: int) -> tuple[Any, list[str]]:
    from langmem.stores import PostgresStore

    texts, asked, vectors = corpus(items, queries + 10)
    embed = LookupEmbeddings(dict(zip(texts + asked, vectors)))
    index: Any = {"dims": DIMS, "embed": embed, "fields": ["text"]}
    return PostgresStore.from_url(url, index=index), asked


def _child(url: str, items: int, queries: int) -> None:
    store, asked = _store(url, items, queries)
    try:
        for query in asked[:10]:  # warm the server's caches
            store.search((ROOT, "u0"), query=query, limit=10)
        walls, cpus = [], []
        for query in asked[10:]:
            wall, cpu = time.perf_counter(), time.thread_time()
            store.search((ROOT, "u0"), query=query, limit=10)
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
    finally:
        store.close()
    print(json.dumps({"walls": walls, "cpus": cpus}))


def _load(url: str, items: int, queries: int, namespaces: int) -> int:
    """Store the corpus (once per database and size); return how many queries take the
    "best of many" path."""
    from langmem.stores import ranking as rules
    from langmem.stores._search import COMMON_FLOOR, COMMON_SHARE

    store, asked = _store(url, items, queries)
    texts, _, _ = corpus(items, queries + 10)
    try:
        with store._transaction() as cur:
            cur.execute(
                "SELECT count(*) AS n, count(DISTINCT prefix) AS spaces FROM store"
                " WHERE prefix LIKE %s",
                (f"{ROOT}.%",),
            )
            row = cur.fetchone()
        if (int(row["n"]), int(row["spaces"])) != (items, min(namespaces, items)):
            with store._transaction() as cur:
                cur.execute("DELETE FROM store WHERE prefix LIKE %s", (f"{ROOT}.%",))
            for start in range(0, items, 2000):
                store.batch(
                    [
                        PutOp((ROOT, f"u{i % namespaces}"), f"k{i}", {"text": texts[i]})
                        for i in range(start, min(start + 2000, items))
                    ]
                )
        cut = 0
        with store._transaction() as cur:
            documents, _, _ = store.word_counts.documents(cur)
            common = max(COMMON_SHARE * documents, COMMON_FLOOR)
            for query in asked[10:]:
                words = [w for t in rules.query_terms(query) for w in rules.forms(t)]
                counts = store.word_counts.count(cur, words)
                cut += sum(n for n in counts.values() if 0 < n <= common) > 30
        return cut
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--namespaces", type=int, default=1)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", default="main")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.url, args.items, args.queries)
        return
    cut = _load(args.url, args.items, args.queries, args.namespaces)
    here = str(Path(__file__).resolve().parent.parent / "src")
    with tempfile.TemporaryDirectory() as folder:
        sides = {"this tree": here, args.against: str(baseline_src(args.against, Path(folder)))}
        walls: dict[str, list[float]] = {side: [] for side in sides}
        cpus: dict[str, list[float]] = {side: [] for side in sides}
        loads = [os.getloadavg()[0]]
        for number in range(args.rounds):
            order = list(sides) if number % 2 == 0 else list(sides)[::-1]
            for side in order:
                found = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        args.url,
                        "--child",
                        "--items",
                        str(args.items),
                        "--queries",
                        str(args.queries),
                    ],
                    env={**os.environ, "PYTHONPATH": sides[side]},
                    capture_output=True,
                    text=True,
                    check=True,
                )
                measured = json.loads(found.stdout.strip().splitlines()[-1])
                walls[side] += measured["walls"]
                cpus[side] += measured["cpus"]
            loads.append(os.getloadavg()[0])
    print(
        f"PostgreSQL, {args.items:,} items in {args.namespaces} namespace(s), searching one;"
        f" {args.queries} queries x {args.rounds} rounds; {cut} of {args.queries} queries take"
        f" the best-of-many path; 1-min load average {min(loads):.2f}-{max(loads):.2f}"
    )
    base = args.against
    for side in sides:
        paired = statistics.median(a - b for a, b in zip(walls[side], walls[base]))
        print(
            f"  {side:<10} wall p50 {statistics.median(walls[side]) * 1e3:.2f} ms, client CPU"
            f" mean {statistics.fmean(cpus[side]) * 1e3:.2f} ms; - {base}: paired wall median"
            f" {paired * 1e3:+.2f} ms"
        )


if __name__ == "__main__":
    main()
