"""The task queue in a SQLite file (the embedded store's file, or any other)."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langmem.tasks._sql import Connection, SqlTaskQueue


class SqliteTaskQueue(SqlTaskQueue):
    """A durable :class:`~langmem.tasks.TaskQueue` in a SQLite file.

    Several processes can share the file: every change is a ``BEGIN IMMEDIATE`` transaction
    (writers take turns, waiting up to ``timeout`` seconds), committed before the call
    returns, in WAL mode so readers of the store are not blocked.

    Args:
        path: the database file (the tables are created by the store's migrations, so the
            embedded store and its queue can live in one file).
        timeout: seconds to wait for another writer's lock.

    Example:
        >>> queue = SqliteTaskQueue(":memory:")
        >>> first = queue.enqueue(queue="q", thread_key="t1", payload={"n": 1}, now=0.0)
        >>> second = queue.enqueue(queue="q", thread_key="t1", payload={"n": 2}, now=1.0)
        >>> second.replaced == (first.task.id,)
        True
        >>> [task.payload for task in queue.claim(queue="q", owner="w", lease_seconds=30, now=2)]
        [{'n': 2}]
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        from langmem.stores._connection import FileIdentity, connect

        self.path = str(path)
        special = self.path == ":memory:" or self.path.startswith("file:")
        if not special:
            Path(self.path).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.path = str(Path(self.path).expanduser())
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = connect(self.path, timeout)
        self._file = FileIdentity(self.path)
        # A commit that crosses the WAL size limit checkpoints (with an fsync) inside the commit,
        # while holding this queue's lock; submits would wait behind it. The queue's own
        # commits never checkpoint: maintain() does it off that path.
        self._conn.execute("PRAGMA wal_autocheckpoint = 0")
        self._timeout = timeout
        self._checkpointer: sqlite3.Connection | None = None
        self._maintain_lock = threading.Lock()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise RuntimeError(f"the task queue on {self.path!r} is closed")
            self._file.check()  # a deleted or replaced file would swallow the task
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def maintain(self) -> None:
        """Checkpoint the WAL (PASSIVE: never blocks writers), on a connection of its own."""
        if self.path == ":memory:" or self._conn is None:
            return
        with self._maintain_lock:
            self._checkpoint()

    def _checkpoint(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = sqlite3.connect(
                self.path,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,
                uri=self.path.startswith("file:"),
            )
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None

    def __repr__(self) -> str:
        return f"SqliteTaskQueue({self.path!r})"
