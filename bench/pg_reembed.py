"""PostgreSQL: what the index check costs a search, and how long a re-embed takes.

One database with ``--items`` items (short texts, hashing embeddings, 384-d) in 20 namespaces.

1. Search: the same 300 hybrid queries (limit 10, one namespace of 5 % of the items), run
   alternately with the index check (``langmem_index_check`` in the search's pipeline, the
   default) and without it (the check turned off on the handle), p50/p95 wall time and client
   CPU per search (``time.thread_time``; the server's time is in the wall time only).
2. Re-embed to 256-d hashing embeddings (new dims: the column type changes), again to 256-d
   (same dims), and back to 384-d, batch 256: staging (embedding + committing each batch) and
   swap times.

    python bench/pg_reembed.py [--url postgresql://...] [--items 20000]

Without ``--url`` it uses (and starts when needed) the test server of scripts/pg-test-server.sh,
in a new database dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from langmem.embeddings import HashingEmbeddings  # noqa: E402
from langmem.stores import PostgresStore  # noqa: E402

WORDS = [
    "kiwi",
    "tea",
    "chess",
    "marathon",
    "lisbon",
    "gate",
    "flight",
    "berlin",
    "piano",
    "garden",
]


def _server(url: str | None) -> tuple[str, str]:
    """(admin URL, URL of a new database)."""
    admin = (
        url
        or subprocess.run(
            [str(ROOT / "scripts" / "pg-test-server.sh"), "start"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, query = admin.partition("?")
    return admin, base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


def _text(i: int) -> str:
    return f"note {i}: {WORDS[i % 10]} {WORDS[(i * 7) % 10]} item {i % 997} of user {i % 20}"


def _load(store: PostgresStore, items: int) -> None:
    from langgraph.store.base import PutOp

    for start in range(0, items, 1000):
        store.batch(
            [
                PutOp(("users", str(i % 20)), f"k{i}", {"text": _text(i)})
                for i in range(start, min(start + 1000, items))
            ]
        )


def _searches(store: PostgresStore, checked: bool, queries: list[str]) -> tuple[list, list]:
    store._checks = checked
    wall, cpu = [], []
    for q in queries:
        t0, c0 = time.perf_counter(), time.thread_time()
        store.search(("users", "3"), query=q, limit=10)
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - t0)
    return wall, cpu


def _ms(values: list[float], q: float) -> float:
    return 1000 * statistics.quantiles(values, n=100)[int(q) - 1] if q < 100 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--items", type=int, default=20_000)
    args = parser.parse_args()
    admin, url = _server(args.url)
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    index = {"dims": 384, "embed": HashingEmbeddings(384), "fields": ["text"]}
    store = PostgresStore.from_url(url, index=index)  # type: ignore[arg-type]
    try:
        t0 = time.perf_counter()
        _load(store, args.items)
        print(f"loaded {args.items} items in {time.perf_counter() - t0:.1f} s")
        queries = [f"{WORDS[i % 10]} item {i * 13 % 997}" for i in range(300)]
        _searches(store, True, queries[:30])  # warm caches
        runs: dict[bool, tuple[list, list]] = {True: ([], []), False: ([], [])}
        for part in range(6):  # alternate, so load changes hit both sides alike
            for checked in (True, False):
                wall, cpu = _searches(store, checked, queries[part * 50 : part * 50 + 50])
                runs[checked][0].extend(wall)
                runs[checked][1].extend(cpu)
        print("search, 300 hybrid queries, limit 10, namespace of 5 % of the items:")
        for checked, label in ((False, "without the check"), (True, "with the check (default)")):
            wall, cpu = runs[checked]
            print(
                f"  {label:26} p50 {_ms(wall, 50):.2f} ms  p95 {_ms(wall, 95):.2f} ms"
                f"  client CPU p50 {_ms(cpu, 50):.2f} ms"
            )
        ratio = statistics.median(runs[True][0]) / statistics.median(runs[False][0])
        print(f"  p50 ratio with/without: {ratio:.3f}")
        store._checks = True
        for dims in (256, 256, 384):  # new dims, the same again (same dims), back
            marks: list[float] = []

            def mark(done: int, total: int, marks: list[float] = marks) -> None:
                marks.append(time.perf_counter())

            t0, c0 = time.perf_counter(), time.process_time()
            count = store.reembed(
                {"dims": dims, "embed": HashingEmbeddings(dims), "fields": ["text"]},
                batch_size=256,
                progress=mark,
            )
            end = time.perf_counter()
            staged = marks[-1] - t0
            print(
                f"re-embed to {dims}-d: {count} texts, staging {staged:.1f} s"
                f" ({count / max(staged, 1e-9):.0f} texts/s), swap {end - marks[-1]:.1f} s,"
                f" client CPU {time.process_time() - c0:.1f} s"
            )
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    finally:
        store.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1].split('?')[0]}")


if __name__ == "__main__":
    main()
