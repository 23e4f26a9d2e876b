"""`langmem store copy` from a LangGraph SQLite file on a read-only mount reads it as a read-only
store file is read (langmem.stores._read_only): ``mode=ro`` while a ``-wal`` or ``-shm`` file
shows another process may have it open, ``immutable=1`` (with a warning) only when neither
exists and ``mode=ro`` cannot work, which on a real read-only mount is a WAL file without its
``-shm`` file (SQLite cannot make it there). The mount is simulated through ``os.statvfs``, as
in tests/stores/test_read_only_safety.py; where SQLite could make the ``-shm`` and ``-wal``
files, it must not have (on the real mount it would fail)."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

import pytest
from langgraph.store.sqlite import SqliteStore as LangGraphSqliteStore

from langmem.embeddings import HashingEmbeddings
from langmem.errors import ConfigurationError
from langmem.stores import SqliteStore, copy_store
from langmem.stores._copy_tables import SqliteFileSource, has_langgraph_table
from tests.stores.test_read_only_safety import _read_only_mount

VALUES = [(("users", "ana"), f"k{n}", {"text": f"note {n} about tea"}) for n in range(5)]


def _langgraph_wal_file(path: Path) -> str:
    """A LangGraph SqliteStore file in WAL mode, closed (no -wal or -shm file left); its
    digest."""
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    store = LangGraphSqliteStore(conn)  # type: ignore[arg-type]
    store.setup()
    for namespace, key, value in VALUES:
        store.put(namespace, key, value)
    conn.close()
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_closed_wal_file_on_a_read_only_mount_is_copied_as_immutable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "mount"
    folder.mkdir()
    path = folder / "app.db"
    digest = _langgraph_wal_file(path)
    _read_only_mount(monkeypatch, folder)
    target = SqliteStore(
        tmp_path / "ours.sqlite", index={"dims": 16, "embed": HashingEmbeddings(16)}
    )
    assert has_langgraph_table(path)
    with caplog.at_level(logging.WARNING, logger="langmem"):
        assert copy_store(f"langgraph-sqlite:///{path}", target) == len(VALUES)
    assert "immutable=1" in caplog.text and "read-only file system" in caplog.text
    assert target.search(("users",), query="note 3", limit=1)[0].key == "k3"
    target.close()
    # nothing made beside the file (a real read-only mount would have refused it) or changed
    assert sorted(p.name for p in folder.iterdir()) == ["app.db"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest


def test_a_wal_file_another_process_may_write_is_read_with_mode_ro(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.db"
    _langgraph_wal_file(path)
    Path(f"{path}-wal").touch()  # a writer may have it open: never immutable=1
    _read_only_mount(monkeypatch, tmp_path)
    source = SqliteFileSource(f"langgraph-sqlite:///{path}")
    assert source._uri == f"{path.as_uri()}?mode=ro"
    assert sum(len(page) for page in source.pages(100)) == len(VALUES)
    source.close()


def test_a_wal_file_sqlite_cannot_read_here_says_how_to_copy_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "app.db"
    _langgraph_wal_file(path)
    Path(f"{path}-wal").touch()
    _read_only_mount(monkeypatch, tmp_path)
    real = sqlite3.connect

    def connect(database: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        if str(database).endswith("mode=ro"):  # as on the real mount: no -shm can be made
            raise sqlite3.OperationalError("unable to open database file")
        return real(database, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3, "connect", connect)
    with pytest.raises(ConfigurationError) as raised:
        SqliteFileSource(f"langgraph-sqlite:///{path}")
    message = str(raised.value)
    assert "Nothing was copied" in message and "with its -wal file" in message
    assert "immutable=1, which would miss or garble those changes" in message
