"""PostgresStore's ``list_namespaces`` shows and hides langmem's own records as the embedded
store does (tests/stores/test_reserved_namespaces.py), a copy between the two stores carries
the records, and every page is the embedded store's, label by label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import PutOp

from langmem.stores import PostgresStore, SqliteStore, _pg_namespaces, copy_store
from tests.stores.test_reserved_namespaces import RECORDS, check_listing, fill


def test_postgres_lists_only_the_callers_namespaces(pg_database: str) -> None:
    with PostgresStore.from_url(pg_database) as store:
        fill(store)
        check_listing(store)


def test_expired_records_stay_out_and_omit_expired_false_keeps_them(pg_database: str) -> None:
    with PostgresStore.from_url(pg_database, ttl={"omit_expired": False}) as store:
        fill(store)
        store.put(("gone",), "k", {"t": 1}, ttl=1)
        with store._transaction() as cur:
            cur.execute(
                "UPDATE store SET expires_at = NOW() - INTERVAL '1 minute' WHERE prefix = 'gone'"
            )
        assert ("gone",) in store.list_namespaces()  # omit_expired=False: until swept
        assert RECORDS in store.list_namespaces(prefix=("__langmem__",))
        store.ttl_config = {"omit_expired": True}
        assert ("gone",) not in store.list_namespaces()
        assert RECORDS in store.list_namespaces(prefix=("__langmem__",))


def test_copies_carry_the_records_both_ways(tmp_path: Path, pg_database: str) -> None:
    embedded = SqliteStore(tmp_path / "a.sqlite")
    fill(embedded)
    with PostgresStore.from_url(pg_database) as store:
        assert copy_store(embedded, store) == copy_store(embedded, SqliteStore(":memory:"))
        check_listing(store)
        back = SqliteStore(tmp_path / "b.sqlite")
        copy_store(store, back)
        check_listing(back)
        back.close()
    embedded.close()


ODD = [
    ("memories", "user"),
    ("memories", "user", "notes"),
    ("memories", "user-1"),
    ("memories", "user-1", "x"),
    ("memories", "user\x01a"),
    ("memories", "user\x01"),
    ("memories", "user", "\x01"),
    ("memories", "User"),
    ("memories", "é"),
    ("memories", "日本"),
    ("memories", " lead"),
    ("memories_",),
    ("memories%",),
    ("a", "b", "c"),
    ("a", "b"),
    ("a",),
    ("__langmem__", "history", "a"),
    ("__langmem_",),
    ("__langmem__x",),
    ("z", "*"),
]


@pytest.mark.parametrize("chunk", [1, 3, 200])
def test_pages_match_the_embedded_store_label_by_label(
    tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Namespaces whose labels hold characters that sort below or near the separator, U+0001,
    LIKE's wildcards: every listing (conditions, depth, pages) is the embedded store's, also
    when the database hands out its prefixes a few at a time."""
    monkeypatch.setattr(_pg_namespaces, "FIRST_CHUNK", chunk)
    embedded = SqliteStore(tmp_path / "o.sqlite")
    with PostgresStore.from_url(pg_database) as store:
        for target in (embedded, store):
            target.batch([PutOp(ns, "k", {"n": 1}) for ns in ODD])
        asks: list[dict[str, Any]] = [
            {},
            {"prefix": ("memories",)},
            {"prefix": ("memories", "user")},
            {"prefix": ("memories", "user-1")},
            {"prefix": ("memories", "*", "x")},
            {"prefix": ("memories_",)},
            {"prefix": ("__langmem__",)},
            {"prefix": ("*",), "max_depth": 1},
            {"suffix": ("x",)},
            {"max_depth": 2},
            {"max_depth": 2, "limit": 3, "offset": 2},
            {"prefix": ("a",), "limit": 1, "offset": 1},
            {"limit": 4, "offset": 5},
        ]
        for ask in asks:
            assert store.list_namespaces(**ask) == embedded.list_namespaces(**ask), ask
        everything = store.list_namespaces(limit=100)
        assert len(everything) == len(ODD) - 1  # all but langmem's record
        assert everything == sorted(everything)
    embedded.close()


def test_the_sort_key_is_the_databases(pg_database: str) -> None:
    with PostgresStore.from_url(pg_database) as store, store._transaction() as cur:
        for ns in ODD:
            cur.execute(
                f"SELECT {_pg_namespaces.ORDER} AS k FROM (SELECT %s::text AS prefix) AS t",
                (".".join(ns),),
            )
            assert cur.fetchone()["k"] == _pg_namespaces.key(ns)
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'langmem_store_namespaces'")
        assert 'COLLATE "C"' in cur.fetchone()["indexdef"]
