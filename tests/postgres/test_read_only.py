"""Read-only PostgreSQL databases open when their tables are there and current: a user with
SELECT only, or ``default_transaction_read_only`` on for the database. Reads, searches and
``explain`` give the writer's results; writes raise StoreFileError naming the database, why and
the fix, and change nothing; missing or outdated tables are refused at open with the fix."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from langgraph.store.base import GetOp, Item

from langmem.errors import IndexMismatchError, StoreConnectionError, StoreFileError
from langmem.stores import PostgresStore
from langmem.tasks import MemoryTaskQueue
from langmem.testing import HashingEmbeddings

NS = ("notes", "ana")
FACTS = ["likes green tea", "has a dog named Rex", "flies to Lisbon on Friday", "plays chess"]


def _index(dims: int = 16) -> Any:
    return {"dims": dims, "embed": HashingEmbeddings(dims), "fields": ["text"]}


def _written(url: str) -> dict[str, Any]:
    """Set the database up and write to it; what a reader should see."""
    with PostgresStore.from_url(url, index=_index(), ttl={"refresh_on_read": True}) as store:
        for n, fact in enumerate(FACTS):
            store.put(NS, f"k{n}", {"text": fact}, ttl=60)
        return _reads(store)


def _reads(store: PostgresStore) -> dict[str, Any]:
    item = store.get(NS, "k1")
    return {
        "get": None if item is None else item.value,
        "search": [(h.key, round(h.score or 0, 6)) for h in store.search(NS, query="dog")],
        "explain": [h.key for h, _ in store.explain(NS, "chess tea", limit=3)],
        "list": store.search(NS, limit=10) and sorted(h.key for h in store.search(NS, limit=10)),
        "namespaces": store.list_namespaces(),
    }


def _rows(url: str) -> list[Any]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT s.key, s.value, s.expires_at, v.embedding::text FROM store s"
            " JOIN store_vectors v USING (prefix, key) ORDER BY s.key"
        ).fetchall()


@pytest.fixture()
def reader_url(pg_database: str) -> Iterator[str]:
    """The database's URL for a new user that may only read its tables."""
    role = f"ro_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'ro-pass'")
        admin.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        admin.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role}")
    scheme, rest = pg_database.split("://", 1)
    try:
        yield f"{scheme}://{role}:ro-pass@{rest.split('@', 1)[1]}"
    finally:
        with psycopg.connect(pg_database, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (role,),
            )
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def _check_read_only(store: PostgresStore, expected: dict[str, Any], reason: str) -> None:
    assert store.read_only is True
    assert _reads(store) == expected
    assert store.batch([GetOp(NS, "k0", refresh_ttl=True)])[0] is not None  # no refresh
    writes = [
        lambda: store.put(NS, "new", {"text": "a new fact"}),
        lambda: store.delete(NS, "k0"),
        lambda: store.restore(
            [Item(namespace=NS, key="x", value={}, created_at=_now(), updated_at=_now())]
        ),
        lambda: store.reembed(),
        store.sweep_ttl,
    ]
    for write in writes:
        with pytest.raises(StoreFileError) as raised:
            write()
        message = str(raised.value)
        assert "is open read-only" in message and reason in message
        assert "nothing was written" in message and "Fix: " in message
        assert "ro-pass" not in message
    with pytest.raises(StoreFileError, match=reason):  # async too
        asyncio.run(store.aput(NS, "new", {"text": "a new fact"}))
    assert asyncio.run(store.asearch(NS, query="dog"))[0].key == "k1"
    assert isinstance(store.task_queue(), MemoryTaskQueue)
    assert store.start_ttl_sweeper().done()


def _now() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def test_a_user_that_may_only_read_opens_the_store_read_only(
    pg_database: str, reader_url: str
) -> None:
    expected = _written(pg_database)
    before = _rows(pg_database)
    with PostgresStore.from_url(reader_url, index=_index(), ttl={"refresh_on_read": True}) as store:
        _check_read_only(store, expected, "may read its tables but not write them")
    assert _rows(pg_database) == before  # nothing changed, no TTL refreshed


