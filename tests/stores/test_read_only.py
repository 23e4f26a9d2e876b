"""Read-only store files (``mode=ro`` or ``immutable=1`` in a ``file:`` URI, ``mode=ro`` in a
store URL, a file on a read-only file system): reads work, sync and async; every write raises
StoreFileError naming the file and the fix, and nothing in the file changes."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import PutOp

from langmem.errors import StoreFileError
from langmem.stores import SqliteStore, _read_only, open_store
from langmem.testing import HashingEmbeddings
from tests.cli._support import run

NS = ("notes", "ana")
INDEX: Any = {"dims": 16, "embed": HashingEmbeddings(16)}


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "m.sqlite"
    store = SqliteStore(path, index=INDEX, ttl={"default_ttl": 60, "refresh_on_read": True})
    store.put(NS, "tea", {"text": "likes green tea", "kind": "drink"})
    store.put(NS, "dog", {"text": "has a dog named Rex", "kind": "pet"})
    store.close()  # checkpoints the WAL into the file
    return path


def _digest(path: Path) -> str:
    """The file and its write-ahead log (SQLite may make an empty one to read a WAL file)."""
    return "".join(
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (path, Path(f"{path}-wal"))
        if p.exists() and p.stat().st_size
    )


def _writes(store: SqliteStore) -> list[Any]:
    return [
        lambda: store.put(NS, "new", {"text": "x"}),
        lambda: store.delete(NS, "tea"),
        lambda: store.batch([PutOp(NS, "tea", {"text": "changed"})]),
        lambda: store.sweep_ttl(),
        lambda: store.reembed(),
    ]


@pytest.mark.parametrize("flag", ["mode=ro", "immutable=1"])
def test_reads_work_and_writes_are_refused(tmp_path: Path, flag: str) -> None:
    path = _file(tmp_path)
    before = _digest(path)
    store = SqliteStore(f"{path.as_uri()}?{flag}", index=INDEX, ttl={"refresh_on_read": True})
    assert store.get(NS, "tea").value["kind"] == "drink"  # type: ignore[union-attr]
    assert [h.key for h in store.search(NS, query="what pet?", limit=1)] == ["dog"]
    assert [h.key for h in store.search(NS, filter={"kind": "drink"})] == ["tea"]
    assert [h.key for h, _ in store.explain(NS, "green tea", limit=1)] == ["tea"]
    assert store.list_namespaces() == [NS]
    for write in _writes(store):
        with pytest.raises(StoreFileError) as raised:
            write()
        message = str(raised.value)
        assert message.startswith(f"The store file '{path.as_uri()}?{flag}' is open read-only")
        assert f"Fix: open it without {flag} to write." in message
    store.close()
    assert _digest(path) == before  # nothing changed, the TTL refresh on read included


async def test_async_reads_and_writes(tmp_path: Path) -> None:
    path = _file(tmp_path)
    store = SqliteStore(f"{path.as_uri()}?mode=ro", index=INDEX)
    assert [h.key for h in await store.asearch(NS, query="tea", limit=1)] == ["tea"]
    assert (await store.aget(NS, "dog")) is not None
    with pytest.raises(StoreFileError, match="is open read-only"):
        await store.aput(NS, "new", {"text": "x"})
    store.close()


def test_a_store_url_with_mode_ro(tmp_path: Path) -> None:
    path = _file(tmp_path)
    store = open_store(f"sqlite:///{path}?embed=hashing&dims=16&mode=ro")
    assert [h.key for h in store.search(NS, query="dog", limit=1)] == ["dog"]
    with pytest.raises(StoreFileError, match="mode=ro in its store URL"):
        store.put(NS, "x", {"text": "x"})
    store.close()  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="mode='rwc' is not supported: use mode=ro"):
        open_store(f"sqlite:///{path}?mode=rwc")


def test_a_file_on_a_read_only_file_system_opens_for_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The plain path is opened with immutable=1 (nobody can change such a file, and SQLite
    could not make the -shm file WAL needs there). A read-only mount is simulated: the file
    system's flag is what is read."""
    path = _file(tmp_path)
    before = _digest(path)
    real = _read_only.read_only_file_system
    monkeypatch.setattr(
        _read_only, "read_only_file_system", lambda p: str(p) == str(path) or real(p)
    )
    with caplog.at_level(logging.WARNING, logger="langmem"):
        store = SqliteStore(path, index=INDEX)
    assert "read-only file system" in caplog.text and str(path) in caplog.text
    assert store.path == str(path) and store.read_only
    assert store._uri == f"{path.as_uri()}?immutable=1"  # no -wal or -shm file, none possible
    assert [h.key for h in store.search(NS, query="tea", limit=1)] == ["tea"]
    with pytest.raises(StoreFileError) as raised:
        store.put(NS, "x", {"text": "x"})
    assert str(raised.value) == (
        f"The store file '{path}' is open read-only (it is on a read-only file system): "
        "nothing was written and nothing in it changed. Fix: copy it where this user can "
        "write and open the copy, or make the file and its folder writable."
    )
    store.close()
    assert _digest(path) == before


def test_a_file_of_an_older_schema_is_refused_read_only(tmp_path: Path) -> None:
    path = _file(tmp_path)
    with sqlite3.connect(path) as conn:  # as an earlier version left it: one migration less
        conn.execute(
            "DELETE FROM langmem_migrations WHERE v = (SELECT max(v) FROM langmem_migrations)"
        )
    with pytest.raises(StoreFileError, match=r"written by an earlier langmem \(schema \d+ of"):
        SqliteStore(f"{path.as_uri()}?mode=ro", index=INDEX)


def test_the_cli_reads_a_read_only_store_and_refuses_writes(tmp_path: Path) -> None:
    path = _file(tmp_path)
    before = _digest(path)
    url = f"sqlite:///{path}?embed=hashing&dims=16&mode=ro"
    listed = run("memories", "list", "-n", "notes/ana", "--store", url)
    assert listed.exit_code == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 2
    found = run("memories", "search", "pet dog", "-n", "notes/ana", "-l", "1", "--store", url)
    assert '"key":"dog"' in found.stdout
    added = run("memories", "add", "likes cats", "-n", "notes/ana", "--store", url)
    assert added.exit_code == 1
    assert added.stderr.startswith(f"error: The store file '{path}' is open read-only")
    assert "Fix: open it without read_only=True (or mode=ro) to write." in added.stderr
    assert _digest(path) == before
