"""The task state machine in SQL, shared by every database backend.

A backend subclasses :class:`SqlTaskQueue` and supplies only :meth:`SqlTaskQueue._transaction`
(a context manager yielding a connection-like object whose ``execute(sql, params)`` returns a
DB-API cursor; it commits on exit and rolls back on error) and a :class:`SqlDialect`. SQL text
is written with ``?`` placeholders, rewritten to the dialect's style.

SQLite serializes writers (``BEGIN IMMEDIATE``), so its claim is a plain select-then-update.
PostgreSQL gives the claim's select ``FOR UPDATE SKIP LOCKED`` (``SqlDialect.lock_rows``) so
concurrent workers take different rows without waiting.
"""

from __future__ import annotations

import abc
import builtins
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from langmem.tasks._queue import TaskQueue
from langmem.tasks._types import Enqueued, Failure, QueueStats, Task, TaskStatus

TABLE = "langmem_tasks"

COLUMNS = (
    "id, queue, thread_key, status, payload, config, due_at, attempts, max_attempts, owner,"
    " lease_expires_at, error, replaced_by, created_at, updated_at, finished_at"
)

# The table every SQL backend creates (types chosen to mean the same on SQLite and PostgreSQL;
# PostgreSQL: see ``schema(dialect)``). The SQLite store's migration applies exactly
# this: never edit it, add a migration that alters the table instead.
SCHEMA = (
    f"""CREATE TABLE {TABLE} (
        id TEXT PRIMARY KEY,
        queue TEXT NOT NULL,
        thread_key TEXT NOT NULL,
        status TEXT NOT NULL,
        payload TEXT NOT NULL,
        config TEXT NOT NULL,
        due_at REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER NOT NULL,
        owner TEXT,
        lease_expires_at REAL,
        error TEXT,
        replaced_by TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        finished_at REAL
    )""",
    # the debounce rule, enforced by the database: one pending task per thread
    f"CREATE UNIQUE INDEX {TABLE}_one_pending ON {TABLE} (queue, thread_key)"
    " WHERE status = 'pending'",
    f"CREATE INDEX {TABLE}_due ON {TABLE} (queue, status, due_at)",
    f"CREATE INDEX {TABLE}_updated ON {TABLE} (updated_at)",
)


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> builtins.list[Any]: ...


class Connection(Protocol):
    def execute(self, sql: str, params: tuple[Any, ...], /) -> Cursor: ...


@dataclass(frozen=True)
class SqlDialect:
    """How one database spells the few things that differ."""

    placeholder: str = "?"
    """Parameter marker (``%s`` for psycopg)."""
    lock_rows: str = ""
    """Appended to the claim's select: ``" FOR UPDATE SKIP LOCKED"`` on PostgreSQL."""
    lock_thread: str = ""
    """Run first in every transaction that may make a task of a thread pending, with the
    parameters ``(queue, thread_key)``, to serialize them per thread. SQLite needs none (its
    writers take turns); PostgreSQL under READ COMMITTED would otherwise let two enqueues of one
    thread both insert (the one-pending index then fails one of them), e.g.
    ``"SELECT pg_advisory_xact_lock(hashtext(? || '/' || ?))"``."""
    real_type: str = "REAL"
    """Column type of the Unix-second times (``DOUBLE PRECISION`` on PostgreSQL: its ``REAL`` is
    single precision, far too coarse for times)."""


def schema(dialect: SqlDialect) -> tuple[str, ...]:
    """:data:`SCHEMA` in ``dialect``'s column types (for backends without our migrations)."""
    return tuple(statement.replace(" REAL", f" {dialect.real_type}") for statement in SCHEMA)


def new_task_id() -> str:
    return uuid.uuid4().hex


def _value(status: TaskStatus | str) -> str:
    return TaskStatus(status).value


