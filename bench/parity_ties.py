"""Soak of SQLite/PostgreSQL ranking parity on random corpora full of ties.

Runs the corpora of ``tests/postgres/test_parity_ties.py`` (copies of texts under other keys
and namespaces, reordered words, two fields, threads, rewrites and deletes) for many seeds on
both stores, with the default ranking, a short dense cut, and the second pass with and
without the cut, and prints how many of the explained and searched results differ (BM25, the
lexical side, matched terms and expansion weights must be equal to the bit, the other parts
within 1e-6, keys wherever two results do not tie). The test runs 24 seeds; this runs more.

    python bench/parity_ties.py [--seeds 300] [--first 1000] [--url postgresql://...]
                                [--texts 50,90]

``--texts LOW,HIGH``: items per corpus (the test's 10,24 by default); past 30 texts holding a
query word, the lexical candidates are the best by FTS5's ``bm25()`` on both stores.

Without ``--url`` it starts (when needed) the test server of scripts/pg-test-server.sh and
uses a fresh database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from tests.postgres.test_parity_ties import _index, compare  # noqa: E402

from langmem.stores import PostgresStore, SqliteStore  # noqa: E402
from postgres import server_url  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=300)
    parser.add_argument("--first", type=int, default=1000, help="first seed (the test: 0-23)")
    parser.add_argument("--url", help="a server where databases may be created")
    parser.add_argument("--chunk", type=int, default=50, help="seeds per pair of fresh stores")
    parser.add_argument("--texts", default="10,24", help="items per corpus: LOW,HIGH")
    args = parser.parse_args()
    low, high = (int(n) for n in args.texts.split(","))
    base = server_url(args.url).rsplit("/", 1)[0]
    differ: list[str] = []
    started = time.perf_counter()
    for first in range(args.first, args.first + args.seeds, args.chunk):
        seeds = range(first, min(first + args.chunk, args.first + args.seeds))
        name = f"parity_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base + "/postgres", autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name}")
        try:
            with tempfile.TemporaryDirectory() as folder:
                sqlite = SqliteStore(Path(folder) / "ties.sqlite", index=_index())  # type: ignore[arg-type]
                postgres = PostgresStore.from_url(f"{base}/{name}", index=_index())  # type: ignore[arg-type]
                try:
                    found = compare(sqlite, postgres, seeds, (low, high))
                finally:
                    sqlite.close()
                    postgres.close()
        finally:
            with psycopg.connect(base + "/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        differ += found
        print(f"seeds {seeds.start}-{seeds.stop - 1}: {len(found)} results differ", flush=True)
    results = args.seeds * 4 * 4 * 2  # seeds x rankings x queries x (explain, search)
    print(
        f"\n{args.seeds} corpora, about {results} results compared in "
        f"{time.perf_counter() - started:.0f} s: {len(differ)} differ"
    )
    for found in differ[:5]:
        print(found)


if __name__ == "__main__":
    main()