def test_a_database_with_default_transaction_read_only_opens_read_only(pg_database: str) -> None:
    expected = _written(pg_database)
    before = _rows(pg_database)
    name = pg_database.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    with PostgresStore.from_url(
        pg_database, index=_index(), ttl={"refresh_on_read": True}
    ) as store:
        _check_read_only(store, expected, "default_transaction_read_only is on")
        with pytest.raises(IndexMismatchError):  # another index: as on a writable database
            PostgresStore.from_url(pg_database, index=_index(32))
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute("SET default_transaction_read_only = off")
        assert admin.execute(  # nothing changed
            "SELECT count(*) FROM store"
        ).fetchone() == (len(FACTS),)
    assert _rows(pg_database) == before


def test_outdated_tables_on_a_read_only_database_are_refused_with_the_fix(
    pg_database: str,
) -> None:
    _written(pg_database)
    with psycopg.connect(pg_database, autocommit=True) as admin:  # as an older langmem left it
        admin.execute(
            "DELETE FROM langmem_vector_migrations"
            " WHERE v = (SELECT max(v) FROM langmem_vector_migrations)"
        )
    url = f"{pg_database}?options=-c%20default_transaction_read_only%3Don"
    with pytest.raises(StoreConnectionError) as raised:
        PostgresStore.from_url(url, index=_index())
    message = str(raised.value)
    assert "read-only (default_transaction_read_only is on" in message
    assert "its tables are out of date" in message and "langmem_vector_migrations has" in message
    assert "Fix: open it once where it can be written" in message
    with PostgresStore.from_url(pg_database, index=_index()) as writer:  # the fix, then again
        assert writer.read_only is False
    with PostgresStore.from_url(url, index=_index()) as store:
        assert store.read_only and store.get(NS, "k0") is not None


def test_setup_false_on_a_read_only_database_reads_and_refuses_writes_clearly(
    pg_database: str, reader_url: str
) -> None:
    """``setup=False`` skips the tables' set-up, not the read-only check: reads refresh no TTL
    (their UPDATE would fail on a read-only database) and writes raise the clear error."""
    expected = _written(pg_database)
    before = _rows(pg_database)
    with PostgresStore.from_url(
        reader_url, index=_index(), ttl={"refresh_on_read": True}, setup=False
    ) as store:
        _check_read_only(store, expected, "may read its tables but not write them")
    url = f"{pg_database}?options=-c%20default_transaction_read_only%3Don"
    with PostgresStore.from_url(url, index=_index(), setup=False) as store:  # no TTL config
        _check_read_only(store, expected, "default_transaction_read_only is on")
    assert _rows(pg_database) == before


def test_a_write_refused_after_the_handle_opened_raises_the_clear_error(
    pg_database: str, reader_url: str
) -> None:
    """A privilege revoked (or read-only switched on) after a handle found its database
    writable: the server's refusal is raised as the same StoreFileError, nothing written."""
    _written(pg_database)
    role = reader_url.split("://", 1)[1].split(":", 1)[0]
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(f"GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        admin.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
    with PostgresStore.from_url(reader_url, index=_index(), setup=False) as store:
        store.put(NS, "mine", {"text": "written while allowed"})
        assert store.read_only is False
        with psycopg.connect(pg_database, autocommit=True) as admin:
            admin.execute(
                f"REVOKE INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public FROM {role}"
            )
        before = _rows(pg_database)
        with pytest.raises(StoreFileError) as raised:
            store.put(NS, "later", {"text": "refused"})
        message = str(raised.value)
        assert "permission denied" in message and "Fix: connect as a user" in message
        assert "ro-pass" not in message
        assert _rows(pg_database) == before
