"""copy_store from LangGraph's own stores (InMemoryStore, LangGraph's SqliteStore object and
file) into langmem's SqliteStore: values, timestamps and TTLs kept, texts embedded by the target,
re-running safe, the source never written, and bad sources refused before anything is copied."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore, Item, Result, SearchOp
from langgraph.store.memory import InMemoryStore
from langgraph.store.sqlite import SqliteStore as LangGraphSqliteStore

from langmem.embeddings import HashingEmbeddings
from langmem.errors import ConfigurationError, LangMemError
from langmem.stores import SqliteStore, _connection, _copy_sources, copy_store

DIMS = 16
VALUES: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (("users",), "root", {"text": "the users' root item"}),
    (("users", "ana"), "k1", {"text": "Ana's flight LH-1234 lands 7:45", "n": 2.5}),
    (("users", "ana"), "k2", {"text": "likes crème brûlée", "tags": ["dessert", "☕"], "x": None}),
    (("users", "ana", "deep"), "", {"text": "an empty key, one level down", "ok": True}),
    (("users", "bo"), "k1", {"nested": {"a": [1, {"b": "chess"}]}, "text": "Bo plays chess"}),
]


def _store(path: Path | str = ":memory:") -> SqliteStore:
    return SqliteStore(path, index={"dims": DIMS, "embed": HashingEmbeddings(DIMS)})


def _items(store: BaseStore) -> dict[tuple[tuple[str, ...], str], Item]:
    found = store.search((), limit=100_000)
    return {(tuple(i.namespace), i.key): i for i in found}


def _rows(path: Path) -> str:
    """A digest of LangGraph's table in ``path`` (to prove a copy never changes it)."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT * FROM store ORDER BY prefix, key").fetchall()
    finally:
        conn.close()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_in_memory_store_to_sqlite_keeps_values_and_times_and_is_searchable() -> None:
    source = InMemoryStore()
    for namespace, key, value in VALUES:
        source.put(namespace, key, value)
    for n in range(2_345):  # more than one page of search and of list_namespaces
        source.put(("bulk", f"ns{n % 1_100}"), f"item-{n}", {"text": f"note {n} topic {n % 7}"})
    target = _store()
    seen: list[tuple[int, int]] = []
    assert copy_store(source, target, progress=lambda d, t: seen.append((d, t))) == 2_350
    assert seen[0] == (0, 2_350) and seen[-1] == (2_350, 2_350)
    before, after = _items(source), _items(target)
    assert after.keys() == before.keys()
    for where, item in before.items():
        assert after[where].value == item.value, where
        assert after[where].created_at == item.created_at.astimezone(timezone.utc), where
        assert after[where].updated_at == item.updated_at.astimezone(timezone.utc), where
    # embedded by the target with its own index: a query finds the item
    hits = target.search(("users",), query="flight LH-1234", limit=1)
    assert [(tuple(h.namespace), h.key) for h in hits] == [(("users", "ana"), "k1")]


def test_rerun_replaces_the_same_keys_and_keeps_the_rest() -> None:
    source = InMemoryStore()
    for namespace, key, value in VALUES:
        source.put(namespace, key, value)
    target = _store()
    target.put(("mine",), "kept", {"text": "already in langmem"})
    assert copy_store(source, target) == len(VALUES)
    first = _items(target)
    assert copy_store(source, target) == len(VALUES)  # nothing doubled, nothing changed
    assert _items(target) == first
    source.put(("users", "ana"), "k1", {"text": "Ana lands at 9:10 now"})
    assert copy_store(source, target) == len(VALUES)
    assert target.get(("users", "ana"), "k1").value == {"text": "Ana lands at 9:10 now"}  # type: ignore[union-attr]
    assert target.get(("mine",), "kept") is not None
    assert len(_items(target)) == len(VALUES) + 1


class _ShuffledTies(InMemoryStore):
    """A store whose listing order changes from call to call (ties ordered at random), as
    a database may order equal timestamps: offset pages then overlap and miss items."""

    def batch(self, ops: Any) -> list[Result]:
        results = super().batch(ops)
        for op, result in zip(ops, results):
            if isinstance(op, SearchOp) and op.query is None:
                everything = super().batch([op._replace(limit=10**9, offset=0)])[0]
                random.shuffle(everything)  # type: ignore[arg-type]
                results[results.index(result)] = everything[op.offset : op.offset + op.limit]  # type: ignore[index]
        return results


def test_unstable_page_order_still_copies_every_item(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_copy_sources, "PAGE", 7)
    random.seed(5)
    source = _ShuffledTies()
    for n in range(60):
        source.put(("ties",), f"k{n:02d}", {"text": f"note {n}"})
    pages = [
        source.search(("ties",), limit=7, offset=o) for o in range(0, 63, 7)
    ]  # the problem is real: offset pages of this store do not cover it
    assert len({i.key for page in pages for i in page}) < 60
    target = _store()
    assert copy_store(source, target) == 60
    assert len(_items(target)) == 60


