"""A valid page of any size works on PostgreSQL as on the embedded store: ``limit`` or
``offset`` from 2**62 up failed with PostgreSQL's "bigint out of range" (search, explain,
list_namespaces), sync and async."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore
from langmem.stores._postgres import PostgresStore

HUGE = [2**62, 2**63, 2**64, 10**30]


def _fill(store: SqliteStore | PostgresStore) -> None:
    store.put(("pages",), "a", {"text": "hello world"})
    store.put(("pages",), "b", {"text": "goodbye world"})


def _pages(store: SqliteStore | PostgresStore, huge: int) -> list[object]:
    seen: list[object] = []
    for query in (None, "hello"):
        seen.append(sorted(item.key for item in store.search(("pages",), query=query, limit=huge)))
        seen.append(store.search(("pages",), query=query, limit=10, offset=huge))
    seen.append(sorted(item.key for item, _ in store.explain(("pages",), "hello", limit=huge)))
    seen.append(store.explain(("pages",), "hello", offset=huge))
    seen.append(store.list_namespaces(limit=huge))
    seen.append(store.list_namespaces(offset=huge))
    return seen


@pytest.mark.parametrize("huge", HUGE)
def test_huge_pages_answer_as_on_the_embedded_store(pg_module_database: str, huge: int) -> None:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(dims=64)}
    with (
        PostgresStore.from_url(pg_module_database, index=index) as pg,
        SqliteStore(":memory:", index=index) as lite,
    ):
        pg.delete(("pages",), "a")
        pg.delete(("pages",), "b")
        _fill(pg)
        _fill(lite)
        assert _pages(pg, huge) == _pages(lite, huge)
        found = asyncio.run(pg.asearch(("pages",), query="hello", limit=huge))
        assert sorted(item.key for item in found) == ["a", "b"]
        assert asyncio.run(pg.asearch(("pages",), query="hello", offset=huge)) == []
