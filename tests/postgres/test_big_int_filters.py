"""PostgreSQL answers the big-integer filters as the embedded store does (tests/stores/
test_big_int_filters.py holds the cases and the expected keys)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from langmem.stores import PostgresStore
from langmem.testing import HashingEmbeddings
from tests.stores.test_big_int_filters import CASES, NS, VALUES


@pytest.fixture(scope="module")
def store(pg_module_database: str) -> Iterator[PostgresStore]:
    index = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]}
    with PostgresStore.from_url(pg_module_database, index=index) as made:  # type: ignore[arg-type]
        made.setup()
        for key, value in VALUES.items():
            made.put(NS, key, value)
        yield made


@pytest.mark.parametrize(("filter", "expected"), CASES, ids=[str(c[0])[:40] for c in CASES])
def test_big_integer_filters_match_as_on_sqlite(
    store: PostgresStore, filter: dict[str, Any], expected: list[str]
) -> None:
    assert sorted(i.key for i in store.search(NS, filter=filter, limit=50)) == expected
