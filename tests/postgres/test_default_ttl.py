"""On PostgreSQL too, memories written by langmem get the store's default TTL
(tests/knowledge/test_default_ttl.py holds the writes)."""

from __future__ import annotations

from langmem.stores import PostgresStore
from langmem.testing import HashingEmbeddings
from tests.knowledge.test_default_ttl import TTL_MINUTES, left_after_expiry, write_through_langmem


def test_memories_written_by_langmem_get_the_default_ttl(pg_database: str) -> None:
    index = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]}
    ttl = {"default_ttl": TTL_MINUTES, "refresh_on_read": False}
    with PostgresStore.from_url(pg_database, index=index, ttl=ttl) as store:  # type: ignore[arg-type]
        store.setup()
        write_through_langmem(store)
        assert left_after_expiry(store) == ["forever"]
