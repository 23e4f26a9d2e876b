"""Read-only files another process may write, and what a read-only handle must never do.

A file another process may write is read with ``mode=ro`` (SQLite sees its writes), never with
``immutable=1``, whenever its ``-wal`` or ``-shm`` file exists; ``immutable=1`` is used only
when neither exists and ``mode=ro`` cannot work, with a warning. A read-only handle refuses
another index as a mismatch, refuses writes before calling the embedding model, and names the
file as the user gave it. Read-only mounts and unwritable folders are simulated through
``os.statvfs`` and ``os.access`` (these tests run as any user, root included); the real thing
was checked by hand as user ``nobody``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from langgraph.store.base import Item, PutOp

from langmem.errors import IndexMismatchError, StoreFileError
from langmem.stores import SqliteStore, _identity, _snapshot, open_store
from langmem.testing import HashingEmbeddings

NS = ("notes", "ana")
INDEX: Any = {"dims": 16, "embed": HashingEmbeddings(16)}


def _file(tmp_path: Path, count: int = 0) -> Path:
    path = tmp_path / "m.sqlite"
    store = SqliteStore(path, index=INDEX)
    store.put(NS, "tea", {"text": "likes green tea", "kind": "drink"})
    store.put(NS, "dog", {"text": "has a dog named Rex", "kind": "pet"})
    for n in range(count):
        store.put(NS, f"n{n}", {"text": f"note number {n} about walks"})
    store.close()  # checkpoints the WAL into the file: no -wal or -shm file is left
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_only_mount(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Files in ``folder`` are on a read-only file system (as a read-only bind mount)."""
    real = os.statvfs

    def statvfs(path: Any) -> Any:
        found = real(path)
        if os.path.dirname(os.path.abspath(path)) == str(folder):
            return SimpleNamespace(f_flag=found.f_flag | os.ST_RDONLY)
        return found

    monkeypatch.setattr(os, "statvfs", statvfs)


