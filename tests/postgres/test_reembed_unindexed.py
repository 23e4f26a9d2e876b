"""``PostgresStore.reembed`` refuses new fields that find no text in some indexed memories,
as the embedded store does (same cases: tests/stores/test_reembed_unindexed.py)."""

from __future__ import annotations

from langmem.stores import PostgresStore
from tests.stores.test_reembed_unindexed import (
    check_dims_of_the_model,
    check_refused_then_allowed,
    index,
)


def test_postgres_refuses_fields_that_find_no_text(pg_database: str) -> None:
    with PostgresStore.from_url(pg_database, index=index("content"), hybrid=False) as store:
        check_refused_then_allowed(store, ["content"])


def test_postgres_asks_the_model_its_dims(pg_database: str) -> None:
    with PostgresStore.from_url(pg_database, index=index("content")) as store:
        check_dims_of_the_model(store)


def test_postgres_never_indexed_asks_the_model_its_dims(pg_database: str) -> None:
    """A database without vector tables: they were made with the dims given."""
    with PostgresStore.from_url(pg_database) as store:
        check_dims_of_the_model(store)
