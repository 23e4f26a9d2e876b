"""PostgreSQL's jsonb never held NaN or Infinity (it refuses both tokens), so no earlier version
left them there; but ``1e999``, the embedded store's spelling of infinity, is valid jsonb and
reads back as the integer 10**999 (a row written by other means, e.g. SQL copied from a file).
Range filters on such a row compare it as infinity, and filters on other fields work."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from langmem.stores import PostgresStore
from langmem.testing import HashingEmbeddings

NS = ("notes",)


def test_jsonb_refuses_nan_and_infinity(pg_database: str) -> None:
    with psycopg.connect(pg_database) as conn:
        for text in ('{"n": NaN}', '{"n": Infinity}'):
            with pytest.raises(psycopg.errors.InvalidTextRepresentation):
                conn.execute("SELECT %s::jsonb", (text,))
            conn.rollback()


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_filters_work_beside_a_huge_number(pg_database: str, mode: str) -> None:
    index: Any = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["text"]}
    store = PostgresStore.from_url(pg_database, index=index)
    store.put(NS, "a", {"text": "tea at noon", "kind": "drink", "n": 1})
    store.put(NS, "b", {"text": "green tea", "kind": "drink", "n": 2})
    store.put(NS, "far", {"text": "tea far away", "kind": "drink", "n": 0, "m": 0})
    with psycopg.connect(pg_database) as conn:
        conn.execute(
            'UPDATE store SET value = value || \'{"n": 1e999, "m": -1e999}\'::jsonb'
            " WHERE key = 'far'"
        )

    async def keys(**kw: Any) -> list[str]:
        found = store.search(NS, **kw) if mode == "sync" else await store.asearch(NS, **kw)
        return sorted(item.key for item in found)

    try:
        for query in (None, "tea"):
            assert await keys(query=query, filter={"kind": "drink"}) == ["a", "b", "far"]
            assert await keys(query=query, filter={"n": {"$gt": 1.5}}) == ["b", "far"]
            assert await keys(query=query, filter={"n": {"$lte": 5}}) == ["a", "b"]
            assert await keys(query=query, filter={"m": {"$lt": -1e308}}) == ["far"]
    finally:
        store.close()