def _unwritable(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    """This user cannot write ``paths`` (files or folders), as ``os.access`` tells."""
    real = os.access
    denied = {str(p) for p in paths}

    def access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        if mode & os.W_OK and os.path.abspath(path) in denied:
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


# -- which way SQLite reads the file ------------------------------------------------------------


def test_a_read_only_mount_another_process_writes_is_read_as_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The host (here: a writer handle) writes the file while a container reads it through a
    read-only mount: its -wal and -shm files exist, so the reader uses mode=ro and sees every
    write (immutable=1 would read the main file only: 'cat' missing, or SQLITE_CORRUPT)."""
    path = _file(tmp_path)
    writer = SqliteStore(path, index=INDEX)  # open, nothing written yet: an empty -wal file
    assert Path(f"{path}-shm").exists() and Path(f"{path}-wal").stat().st_size == 0
    _read_only_mount(monkeypatch, tmp_path)
    reader = SqliteStore(path, index=INDEX)
    assert reader.get(NS, "dog") is not None
    writer.put(NS, "cat", {"text": "has a cat named Tom", "kind": "pet"})
    assert reader.get(NS, "cat") is not None
    writer.put(NS, "fish", {"text": "keeps a goldfish", "kind": "pet"})
    assert reader.get(NS, "fish") is not None
    assert [h.key for h in reader.search(NS, query="goldfish", limit=1)] == ["fish"]
    with pytest.raises(StoreFileError, match="it is on a read-only file system"):
        reader.put(NS, "x", {"text": "x"})
    reader.close()
    writer.close()


def test_a_wal_file_alone_means_mode_ro_even_when_no_shm_file_can_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path)
    Path(f"{path}-wal").touch()  # left by a writer (even empty: it may be open right now)
    _unwritable(monkeypatch, tmp_path)
    store = SqliteStore(path, index=INDEX)
    assert store._uri == f"{path.as_uri()}?mode=ro"
    assert store.get(NS, "tea") is not None
    store.close()


def test_immutable_only_without_wal_and_shm_files_and_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No -wal or -shm file (nobody has the file open) and none can be made: mode=ro cannot
    read a WAL file, so immutable=1, saying what that risks and how to avoid it."""
    path = _file(tmp_path)
    before = _digest(path)
    _unwritable(monkeypatch, tmp_path)
    with caplog.at_level(logging.WARNING, logger="langmem"):
        store = SqliteStore(path, index=INDEX)
    assert store.read_only and store._uri == f"{path.as_uri()}?immutable=1"
    assert "this user cannot write its folder" in caplog.text
    assert "immutable=1" in caplog.text
    assert "another process writes it while this store is open" in caplog.text
    assert "wrong results or errors" in caplog.text and "copy the file" in caplog.text
    assert [h.key for h in store.search(NS, query="dog", limit=1)] == ["dog"]
    with pytest.raises(StoreFileError) as raised:
        store.put(NS, "x", {"text": "x"})
    assert str(raised.value) == (  # no "open it without immutable=1": the user never wrote it
        f"The store file '{path}' is open read-only (this user cannot write its folder, where "
        "SQLite keeps its -wal and -shm files): nothing was written and nothing in it changed. "
        "Fix: copy it where this user can write and open the copy, or make the file and its "
        "folder writable."
    )
    store.close()
    assert _digest(path) == before and not Path(f"{path}-wal").exists()


def test_a_file_this_user_cannot_write_is_read_with_mode_ro_and_sees_the_owner_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = _file(tmp_path)
    owner = SqliteStore(path, index=INDEX)  # the file's owner, opened before this user's view
    _unwritable(monkeypatch, path)
    with caplog.at_level(logging.WARNING, logger="langmem"):
        reader = SqliteStore(path, index=INDEX)
    assert "this user cannot write it" in caplog.text and str(path) in caplog.text
    assert reader.read_only and reader._uri == f"{path.as_uri()}?mode=ro"
    owner.put(NS, "later", {"text": "moved to Porto"})
    assert reader.get(NS, "later") is not None
    with pytest.raises(StoreFileError, match=r"this user cannot write it\): nothing was written"):
        reader.delete(NS, "tea")
    reader.close()
    owner.close()


def test_an_unwritable_folder_with_the_owner_writing_is_read_with_mode_ro(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path)
    owner = SqliteStore(path, index=INDEX)
    owner.put(NS, "later", {"text": "moved to Porto"})  # the owner has it open: -shm exists
    _unwritable(monkeypatch, tmp_path)
    reader = SqliteStore(path, index=INDEX)
    assert reader._uri == f"{path.as_uri()}?mode=ro"
    assert reader.get(NS, "later") is not None
    owner.put(NS, "again", {"text": "then to Faro"})
    assert reader.get(NS, "again") is not None
    reader.close()
    owner.close()


# -- the index of a read-only handle ------------------------------------------------------------


def test_another_index_read_only_is_an_index_mismatch(tmp_path: Path) -> None:
    path = _file(tmp_path)
    before = _digest(path)
    for other in (
        {"dims": 32, "embed": HashingEmbeddings(32)},
        {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["kind"]},
    ):
        with pytest.raises(IndexMismatchError, match="is indexed with") as raised:
            open_store(
                f"sqlite:///{path}?mode=ro",
                embed=other["embed"],
                dims=other["dims"],
                fields=other.get("fields"),
            )
        assert f"The store file '{path}'" in str(raised.value)
        with pytest.raises(IndexMismatchError):
            SqliteStore(f"{path.as_uri()}?mode=ro", index=other)
    assert _digest(path) == before


def test_a_legacy_index_record_opens_read_only(tmp_path: Path) -> None:
    """A file from before the full record (embedder and dims only, no fields) reads as it is:
    nothing is recorded, nothing is asked of the user."""
    path = _file(tmp_path)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM langmem_meta WHERE key = ?", (_identity.META_KEY,))
    before = _digest(path)
    store = SqliteStore(f"{path.as_uri()}?mode=ro", index=INDEX)
    assert [h.key for h in store.search(NS, query="green tea", limit=1)] == ["tea"]
    store.close()
    assert _digest(path) == before


# -- writes refused before the model is called --------------------------------------------------


class _Counting(HashingEmbeddings):
    def __init__(self, dims: int) -> None:
        super().__init__(dims)
        self.calls = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return super().embed_documents(texts)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return super().embed_documents(texts)


async def test_writes_are_refused_before_anything_is_embedded(tmp_path: Path) -> None:
    path = _file(tmp_path, count=5)
    model = _Counting(16)
    store = SqliteStore(f"{path.as_uri()}?mode=ro", index={"dims": 16, "embed": model})
    item = Item(
        namespace=NS, key="new", value={"text": "brand new"}, created_at=_now(), updated_at=_now()
    )
    attempts: list[Any] = [
        lambda: store.put(NS, "new", {"text": "brand new text"}),
        lambda: store.batch([PutOp(NS, "new", {"text": "brand new text"})]),
        lambda: store.reembed(),
        lambda: store.reembed({"dims": 16, "embed": model, "fields": ["kind"]}),
        lambda: store.restore([item]),
    ]
    for attempt in attempts:
        with pytest.raises(StoreFileError, match="is open read-only"):
            attempt()
    with pytest.raises(StoreFileError, match="is open read-only"):
        await store.aput(NS, "new", {"text": "brand new text"})
    with pytest.raises(StoreFileError, match="is open read-only"):
        await store.abatch([PutOp(NS, "new", {"text": "another text"})])
    assert model.calls == 0
    assert [h.key for h in store.search(NS, query="dog", limit=1)] == ["dog"]  # reads still work
    store.close()


def _now() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


# -- messages -----------------------------------------------------------------------------------


def test_mode_ro_on_a_missing_file_says_it_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "sub" / "nope.sqlite"
    for opened in (
        lambda: open_store(f"sqlite:///{missing}?embed=hashing&dims=16&mode=ro"),
        lambda: SqliteStore(missing, index=INDEX, read_only=True),
        lambda: SqliteStore(f"{missing.as_uri()}?mode=ro", index=INDEX),
    ):
        with pytest.raises(StoreFileError) as raised:
            opened()
        message = str(raised.value)
        assert "does not exist" in message and str(missing) in message
        assert "writable" not in message
    assert not missing.parent.exists()  # nothing created, not even the folder


def test_open_store_mode_ro_names_the_path_and_never_asks_to_drop_immutable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path)
    _unwritable(monkeypatch, tmp_path)  # so mode=ro cannot work: immutable=1, chosen by langmem
    store = open_store(f"sqlite:///{path}?embed=hashing&dims=16&mode=ro")
    assert isinstance(store, SqliteStore) and store._uri.endswith("?immutable=1")
    with pytest.raises(StoreFileError) as raised:
        store.put(NS, "x", {"text": "x"})
    message = str(raised.value)
    assert message.startswith(f"The store file '{path}' is open read-only")
    assert "immutable" not in message and "file:" not in message
    store.close()


