"""copy_store from LangGraph's own PostgresStore (the object, and its database by
langgraph-postgres:// URL, read only) into langmem's stores, then on to PostgreSQL: values,
timestamps and TTLs kept; what PostgreSQL cannot hold refused before anything is copied."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph.store.memory import InMemoryStore
from langgraph.store.postgres import PostgresStore as LangGraphPostgresStore

from langmem.embeddings import HashingEmbeddings
from langmem.errors import ConfigurationError, InvalidInputError, StoreConnectionError
from langmem.stores import PostgresStore, SqliteStore, copy_store

from .conftest import _fresh_database

DIMS = 16
VALUES: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (("users",), "root", {"text": "the users' root item"}),
    (("users", "ana"), "k1", {"text": "Ana's flight LH-1234 lands 7:45", "n": 2.5}),
    (("users", "ana"), "k2", {"text": "likes crème brûlée", "tags": ["dessert", "☕"], "x": None}),
    (("users", "bo"), "k1", {"nested": {"a": [1, {"b": "chess"}]}, "text": "Bo plays chess"}),
]


def _index() -> dict[str, Any]:
    return {"dims": DIMS, "embed": HashingEmbeddings(DIMS)}


@pytest.fixture()
def second_database(pg_server: str) -> Iterator[str]:
    yield from _fresh_database(pg_server)


def _langgraph_database(url: str) -> None:
    with LangGraphPostgresStore.from_conn_string(url) as old:
        old.setup()
        for namespace, key, value in VALUES:
            old.put(namespace, key, value)
        old.put(("users", "ana"), "soon", {"text": "expires in an hour"}, ttl=60)


def _table(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT prefix, key, value, created_at, updated_at, expires_at, ttl_minutes"
            " FROM store ORDER BY prefix, key"
        ).fetchall()


def _ttl(store: Any, key: str) -> tuple[Any, Any]:
    if isinstance(store, SqliteStore):
        from datetime import datetime

        with store._read() as conn:
            minutes, expires = conn.execute(
                "SELECT ttl_minutes, expires_at FROM langmem_items WHERE key = ?", (key,)
            ).fetchone()
        return minutes, None if expires is None else datetime.fromtimestamp(expires, timezone.utc)
    with store._transaction() as cur:
        cur.execute("SELECT ttl_minutes, expires_at FROM store WHERE key = %s", (key,))
        row = cur.fetchone()
    return row["ttl_minutes"], row["expires_at"]


def test_langgraph_postgres_object_to_sqlite_then_to_postgres(
    tmp_path: Path, pg_database: str, second_database: str
) -> None:
    _langgraph_database(pg_database)
    before = _table(pg_database)
    rows = {(r[0], r[1]): r for r in before}
    with LangGraphPostgresStore.from_conn_string(pg_database, ttl={"refresh_on_read": True}) as old:
        embedded = SqliteStore(tmp_path / "ours.sqlite", index=_index())  # type: ignore[arg-type]
        assert copy_store(old, embedded) == len(VALUES) + 1
    assert _table(pg_database) == before  # nothing written, no TTL refreshed
    row = rows[("users.ana", "soon")]
    assert _ttl(embedded, "soon") == (60.0, row[5])
    for (prefix, key), (_, _, value, created, updated, _, _) in rows.items():
        item = embedded.get(tuple(prefix.split(".")), key, refresh_ttl=False)
        assert item is not None and item.value == value
        assert (item.created_at, item.updated_at) == (created, updated)  # microseconds too

    # ours -> PostgreSQL: as stored, vectors included, and searchable there
    pg = PostgresStore.from_url(second_database, index=_index())  # type: ignore[arg-type]
    try:
        assert copy_store(embedded, pg) == len(VALUES) + 1
        assert _ttl(pg, "soon") == (60.0, row[5])
        hit = pg.search(("users",), query="flight LH-1234", limit=1)[0]
        assert (tuple(hit.namespace), hit.key) == (("users", "ana"), "k1")
        assert hit.created_at == rows[("users.ana", "k1")][3]
    finally:
        pg.close()
        embedded.close()


def test_langgraph_postgres_url_to_another_postgres_database_twice(
    pg_database: str, second_database: str
) -> None:
    _langgraph_database(pg_database)
    before = _table(pg_database)
    source = "langgraph-postgres://" + pg_database.split("://", 1)[1]
    pg = PostgresStore.from_url(second_database, index=_index())  # type: ignore[arg-type]
    try:
        assert copy_store(source, pg, batch_size=2) == len(VALUES) + 1
        assert copy_store(source, pg, batch_size=2) == len(VALUES) + 1  # re-run: replaced
        assert _table(pg_database) == before
        after = {(r[0], r[1]): r for r in _table(second_database)}
        assert after.keys() == {(r[0], r[1]) for r in before}
        for r in before:  # value, both times, the deadline and the minutes
            assert after[(r[0], r[1])][2:] == r[2:]
        assert pg.search(("users", "bo"), query="chess", limit=1)[0].key == "k1"
        same = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
        with pytest.raises(
            ConfigurationError, match=r"is also the target.*another database.*Nothing was copied"
        ):
            copy_store(source, same)
        same.close()
    finally:
        pg.close()


def test_what_postgresql_cannot_hold_is_named_before_anything_is_copied(pg_database: str) -> None:
    source = InMemoryStore()
    for n in range(5):
        source.put(("fine",), f"k{n}", {"text": f"note {n}"})
    source.put(("zz",), "nul", {"text": "a\x00b"})
    source.put(("zz",), "nan", {"score": float("nan")})
    pg = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        with pytest.raises(InvalidInputError, match=r"2 item\(s\).*zz/'nan'.*zz/'nul'") as raised:
            copy_store(source, pg, batch_size=2)
        assert "Nothing was copied" in str(raised.value)
        assert pg.search((), limit=100) == []
    finally:
        pg.close()


def test_an_unreachable_or_empty_langgraph_database(pg_database: str) -> None:
    target = SqliteStore(":memory:", index=_index())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="no LangGraph store table 'store'"):
        copy_store("langgraph-postgres://" + pg_database.split("://", 1)[1], target)
    with pytest.raises(StoreConnectionError, match=r"cannot be reached.*Nothing was copied"):
        copy_store("langgraph-postgres://nobody@127.0.0.1:1/none", target)


def test_the_command_copies_a_langgraph_database(tmp_path: Path, pg_database: str) -> None:
    import json

    from tests.cli._support import run

    _langgraph_database(pg_database)
    source = "langgraph-postgres://" + pg_database.split("://", 1)[1]
    target = f"sqlite:///{tmp_path / 'ours.sqlite'}?embed=hashing"
    result = run("store", "copy", source, target)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["copied"] == len(VALUES) + 1
    assert ":***@" in record["source"] and "langmem-test" not in result.stdout
    hit = run("memories", "search", "crème brûlée", "-l", "1", "--store", target)
    assert json.loads(hit.stdout)["key"] == "k2"
