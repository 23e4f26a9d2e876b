"""The embedded store's file: its connection, transactions, and refusing writes when read-only.

:class:`Transactions` is the base of :class:`~langmem.stores.SqliteStore` that holds its SQLite
connection (opened by ``_connection``, one per handle, under the handle's lock): a write runs
in one ``BEGIN IMMEDIATE`` transaction that commits or rolls back on any error, a read in one
snapshot; a write to a read-only file is refused before anything is embedded or changed
(``_read_only`` says why), as is a write after the file was deleted or replaced while open
(``_connection.FileIdentity``, checked before the transaction opens: SQLite would write into
the unlinked file, and the write be lost; a file replaced during the transaction is not
caught), and SQLite errors become clear ``StoreFileError`` errors.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from langmem.errors import ConfigurationError, StoreFileError
from langmem.stores import _read_only, _term_docs
from langmem.stores._connection import FileIdentity, connect, file_error

if TYPE_CHECKING:
    from langmem.tasks import TaskQueue


class Transactions:
    """A store handle's connection to its file, and the transactions run on it."""

    path: str
    _lock: threading.RLock
    _closed: bool
    _read_only: _read_only.ReadOnly | None  # why writes are refused (``None``: they are not)
    _uri: str  # what SQLite opens (a ``file:`` URI for read-only files)
    _conn: sqlite3.Connection
    _own_writes: int  # write transactions this handle ran (data_version misses them)
    _opened_file: FileIdentity  # the file opened, so writes after it is deleted are refused

    def _open_file(self, chosen: str, timeout: float, read_only: bool) -> None:
        """Open ``chosen`` (a path, ``":memory:"`` or a ``file:`` URI), read-only if asked or
        when it cannot be written."""
        special = chosen == ":memory:" or chosen.startswith("file:")
        self.path = chosen if special else str(Path(chosen).expanduser())
        self._lock = threading.RLock()
        self._closed = False
        if not isinstance(read_only, bool):
            raise ConfigurationError(
                f"SqliteStore(read_only={read_only!r}): read_only is of type "
                f"{type(read_only).__name__}, not a bool (a string such as 'false' would count "
                "as true). Fix: pass read_only=True or read_only=False."
            )
        self._read_only = _read_only.reason(self.path, asked=read_only)  # why writes are refused
        self._uri = (
            self.path
            if self._read_only is None
            else _read_only.uri_to_open(self.path, self._read_only)
        )
        if self._read_only is None and not special:
            _make_folder(Path(self.path))
        self._conn = connect(
            self._uri, timeout, read_only=self._read_only is not None, shown=self.path
        )
        self._opened_file = FileIdentity(self._uri, shown=self.path)
        self._own_writes = 0

    @property
    def read_only(self) -> bool:
        """Whether this store only reads its file (asked for, or the file cannot be written):
        every write then raises :class:`~langmem.errors.StoreFileError` before anything is
        embedded or changed."""
        return self._read_only is not None

    @property
    def _file(self) -> str:
        """The file this store reads (``":memory:"`` for an in-memory database)."""
        memory = self._uri == ":memory:" or "mode=memory" in self._uri
        return ":memory:" if memory else _read_only.file_of(self._uri)

    def _refuse_writes(self) -> None:
        """Refuse a write to a read-only file before anything is embedded or changed."""
        if self._read_only is not None:
            self._ensure_open()
            raise self._read_only.error(self.path)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE``, commit, or roll back on any error."""
        with self._lock:
            self._refuse_writes()
            self._ensure_open()
            self._opened_file.check()  # deleted or replaced: the write would be lost
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    _term_docs.fold(self._conn)  # word counts change with the texts
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                finally:
                    self._own_writes += 1  # committed or not: the next sync looks again
            except sqlite3.Error as exc:
                raise self._file_error(exc) from exc

    @contextmanager
    def _read(self, *, snapshot: bool = True) -> Iterator[sqlite3.Connection]:
        """One read transaction, so every op of a batch sees the same snapshot (``snapshot``:
        a lone op skips it; its few statements tolerate a concurrent commit)."""
        with self._lock:
            self._ensure_open()
            try:
                if not snapshot:
                    yield self._conn
                    return
                self._conn.execute("BEGIN")
                try:
                    yield self._conn
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._file_error(exc) from exc

    def _file_error(self, exc: sqlite3.Error) -> StoreFileError:
        return file_error(self._uri, exc, shown=self.path, read_only=self._read_only is not None)

    def _ensure_open(self) -> None:
        if self._closed:
            raise ConfigurationError(
                f"The store for {self.path!r} is closed: open a new SqliteStore to use it again."
            )

    def _state(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """Which state of the file this connection sees: ``PRAGMA data_version`` (it changes
        when another connection commits; inside a transaction it is that snapshot's) and the
        count of this handle's own write transactions (which data_version does not count)."""
        version: int = conn.execute("PRAGMA data_version").fetchone()[0]
        return version, self._own_writes

    def task_queue(self) -> TaskQueue:
        """A queue of background tasks in this store's file (durable), or in memory for
        ``":memory:"`` (a private database another connection cannot see) and for a read-only
        store (nothing is written to its file)."""
        from langmem.tasks import MemoryTaskQueue, SqliteTaskQueue

        self._ensure_open()
        if self._file == ":memory:" or self._read_only is not None:
            return MemoryTaskQueue()  # a read-only file is not written: the queue is in memory
        return SqliteTaskQueue(self._uri)


def _make_folder(path: Path) -> None:
    """Create the folder of a store file; a clear error when that is impossible (a file in the
    way, e.g. ``LANGMEM_HOME`` naming a file, or no permission)."""
    if str(path) in ("", "."):
        raise StoreFileError(
            "The store path is empty: name a file, e.g. SqliteStore('memories.sqlite') or "
            "LANGMEM_STORE=sqlite:///memories.sqlite (sqlite:/// alone names no file)."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreFileError(
            f"The folder {str(path.parent)!r} of the store file {str(path)!r} cannot be created "
            f"({type(exc).__name__}: {exc.strerror or exc}). Nothing was changed. Fix: point "
            "the path (or LANGMEM_HOME, LANGMEM_STORE) at a folder you can write, not at a file."
        ) from exc
