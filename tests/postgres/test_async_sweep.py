"""``await store.asweep_ttl()`` on PostgreSQL, as on the embedded store (LangGraph's async
stores make ``sweep_ttl`` itself a coroutine; langmem's one class keeps ``sweep_ttl`` a plain
call and adds ``asweep_ttl``)."""

from __future__ import annotations

import asyncio
from typing import Any

from langmem.stores import PostgresStore, SqliteStore


def test_asweep_ttl_deletes_expired_items_and_counts_them(pg_database: str) -> None:
    ttl: Any = {"default_ttl": 5}
    store = PostgresStore.from_url(pg_database, ttl=ttl)
    try:
        store.put(("a",), "old", {"v": 1})
        store.put(("a",), "new", {"v": 2})
        store.put(("a",), "kept", {"v": 3}, ttl=None)
        with store._transaction() as cur:
            cur.execute(
                "UPDATE store SET expires_at = NOW() - INTERVAL '1 minute' WHERE key = 'old'"
            )
        assert asyncio.run(store.asweep_ttl()) == 1
        assert asyncio.run(store.asweep_ttl()) == 0
        left = {item.key for item in store.search(("a",), refresh_ttl=False)}
        assert left == {"new", "kept"}
    finally:
        store.close()


def test_both_stores_have_the_same_sweep_methods() -> None:
    for name in ("sweep_ttl", "asweep_ttl", "start_ttl_sweeper", "stop_ttl_sweeper"):
        assert callable(getattr(PostgresStore, name)), name
        assert callable(getattr(SqliteStore, name)), name
    assert asyncio.iscoroutinefunction(PostgresStore.asweep_ttl)