# -- NaN/Infinity rows met by two threads at once -----------------------------------------------


def test_two_searches_meeting_an_old_nan_row_at_once_both_succeed(tmp_path: Path) -> None:
    """Thread B's search fails on such a row; before B registers the tolerant reader, thread A
    (which met the row too) has registered it: B must retry, not raise."""
    path = _file(tmp_path)
    with sqlite3.connect(path) as conn:  # as an earlier version wrote it
        conn.execute(
            "UPDATE langmem_items SET value = ? WHERE key = 'tea'",
            ('{"text":"likes green tea","kind":"drink","n":NaN}',),
        )
    store = SqliteStore(path, index=INDEX)
    original = store._execute_once
    calls = 0

    def racing(*args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls > 1:
            return original(*args)
        try:
            original(*args)
        except StoreFileError as exc:
            failed = exc  # B failed; A now meets the row and registers the reader
        other = threading.Thread(target=lambda: store.search(NS, filter={"kind": "pet"}))
        other.start()
        other.join()
        raise failed

    store._execute_once = racing  # type: ignore[method-assign]
    assert [h.key for h in store.search(NS, filter={"kind": "drink"})] == ["tea"]
    assert calls == 4  # B, A, A again (tolerant), B again
    store.close()


# -- the matrix cache ---------------------------------------------------------------------------


def test_a_read_only_handle_reads_the_matrix_cache_and_never_writes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_snapshot, "MIN_ROWS", 10)
    monkeypatch.delenv(_snapshot.ENV, raising=False)
    path = _file(tmp_path, count=20)
    cache = Path(f"{path}{_snapshot.SUFFIX}")
    writer = SqliteStore(path, index=INDEX)
    writer.search(NS, query="walks", limit=1)  # the first load writes the cache
    writer.close()
    assert cache.exists()
    before = _digest(path)
    reader = SqliteStore(path, index=INDEX, read_only=True)
    assert [h.key for h in reader.search(NS, query="green tea", limit=1)] == ["tea"]
    assert reader._vectors is not None and reader._vectors.installed  # loaded from the cache
    reader.close()
    cache.unlink()
    reader = SqliteStore(path, index=INDEX, read_only=True)
    assert [h.key for h in reader.search(NS, query="green tea", limit=1)] == ["tea"]
    assert reader._vectors is not None and not reader._vectors.installed
    reader.close()
    assert not cache.exists() and _digest(path) == before


