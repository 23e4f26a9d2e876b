"""The task queue in PostgreSQL, beside a :class:`~langmem.stores.PostgresStore`'s tables.

The state machine is :class:`SqlTaskQueue`'s; this backend adds what concurrent transactions
need on a server where workers do not take turns:

- claims select with ``FOR UPDATE SKIP LOCKED``: two workers never take the same task, and
  neither waits for the other;
- everything that decides about a thread's pending task (enqueue, fail, release, retry) first
  takes a transaction-scoped advisory lock on ``(queue, thread_key)`` and locks the pending row
  (``FOR UPDATE``): the debounce rule holds across processes, and a task a worker is claiming
  at that moment is never marked replaced (the claim wins; the new task waits behind it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langmem.tasks._sql import SCHEMA, TABLE, Connection, SqlDialect, SqlTaskQueue

# SQLite's REAL is a double; PostgreSQL's is a float4 (2-minute steps at today's timestamps)
POSTGRES_SCHEMA: tuple[str, ...] = tuple(
    statement.replace(" REAL", " DOUBLE PRECISION") for statement in SCHEMA
)


class PostgresTaskQueue(SqlTaskQueue):
    """A durable :class:`~langmem.tasks.TaskQueue` in PostgreSQL, shared by many processes.

    Built by ``PostgresStore.task_queue()`` on the store's connection pool (the table comes
    with the store's migrations). Every call is one transaction, committed before it returns.

    Args:
        pool: a ``psycopg_pool.ConnectionPool``.
    """

    dialect = SqlDialect(placeholder="%s", lock_rows=" FOR UPDATE SKIP LOCKED")

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        from psycopg.rows import tuple_row

        with (
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as cur,
        ):
            yield cur

    def _pending_of(self, conn: Connection, queue: str, thread_key: str) -> str | None:
        # one decision per thread at a time, across processes (released at commit)
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))",
            (f"{len(queue)}:{queue}:{thread_key}",),
        )
        row = conn.execute(
            f"SELECT id FROM {TABLE} WHERE queue = %s AND thread_key = %s AND status = 'pending'"
            " FOR UPDATE",
            (queue, thread_key),
        ).fetchone()
        return None if row is None else str(row[0])

    def __repr__(self) -> str:
        return "PostgresTaskQueue()"
