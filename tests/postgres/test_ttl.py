"""TTLs on PostgreSQL: ``omit_expired`` as on the embedded store, and restores that keep each
item's TTL and exact expiry (SQLite -> PostgreSQL -> SQLite, expired items included)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import Item

from langmem.cli import _transfer
from langmem.embeddings import HashingEmbeddings
from langmem.errors import ConfigurationError
from langmem.stores import PostgresStore, SqliteStore

DIMS = 16


def _index() -> dict[str, Any]:
    return {"dims": DIMS, "embed": HashingEmbeddings(DIMS), "fields": ["text"]}


@pytest.fixture()
def pg(pg_database: str) -> Iterator[PostgresStore]:
    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        yield store
    finally:
        store.close()


def _expire(store: PostgresStore, ns: tuple[str, ...], key: str) -> None:
    """Backdate an item's deadline (no sweep: the row stays)."""
    with store._transaction() as cur:
        cur.execute(
            "UPDATE store SET expires_at = NOW() - INTERVAL '1 minute'"
            " WHERE prefix = %s AND key = %s",
            (".".join(ns), key),
        )


def _row(store: PostgresStore, ns: tuple[str, ...], key: str) -> dict[str, Any] | None:
    with store._transaction() as cur:
        cur.execute(
            "SELECT expires_at, ttl_minutes, created_at, updated_at FROM store"
            " WHERE prefix = %s AND key = %s",
            (".".join(ns), key),
        )
        found: dict[str, Any] | None = cur.fetchone()
        return found


def _reads(store: PostgresStore, ns: tuple[str, ...]) -> dict[str, object]:
    """What each read path returns for ``ns`` (without refreshing anything)."""
    return {
        "get": store.get(ns, "old", refresh_ttl=False) is not None,
        "list": [i.key for i in store.search(ns, refresh_ttl=False)],
        "filtered": [i.key for i in store.search(ns, filter={"kind": "x"}, refresh_ttl=False)],
        "query": [i.key for i in store.search(ns, query="kiwi orchard", refresh_ttl=False)],
        "namespaces": ns in store.list_namespaces(prefix=ns[:1]),
    }


def test_omit_expired_false_returns_expired_items_until_swept(pg: PostgresStore) -> None:
    ns = ("ttl", "a")
    pg.put(ns, "old", {"text": "kiwi orchard", "kind": "x"}, ttl=30)
    pg.put(("ttl", "b"), "live", {"text": "kiwi orchard", "kind": "x"})
    _expire(pg, ns, "old")
    hidden = {"get": False, "list": [], "filtered": [], "query": [], "namespaces": False}
    shown = {"get": True, "list": ["old"], "filtered": ["old"], "query": ["old"]}
    assert _reads(pg, ns) == hidden  # the default: omitted though not swept (as on SQLite)
    pg.ttl_config = {"omit_expired": False}
    assert _reads(pg, ns) == {**shown, "namespaces": True}
    pg.hybrid = False  # the cosine-only path reads candidates too
    assert _reads(pg, ns)["query"] == ["old"]
    assert [i.key for i, _ in pg.explain(ns, "kiwi orchard")] == ["old"]
    pg.ttl_config["omit_expired"] = True  # read at every call: a live change counts
    assert _reads(pg, ns) == hidden
    pg.ttl_config["omit_expired"] = False
    assert pg.sweep_ttl() == 1
    assert _reads(pg, ns) == hidden
    assert [i.key for i in pg.search(("ttl",), query="kiwi orchard")] == ["live"]


def test_omit_expired_false_on_the_async_side(pg_database: str) -> None:
    store = PostgresStore.from_url(
        pg_database,
        index=_index(),  # type: ignore[arg-type]
        ttl={"omit_expired": False, "refresh_on_read": False},
    )
    try:
        store.put(("n",), "old", {"text": "kiwi orchard"}, ttl=30)
        _expire(store, ("n",), "old")

        async def reads() -> tuple[object, ...]:
            return (
                await store.aget(("n",), "old"),
                [i.key for i in await store.asearch(("n",), query="kiwi")],
                await store.alist_namespaces(),
            )

        item, keys, namespaces = asyncio.run(reads())
        assert item is not None and keys == ["old"] and namespaces == [("n",)]
    finally:
        store.close()


def _utc(year: int, hour: int = 0) -> datetime:
    return datetime(year, 5, 1, hour, tzinfo=timezone.utc)