def _langgraph_file(path: Path, ttl: dict[str, Any] | None = None) -> LangGraphSqliteStore:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    old = LangGraphSqliteStore(conn, ttl=ttl)  # type: ignore[arg-type]
    old.setup()
    for namespace, key, value in VALUES:
        old.put(namespace, key, value)
    old.put(("users", "ana"), "soon", {"text": "expires in an hour"}, ttl=60)
    return old


def _table_ttl(path: Path, key: str) -> tuple[float, datetime]:
    conn = sqlite3.connect(path)
    try:
        minutes, expires = conn.execute(
            "SELECT ttl_minutes, expires_at FROM store WHERE key = ?", (key,)
        ).fetchone()
    finally:
        conn.close()
    moment = datetime.fromisoformat(expires)
    return minutes, moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _ours_ttl(store: SqliteStore, key: str) -> tuple[float | None, datetime | None]:
    with store._read() as conn:
        minutes, expires = conn.execute(
            "SELECT ttl_minutes, expires_at FROM langmem_items WHERE key = ?", (key,)
        ).fetchone()
    return minutes, None if expires is None else datetime.fromtimestamp(expires, tz=timezone.utc)


def test_langgraph_sqlite_object_keeps_ttls_and_is_not_refreshed(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    old = _langgraph_file(path, ttl={"refresh_on_read": True, "default_ttl": None})
    digest = _rows(path)
    target = _store()
    assert copy_store(old, target) == len(VALUES) + 1
    assert _rows(path) == digest  # reading refreshed no TTL
    minutes, expires = _table_ttl(path, "soon")
    assert _ours_ttl(target, "soon") == (minutes, expires) == (60.0, expires)
    assert abs(expires - datetime.now(timezone.utc) - timedelta(minutes=60)) < timedelta(minutes=1)
    assert _ours_ttl(target, "k1") == (None, None)
    stored = old.get(("users", "bo"), "k1")
    copied = target.get(("users", "bo"), "k1")
    assert copied is not None and stored is not None
    assert copied.value == stored.value
    # LangGraph keeps naive UTC seconds; ours keeps the same moment, as UTC
    assert copied.created_at == stored.created_at.replace(tzinfo=timezone.utc)
    old.conn.close()


def test_mixed_file_copied_into_itself_by_url_then_no_warning(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    _langgraph_file(path).conn.close()
    digest = _rows(path)
    _connection._warned.clear()
    with pytest.warns(UserWarning, match=r"langmem store copy langgraph-sqlite:///.*app\.db"):
        ours = _store(path)  # langmem's tables beside LangGraph's: a mixed file
    ours.put(("mine",), "kept", {"text": "written by langmem"})
    assert copy_store(f"langgraph-sqlite:///{path}", ours) == len(VALUES) + 1
    assert _rows(path) == digest  # LangGraph's table is as it was
    assert _ours_ttl(ours, "soon") == _table_ttl(path, "soon")  # before a read refreshes it
    assert len(_items(ours)) == len(VALUES) + 2
    assert ours.search(("users",), query="crème brûlée", limit=1)[0].key == "k2"
    ours.close()
    _connection._warned.clear()  # a new process: every item is copied, nothing to warn of
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _store(path).close()


def test_a_langgraph_file_written_before_ttls_existed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE store (prefix text NOT NULL, key text NOT NULL, value text NOT NULL,"
        " created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,"
        " updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY (prefix, key))"
    )
    conn.execute(
        "INSERT INTO store VALUES ('notes', 'a', '{\"text\": \"hi\"}', '2024-05-01 10:00:00',"
        " '2024-05-02 11:00:00')"
    )
    conn.commit()
    conn.close()
    target = _store()
    assert copy_store(f"langgraph-sqlite:///{path}", target) == 1
    item = target.get(("notes",), "a")
    assert item is not None and item.value == {"text": "hi"}
    assert item.created_at == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert item.updated_at == datetime(2024, 5, 2, 11, tzinfo=timezone.utc)


def _bad_row(path: Path, prefix: str, key: str, value: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO store (prefix, key, value, created_at, updated_at)"
        " VALUES (?, ?, ?, '2024-01-01 00:00:00', '2024-01-01 00:00:00')",
        (prefix, key, value),
    )
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("prefix", "value", "message"),
    [
        ("zz", "{not json", r"zz/'bad': the value is not JSON"),
        ("zz", "[1, 2]", r"zz/'bad': the value is a list, not a JSON object"),
        ("zz..empty", '{"a": 1}', r"Invalid namespace label ''"),
    ],
)
def test_an_unreadable_item_stops_the_copy_before_anything_is_written(
    tmp_path: Path, prefix: str, value: str, message: str
) -> None:
    path = tmp_path / "app.db"
    _langgraph_file(path).conn.close()
    _bad_row(path, prefix, "bad", value)  # sorts after every good item
    target = _store()
    with pytest.raises(LangMemError, match=message) as raised:
        copy_store(f"langgraph-sqlite:///{path}", target, batch_size=2)
    assert "Nothing was copied" in str(raised.value)
    assert _items(target) == {}


def test_files_that_are_not_langgraph_stores(tmp_path: Path) -> None:
    target = _store()
    with pytest.raises(ConfigurationError, match=r"'.*missing\.db' does not exist"):
        copy_store(f"langgraph-sqlite:///{tmp_path / 'missing.db'}", target)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(ConfigurationError, match=r"cannot be read \(DatabaseError.*\.recover"):
        copy_store(f"langgraph-sqlite:///{garbage}", target)
    ours = tmp_path / "ours.sqlite"
    _store(ours).close()
    with pytest.raises(ConfigurationError, match="it is a langmem store file: give it as sqlite"):
        copy_store(f"langgraph-sqlite:///{ours}", target)
    assert _items(target) == {}


class _Flaky(HashingEmbeddings):
    """Hashing embeddings that fail on one text while ``broken``."""

    broken = True

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.broken and any("item-7" in t for t in texts):
            raise RuntimeError("embedding service unavailable")
        return super().embed_documents(texts)


def test_a_failure_midway_says_what_was_copied_and_a_rerun_finishes() -> None:
    source = InMemoryStore()
    for n in range(10):
        source.put(("bulk",), f"item-{n}", {"text": f"note item-{n}"})
    embeddings = _Flaky(DIMS)
    target = SqliteStore(":memory:", index={"dims": DIMS, "embed": embeddings})
    with pytest.raises(LangMemError, match=r"stopped after 6 of 10 item\(s\).*again is safe"):
        copy_store(source, target, batch_size=3)
    assert len(_items(target)) == 6
    embeddings.broken = False
    assert copy_store(source, target, batch_size=3) == 10
    assert len(_items(target)) == 10


def test_wrong_dims_and_a_target_that_is_not_langmem() -> None:
    source = InMemoryStore()
    source.put(("a",), "1", {"text": "x"})
    wrong = SqliteStore(":memory:", index={"dims": 32, "embed": HashingEmbeddings(DIMS)})
    with pytest.raises(ConfigurationError, match=r"dims=32.*Nothing was copied"):
        copy_store(source, wrong)
    assert _items(wrong) == {}
    with pytest.raises(ConfigurationError, match="not InMemoryStore: open the target"):
        copy_store(source, InMemoryStore())


async def test_an_async_langgraph_store_is_read_from_a_worker_thread(tmp_path: Path) -> None:
    import asyncio

    from langgraph.store.sqlite.aio import AsyncSqliteStore

    path = tmp_path / "app.db"
    _langgraph_file(path).conn.close()
    target = _store()
    async with AsyncSqliteStore.from_conn_string(str(path)) as old:
        with (
            pytest.warns(UserWarning, match=r"TTLs of AsyncSqliteStore could not be read"),
            pytest.raises(ConfigurationError, match=r"in the event loop.*asyncio\.to_thread"),
        ):
            copy_store(old, target)
        with pytest.warns(UserWarning, match=r"without a TTL\. To keep them.*langgraph-sqlite"):
            assert await asyncio.to_thread(copy_store, old, target) == len(VALUES) + 1
    assert _ours_ttl(target, "soon") == (None, None)  # as the warning said
    assert copy_store(f"langgraph-sqlite:///{path}", target) == len(VALUES) + 1
    assert _ours_ttl(target, "soon") == _table_ttl(path, "soon")


def test_a_nan_value_is_refused_before_anything_is_written() -> None:
    """The embedded store refuses NaN (SQLite's JSON functions cannot read it); the whole
    source is checked first, so a NaN in the last page copies nothing (it stopped after the
    good items before)."""
    source = InMemoryStore()
    for namespace, key, value in VALUES:
        source.put(namespace, key, value)
    source.put(("zz",), "bad", {"text": "a reading", "x": float("nan")})
    target = _store()
    with pytest.raises(LangMemError, match=r"NaN at value\['x'\]") as raised:
        copy_store(source, target, batch_size=2)
    assert "Nothing was copied" in str(raised.value)
    assert "stopped after" not in str(raised.value)
    assert _items(target) == {}
