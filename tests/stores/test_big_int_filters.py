"""Filters with integers past 64 bits (or past a float's exact range) are valid JSON numbers:
the embedded store answers them exactly, as PostgreSQL's jsonb does, instead of raising."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

NS = ("numbers",)
VALUES: dict[str, dict[str, Any]] = {
    "at_2_63": {"n": 2**63},
    "past_2_63": {"n": 2**63 + 1},
    "huge": {"n": 10**40},
    "past_float": {"n": 10**400},
    "low": {"n": -(2**63)},
    "past_2_53": {"n": 2**53 + 1},
    "small": {"n": 3},
}
# filter -> keys it matches (exact integer comparison, as PostgreSQL's jsonb numeric)
CASES: list[tuple[dict[str, Any], list[str]]] = [
    ({"n": 2**63}, ["at_2_63"]),
    ({"n": 10**40}, ["huge"]),
    ({"n": 10**400}, ["past_float"]),
    ({"n": -(2**63) - 1}, []),
    ({"n": {"$gt": 2**63}}, ["huge", "past_2_63", "past_float"]),
    ({"n": {"$gt": 10**400}}, []),
    ({"n": {"$lt": -(10**400)}}, []),
    ({"n": {"$gte": 10**40, "$lt": 10**400}}, ["huge"]),
    ({"n": {"$gt": 2**53}}, ["at_2_63", "huge", "past_2_53", "past_2_63", "past_float"]),
    ({"n": {"$lte": 3}}, ["low", "small"]),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SqliteStore:
    path = Path(tmp_path_factory.mktemp("big")) / "big.sqlite"
    store = SqliteStore(path, index={"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]})
    for key, value in VALUES.items():
        store.put(NS, key, value)
    return store


@pytest.mark.parametrize(("filter", "expected"), CASES, ids=[str(c[0])[:40] for c in CASES])
def test_big_integer_filters_match_exactly(
    store: SqliteStore, filter: dict[str, Any], expected: list[str]
) -> None:
    assert sorted(i.key for i in store.search(NS, filter=filter, limit=50)) == expected


@pytest.mark.parametrize(("filter", "expected"), CASES[:4], ids=[str(c[0])[:40] for c in CASES[:4]])
async def test_async_search_answers_the_same(
    store: SqliteStore, filter: dict[str, Any], expected: list[str]
) -> None:
    assert sorted(i.key for i in await store.asearch(NS, filter=filter, limit=50)) == expected