def test_restore_keeps_ttls_and_exact_expiry(pg: PostgresStore) -> None:
    pg.ttl_config = {"default_ttl": 5.0}  # a restored item keeps its own TTL, never the default
    later = datetime.now(timezone.utc) + timedelta(hours=2)
    past = datetime.now(timezone.utc) - timedelta(days=3)
    items = [
        Item(namespace=("r",), key=k, value={"text": f"{k} kiwi"}, created_at=t, updated_at=t)
        for k, t in (("live", _utc(2024)), ("gone", _utc(2023)), ("plain", _utc(2022)))
    ]
    ttls = {(("r",), "live"): (90.0, later), (("r",), "gone"): (2.5, past.replace(tzinfo=None))}
    assert pg.restore(items, ttls=ttls) == 3
    live, gone, plain = (_row(pg, ("r",), k) for k in ("live", "gone", "plain"))
    assert live is not None and gone is not None and plain is not None
    assert (live["ttl_minutes"], live["expires_at"]) == (90.0, later)
    assert (gone["ttl_minutes"], gone["expires_at"]) == (2.5, past)  # naive = UTC
    assert (plain["ttl_minutes"], plain["expires_at"]) == (None, None)
    assert (live["created_at"], plain["updated_at"]) == (_utc(2024), _utc(2022))
    # the expired one is in the table but not returned, and a sweep removes it
    assert sorted(i.key for i in pg.search(("r",), query="kiwi")) == ["live", "plain"]
    assert pg.get(("r",), "gone") is None
    assert pg.sweep_ttl() == 1 and _row(pg, ("r",), "gone") is None
    # restoring over an item with a TTL and without one in ``ttls`` clears the TTL
    assert pg.restore(items[:1]) == 1
    assert _row(pg, ("r",), "live") == {**live, "ttl_minutes": None, "expires_at": None}
    with pytest.raises(ConfigurationError, match="ttl_minutes -1"):
        pg.restore(items[2:], ttls={(("r",), "plain"): (-1, later)})
    assert _row(pg, ("r",), "plain") == plain  # nothing written


def _ttls(store: SqliteStore | PostgresStore) -> dict[tuple[tuple[str, ...], str], object]:
    return {k: (m, e.timestamp()) for k, (m, e) in _transfer.stored_ttls(store, ()).items()}


def test_sqlite_to_postgres_and_back_keeps_ttls(tmp_path: Path, pg_database: str) -> None:
    # the path of `langmem memories export | import` and `store copy --namespace`
    keep = {"omit_expired": False, "refresh_on_read": False}
    source = SqliteStore(tmp_path / "a.sqlite", index=_index(), ttl=keep)  # type: ignore[arg-type]
    source.put(("m", "ana"), "trip", {"text": "Ana is in Lisbon"}, ttl=90)
    source.put(("m", "ana"), "gate", {"text": "gate B12"}, ttl=0.5)
    source.put(("m", "bo"), "tea", {"text": "Bo likes tea"})
    with source._write() as conn:  # the gate item expired a day ago, not yet swept
        conn.execute("UPDATE langmem_items SET expires_at = expires_at - 86400 WHERE key = 'gate'")
    pg = PostgresStore.from_url(pg_database, index=_index(), ttl=keep)  # type: ignore[arg-type]
    back = SqliteStore(tmp_path / "b.sqlite", index=_index(), ttl=keep)  # type: ignore[arg-type]
    try:
        exported = _transfer.iter_items(source, ())
        assert [i.key for i in exported] == ["gate", "trip", "tea"]
        assert _transfer.write_items(pg, exported) == 3
        assert _transfer.dropped_ttls(pg, exported) == 0
        original = _ttls(source)
        assert len(original) == 2 and _ttls(pg) == original
        assert _transfer.write_items(back, _transfer.iter_items(pg, ())) == 3
        assert _ttls(back) == original
        lines = [_transfer.export_line(i) for i in _transfer.iter_items(source, ())]
        assert [_transfer.export_line(i) for i in _transfer.iter_items(back, ())] == lines
        # with the default TTL config, every store leaves the expired item out alike
        for store in (source, pg, back):
            store.ttl_config = None
            assert sorted(i.key for i in store.search(("m",), query="gate B12")) == ["tea", "trip"]
    finally:
        pg.close()
