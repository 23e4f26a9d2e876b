"""``PostgresStore.batch_expecting``: the embedded store's cases
(tests/stores/test_batch_expecting.py)."""

from __future__ import annotations

from langmem.stores import PostgresStore
from tests.stores.test_batch_expecting import INDEX, check_batch_expecting, check_expired_is_absent


def test_postgres_batch_expecting(pg_database: str) -> None:
    with PostgresStore.from_url(pg_database, index=INDEX) as store:
        check_batch_expecting(store)
        check_expired_is_absent(store)