class SqlTaskQueue(TaskQueue):
    """:class:`TaskQueue` over SQL: the backend supplies a transaction and a dialect."""

    durable = True
    dialect = SqlDialect()

    @abc.abstractmethod
    def _transaction(self) -> AbstractContextManager[Connection]:
        """A write transaction (serialized against other writers), committed on exit."""

    # -- payload coding (an in-memory backend keeps Python objects instead) --

    def _dump(self, task_id: str, payload: Any, config: Mapping[str, Any]) -> tuple[str, str]:
        return json.dumps(payload), json.dumps(dict(config))

    def _load(self, task_id: str, payload: str, config: str) -> tuple[Any, dict[str, Any]]:
        return json.loads(payload), json.loads(config)

    def _forget(self, task_ids: Iterable[str]) -> None:
        """Called after tasks are purged."""

    # -- helpers --

    def _sql(self, text: str) -> str:
        return (
            text.replace("?", self.dialect.placeholder) if self.dialect.placeholder != "?" else text
        )

    def _run(self, conn: Connection, text: str, params: tuple[Any, ...] = ()) -> Cursor:
        return conn.execute(self._sql(text), params)

    def _task(self, row: Any) -> Task:
        payload, config = self._load(row[0], row[4], row[5])
        return Task(
            id=row[0],
            queue=row[1],
            thread_key=row[2],
            status=TaskStatus(row[3]),
            payload=payload,
            config=config,
            due_at=float(row[6]),
            attempts=int(row[7]),
            max_attempts=int(row[8]),
            owner=row[9],
            lease_expires_at=None if row[10] is None else float(row[10]),
            error=row[11],
            replaced_by=row[12],
            created_at=float(row[13]),
            updated_at=float(row[14]),
            finished_at=None if row[15] is None else float(row[15]),
        )

    def _fetch(self, conn: Connection, task_id: str) -> Task | None:
        row = self._run(conn, f"SELECT {COLUMNS} FROM {TABLE} WHERE id = ?", (task_id,)).fetchone()
        return None if row is None else self._task(row)

    def _lock_thread(self, conn: Connection, queue: str, thread_key: str) -> None:
        if self.dialect.lock_thread:
            self._run(conn, self.dialect.lock_thread, (queue, thread_key))

    def _pending_of(self, conn: Connection, queue: str, thread_key: str) -> str | None:
        row = self._run(
            conn,
            f"SELECT id FROM {TABLE} WHERE queue = ? AND thread_key = ? AND status = 'pending'",
            (queue, thread_key),
        ).fetchone()
        return None if row is None else str(row[0])

    def _replace(self, conn: Connection, old: str, new: str, now: float) -> None:
        self._run(
            conn,
            f"UPDATE {TABLE} SET status = 'replaced', replaced_by = ?, owner = NULL,"
            " lease_expires_at = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
            (new, now, now, old),
        )

    # -- the contract --

    def enqueue(
        self,
        *,
        queue: str,
        thread_key: str,
        payload: Any,
        config: Mapping[str, Any] | None = None,
        due_at: float | None = None,
        max_attempts: int = 3,
        task_id: str | None = None,
        now: float | None = None,
    ) -> Enqueued:
        if max_attempts < 1:
            raise ValueError(f"max_attempts={max_attempts!r}: a task needs at least 1 attempt")
        now = time.time() if now is None else now
        task_id = task_id or new_task_id()
        payload_text, config_text = self._dump(task_id, payload, config or {})
        with self._transaction() as conn:
            self._lock_thread(conn, queue, thread_key)
            old = self._pending_of(conn, queue, thread_key)
            if old is not None:
                self._replace(conn, old, task_id, now)
            self._run(
                conn,
                f"INSERT INTO {TABLE} ({COLUMNS}) VALUES"
                " (?, ?, ?, 'pending', ?, ?, ?, 0, ?, NULL, NULL, NULL, NULL, ?, ?, NULL)",
                (
                    task_id,
                    queue,
                    thread_key,
                    payload_text,
                    config_text,
                    now if due_at is None else due_at,
                    max_attempts,
                    now,
                    now,
                ),
            )
            task = self._fetch(conn, task_id)
        assert task is not None
        return Enqueued(task=task, replaced=() if old is None else (old,))

    def claim(
        self,
        *,
        queue: str,
        owner: str,
        lease_seconds: float,
        limit: int = 1,
        now: float | None = None,
    ) -> builtins.list[Task]:
        now = time.time() if now is None else now
        with self._transaction() as conn:
            # workers that died too often on a task: give up on it
            self._run(
                conn,
                f"UPDATE {TABLE} SET status = 'failed', owner = NULL, lease_expires_at = NULL,"
                " error = 'the worker running it stopped (lease expired) on each of '"
                " || CAST(attempts AS TEXT) || ' attempts; last error: '"
                " || COALESCE(error, 'none'),"
                " updated_at = ?, finished_at = ?"
                " WHERE queue = ? AND status = 'running' AND lease_expires_at <= ?"
                " AND attempts >= max_attempts",
                (now, now, queue, now),
            )
            rows = self._run(
                conn,
                f"SELECT id, status FROM {TABLE} t WHERE queue = ? AND ("
                " (status = 'pending' AND due_at <= ? AND NOT EXISTS ("
                f"   SELECT 1 FROM {TABLE} r WHERE r.queue = t.queue"
                "   AND r.thread_key = t.thread_key AND r.status = 'running'"
                "   AND r.lease_expires_at > ?))"
                " OR (status = 'running' AND lease_expires_at <= ?))"
                f" ORDER BY due_at LIMIT ?{self.dialect.lock_rows}",
                (queue, now, now, now, limit),
            ).fetchall()
            claimed = []
            for task_id, _status in rows:
                self._run(
                    conn,
                    f"UPDATE {TABLE} SET status = 'running', owner = ?, lease_expires_at = ?,"
                    " attempts = attempts + 1, updated_at = ? WHERE id = ?",
                    (owner, now + lease_seconds, now, task_id),
                )
                task = self._fetch(conn, task_id)
                assert task is not None
                claimed.append(task)
        return claimed

    def extend_lease(
        self, task_id: str, *, owner: str, lease_seconds: float, now: float | None = None
    ) -> bool:
        now = time.time() if now is None else now
        with self._transaction() as conn:
            cursor = self._run(
                conn,
                f"UPDATE {TABLE} SET lease_expires_at = ?, updated_at = ?"
                " WHERE id = ? AND status = 'running' AND owner = ?",
                (now + lease_seconds, now, task_id, owner),
            )
            return cursor.rowcount == 1

    def complete(self, task_id: str, *, owner: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        with self._transaction() as conn:
            cursor = self._run(
                conn,
                f"UPDATE {TABLE} SET status = 'done', owner = NULL, lease_expires_at = NULL,"
                " updated_at = ?, finished_at = ?"
                " WHERE id = ? AND status = 'running' AND owner = ?",
                (now, now, task_id, owner),
            )
            return cursor.rowcount == 1

    def fail(
        self,
        task_id: str,
        *,
        owner: str,
        error: str,
        retry_at: float | None,
        now: float | None = None,
    ) -> TaskStatus | None:
        now = time.time() if now is None else now
        with self._transaction() as conn:
            task = self._fetch(conn, task_id)
            if task is None or task.status is not TaskStatus.RUNNING or task.owner != owner:
                return None
            self._lock_thread(conn, task.queue, task.thread_key)
            if retry_at is None or task.attempts >= task.max_attempts:
                self._run(
                    conn,
                    f"UPDATE {TABLE} SET status = 'failed', owner = NULL, lease_expires_at = NULL,"
                    " error = ?, updated_at = ?, finished_at = ? WHERE id = ?",
                    (error, now, now, task_id),
                )
                return TaskStatus.FAILED
            newer = self._pending_of(conn, task.queue, task.thread_key)
            if newer is not None:
                self._run(conn, f"UPDATE {TABLE} SET error = ? WHERE id = ?", (error, task_id))
                self._replace(conn, task_id, newer, now)
                return TaskStatus.REPLACED
            self._run(
                conn,
                f"UPDATE {TABLE} SET status = 'pending', owner = NULL, lease_expires_at = NULL,"
                " error = ?, due_at = ?, updated_at = ? WHERE id = ?",
                (error, retry_at, now, task_id),
            )
            return TaskStatus.PENDING

    def release(
        self, *, owner: str, task_ids: Iterable[str] | None = None, now: float | None = None
    ) -> int:
        now = time.time() if now is None else now
        with self._transaction() as conn:
            rows = self._run(
                conn,
                f"SELECT id, queue, thread_key FROM {TABLE} WHERE status = 'running' AND owner = ?",
                (owner,),
            ).fetchall()
            wanted = None if task_ids is None else set(task_ids)
            released = 0
            for task_id, queue, thread_key in rows:
                if wanted is not None and task_id not in wanted:
                    continue
                self._lock_thread(conn, queue, thread_key)
                newer = self._pending_of(conn, queue, thread_key)
                if newer is not None:
                    self._replace(conn, task_id, newer, now)
                else:
                    self._run(
                        conn,
                        f"UPDATE {TABLE} SET status = 'pending', owner = NULL,"
                        " lease_expires_at = NULL,"
                        " attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,"
                        " due_at = ?, updated_at = ? WHERE id = ?",
                        (now, now, task_id),
                    )
                released += 1
            return released

    def cancel(self, task_id: str, *, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        with self._transaction() as conn:
            cursor = self._run(
                conn,
                f"UPDATE {TABLE} SET status = 'cancelled', updated_at = ?, finished_at = ?"
                " WHERE id = ? AND status = 'pending'",
                (now, now, task_id),
            )
            return cursor.rowcount == 1

    def retry(
        self, task_id: str, *, due_at: float | None = None, now: float | None = None
    ) -> TaskStatus | None:
        now = time.time() if now is None else now
        with self._transaction() as conn:
            task = self._fetch(conn, task_id)
            if task is None or task.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
                return None
            self._lock_thread(conn, task.queue, task.thread_key)
            newer = self._pending_of(conn, task.queue, task.thread_key)
            if newer is not None:
                self._replace(conn, task_id, newer, now)
                return TaskStatus.REPLACED
            self._run(
                conn,
                f"UPDATE {TABLE} SET status = 'pending', attempts = 0, due_at = ?,"
                " finished_at = NULL, updated_at = ? WHERE id = ?",
                (now if due_at is None else due_at, now, task_id),
            )
            return TaskStatus.PENDING

    def get(self, task_id: str) -> Task | None:
        with self._transaction() as conn:
            return self._fetch(conn, task_id)

    def _where(
        self, queue: str | None, status: TaskStatus | str | None, thread_key: str | None
    ) -> tuple[str, tuple[Any, ...]]:
        clauses, params = [], []
        for column, value in (("queue", queue), ("thread_key", thread_key)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if status is not None:
            clauses.append("status = ?")
            params.append(_value(status))
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)

    def list(
        self,
        *,
        queue: str | None = None,
        status: TaskStatus | str | None = None,
        thread_key: str | None = None,
        updated_after: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> builtins.list[Task]:
        where, params = self._where(queue, status, thread_key)
        if updated_after is not None:
            where = f"{where} AND updated_at > ?" if where else " WHERE updated_at > ?"
            params = (*params, updated_after)
        with self._transaction() as conn:
            rows = self._run(
                conn,
                f"SELECT {COLUMNS} FROM {TABLE}{where}"
                " ORDER BY updated_at DESC, id LIMIT ? OFFSET ?",
                (*params, limit, offset),
            ).fetchall()
            return [self._task(row) for row in rows]

    def stats(self, *, queue: str | None = None, failures: int = 10) -> QueueStats:
        where, params = self._where(queue, None, None)
        with self._transaction() as conn:
            counts = dict(
                self._run(
                    conn, f"SELECT status, COUNT(*) FROM {TABLE}{where} GROUP BY status", params
                ).fetchall()
            )
            failed_where, failed_params = self._where(queue, TaskStatus.FAILED, None)
            failed = self._run(
                conn,
                f"SELECT id, thread_key, attempts, error, updated_at FROM {TABLE}{failed_where}"
                " ORDER BY updated_at DESC LIMIT ?",
                (*failed_params, failures),
            ).fetchall()
            retry_where, retry_params = self._where(queue, TaskStatus.PENDING, None)
            retrying = self._run(
                conn,
                f"SELECT error FROM {TABLE}{retry_where} AND error IS NOT NULL"
                " ORDER BY updated_at DESC LIMIT ?",
                (*retry_params, failures),
            ).fetchall()
        return QueueStats(
            **{status.value: int(counts.get(status.value, 0)) for status in TaskStatus},
            failures=tuple(
                Failure(str(r[0]), str(r[1]), int(r[2]), r[3], float(r[4])) for r in failed
            ),
            last_errors=tuple(str(r[0]) for r in retrying),
        )

    def next_due(self, *, queue: str, now: float | None = None) -> float | None:
        with self._transaction() as conn:
            row = self._run(
                conn,
                "SELECT MIN(t) FROM ("
                f" SELECT MIN(due_at) AS t FROM {TABLE} WHERE queue = ? AND status = 'pending'"
                f" UNION ALL SELECT MIN(lease_expires_at) AS t FROM {TABLE}"
                " WHERE queue = ? AND status = 'running') AS due",
                (queue, queue),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def purge(
        self,
        *,
        queue: str | None = None,
        statuses: Iterable[TaskStatus | str] = (
            TaskStatus.DONE,
            TaskStatus.REPLACED,
            TaskStatus.CANCELLED,
        ),
        older_than: float | None = None,
    ) -> int:
        wanted = sorted({_value(status) for status in statuses})
        if not wanted:
            return 0
        where, params = self._where(queue, None, None)
        clauses = [where or " WHERE 1 = 1", f"status IN ({', '.join('?' for _ in wanted)})"]
        params = (*params, *wanted)
        if older_than is not None:
            clauses.append("updated_at < ?")
            params = (*params, older_than)
        condition = " AND ".join(clauses)
        with self._transaction() as conn:
            ids = [
                str(row[0])
                for row in self._run(conn, f"SELECT id FROM {TABLE}{condition}", params).fetchall()
            ]
            self._run(conn, f"DELETE FROM {TABLE}{condition}", params)
        self._forget(ids)
        return len(ids)