def test_read_only_true_on_a_uri_and_on_memory(tmp_path: Path) -> None:
    path = _file(tmp_path)
    before = _digest(path)
    writable = SqliteStore(path.as_uri(), index=INDEX)
    assert not writable.read_only
    writable.close()
    store = SqliteStore(path.as_uri(), index=INDEX, read_only=True)
    assert store.read_only and store._uri == f"{path.as_uri()}?mode=ro"
    assert store.get(NS, "dog") is not None
    with pytest.raises(StoreFileError, match=r"Fix: open it without read_only=True \(or mode=ro\)"):
        store.put(NS, "x", {"text": "x"})
    store.close()
    assert _digest(path) == before
    with pytest.raises(ValueError, match="in-memory database is empty"):
        SqliteStore(":memory:", read_only=True)


def test_a_malformed_read_under_immutable_does_not_say_the_file_is_damaged(
    tmp_path: Path,
) -> None:
    """Another process rewrites the file under an immutable=1 reader: SQLite reports malformed
    pages. The fix is to reopen (or read a copy), not to move the file aside and restore a
    backup: the file is fine."""
    path = _file(tmp_path, count=50)
    reader = SqliteStore(f"{path.as_uri()}?immutable=1", index=INDEX)
    assert len(reader.search(NS, limit=100)) == 52
    writer = SqliteStore(path, index=INDEX)
    writer.batch([PutOp(NS, f"n{n}", None) for n in range(50)])
    writer.batch([PutOp(("other",), f"k{n}", {"text": f"other {n} " * 30}) for n in range(300)])
    writer._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with pytest.raises(StoreFileError) as raised:
        reader.search(("other",), query="other", limit=100)
    message = str(raised.value)
    assert message.startswith(f"The store file '{path.as_uri()}?immutable=1' cannot be used")
    assert "most likely not damaged" in message and "open it again" in message
    assert "move it aside" not in message and ".recover" not in message
    reader.close()
    writer.close()
    assert SqliteStore(path, index=INDEX).get(("other",), "k1") is not None  # the file is fine


def test_the_cli_says_why_a_file_cannot_be_read_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`store info` on a WAL file SQLite cannot read read-only here (a -wal file, and no -shm
    file can be made beside it: what SQLite says is simulated, root can always make it)."""
    from tests.cli._support import run

    path = _file(tmp_path)
    Path(f"{path}-wal").touch()
    real = sqlite3.connect

    def connect(database: Any, *args: Any, **kwargs: Any) -> Any:
        if str(database).endswith("?mode=ro"):
            return _Failing()  # fails as SQLite does: at the first read
        return real(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", connect)
    result = run("store", "info", "--store", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: The store file '{path}' cannot be used")
    assert "a -wal file is there" in result.stderr and "not a langmem store" not in result.stderr


class _Failing:
    def execute(self, *args: Any) -> Any:
        raise sqlite3.OperationalError("unable to open database file")

    def close(self) -> None:
        pass
