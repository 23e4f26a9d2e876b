"""PostgreSQL ``list_namespaces``: LangGraph's SQL against langmem's listing, on one database.

langmem's ``PostgresStore`` lists namespaces itself (distinct prefixes from the database, then
the embedded store's rule in Python: match conditions, ``max_depth``, paging, langmem's own
``__langmem__`` records left out unless asked for); LangGraph's store does it all in SQL. This
measures what that costs. The database holds ``--users`` memory namespaces
``("memories", "user-N")`` with 4 items each, and for each the 4 change records langmem keeps
under ``("__langmem__", "history", "memories", "user-N")``: 8 items and 2 prefixes per user.

Three calls, each timed ``--repeat`` times on each store (p50 wall ms, and client CPU ms from
``time.process_time``, which the machine's load distorts less):

- ``all``: ``list_namespaces()`` (first page of 100);
- ``one``: ``list_namespaces(prefix=("memories", "user-42"), limit=1)`` (the CLI's check that
  a namespace exists);
- ``depth``: ``list_namespaces(max_depth=1)``.

The results differ on purpose where LangGraph lists langmem's records (``all``, ``depth``);
the count of namespaces each returned is printed.

    python bench/pg_namespaces.py [--url postgresql://...] [--users 5000] [--repeat 30]

Without ``--url`` it uses (and starts when needed) the test server of scripts/pg-test-server.sh
and a database ``langmem_bench_ns``, refilled each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from langgraph.store.postgres import PostgresStore as LangGraphStore  # noqa: E402

from langmem.stores import PostgresStore  # noqa: E402

DATABASE = "langmem_bench_ns"


def _server(url: str | None) -> str:
    if url:
        return url
    script = ROOT / "scripts" / "pg-test-server.sh"
    found = subprocess.run([str(script), "start"], capture_output=True, text=True, check=True)
    base = found.stdout.strip().splitlines()[-1]
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    return base.rsplit("/", 1)[0] + "/" + DATABASE


def _fill(url: str, users: int) -> None:
    with PostgresStore.from_url(url) as store, store._transaction() as cur:
        cur.execute("DELETE FROM store")
        cur.execute(
            "INSERT INTO store (prefix, key, value)"
            " SELECT p, 'k' || k, '{\"content\": \"x\"}'::jsonb"
            " FROM generate_series(0, %s - 1) AS u,"
            " LATERAL (VALUES ('memories.user-' || u),"
            " ('__langmem__.history.memories.user-' || u)) AS n(p),"
            " generate_series(1, 4) AS k",
            (users,),
        )
        cur.execute("ANALYZE store")


def _time(call: Callable[[], list[Any]], repeat: int) -> tuple[float, float, int]:
    call()  # warm: connection, plans, caches
    walls, cpus = [], []
    found: list[Any] = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        found = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1e3, statistics.median(cpus) * 1e3, len(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url")
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    url = _server(args.url)
    _fill(url, args.users)
    print(f"load average: {os.getloadavg()[0]:.2f} (1 min)")
    print(f"{args.users} users: {8 * args.users} items, {2 * args.users} prefixes")
    calls: dict[str, dict[str, Any]] = {
        "all": {},
        "one": {"prefix": ("memories", "user-42"), "limit": 1},
        "depth": {"max_depth": 1},
    }
    print(f"{'call':6} {'store':9} {'p50 ms':>8} {'cpu ms':>8} {'listed':>7}")
    with PostgresStore.from_url(url) as ours, LangGraphStore.from_conn_string(url) as theirs:
        for name, kwargs in calls.items():
            rows = []
            for label, store in (("langgraph", theirs), ("langmem", ours)):
                call = lambda s=store, kw=kwargs: s.list_namespaces(**kw)  # noqa: E731
                wall, cpu, count = _time(call, args.repeat)
                rows.append(wall)
                print(f"{name:6} {label:9} {wall:8.2f} {cpu:8.2f} {count:7d}")
            print(f"{name:6} {'ratio':9} {rows[1] / rows[0]:8.2f}  (langmem / langgraph, wall)")


if __name__ == "__main__":
    main()
