"""Durable, debounced background tasks: the queue under ``ReflectionExecutor``.

A :class:`TaskQueue` holds :class:`Task` records. Backends: :class:`SqliteTaskQueue` (a SQLite
file, normally the embedded store's own; the tables come from the store's migrations),
:class:`MemoryTaskQueue` (one process, nothing persisted) and any subclass of
:class:`SqlTaskQueue`, which holds the whole state machine in SQL and needs from a backend only
a transaction and a :class:`SqlDialect` (PostgreSQL: ``%s`` parameters and
``FOR UPDATE SKIP LOCKED`` on the claim). :func:`task_queue_for` picks the queue of a store.

Contract (every backend):

- **Enqueue and debounce.** ``enqueue`` adds a ``pending`` task due at ``due_at``. At most one
  task per ``(queue, thread_key)`` is pending (a unique index enforces it): a pending task of
  the same thread is marked ``replaced`` (``replaced_by`` = the new id) in the same transaction.
  Only pending tasks are replaced: a running task finishes, and the newer one waits for it.
  A task is therefore either run or replaced, never both, never neither. On a durable queue the
  task is committed before ``enqueue`` returns.
- **Claim and lease.** ``claim`` moves due ``pending`` tasks to ``running``, sets ``owner`` and
  ``lease_expires_at`` and counts an attempt. A running task whose lease expired is claimable
  again (its worker is presumed dead), so work runs at least once; use the task id to make its
  effect idempotent. While a thread has a running task under a live lease, its pending task
  waits. A task whose lease expired after ``max_attempts`` claims becomes ``failed``.
  Workers holding a task long extend the lease (``extend_lease``).
- **Finish.** Only the lease owner may finish a task: ``complete`` makes it ``done``; ``fail``
  records the error and makes it ``pending`` again at ``retry_at`` while attempts remain
  (``replaced`` if a newer task of its thread is pending meanwhile), else ``failed``.
  ``release`` hands running tasks back (pending, due now, the attempt not counted).
- **Operate.** ``cancel`` (pending -> cancelled), ``retry`` (failed or cancelled -> pending with
  fresh attempts), ``get``, ``list``, ``stats`` (counts and last errors), ``next_due`` and
  ``purge`` (delete finished tasks) serve executors and the CLI.

::

    enqueue -> pending --claim--> running --complete--> done
                 |  ^               |  \\--fail, attempts left--> pending (due at retry_at)
                 |  |               \\----fail, none left / lease expired too often--> failed
       newer --> replaced   release |                                         retry --> pending
       cancel -> cancelled ---retry-+

Example:
    >>> queue = MemoryTaskQueue()
    >>> queue.enqueue(queue="reflection", thread_key="t1", payload={"n": 1}, now=0).replaced
    ()
    >>> (task,) = queue.claim(queue="reflection", owner="worker-1", lease_seconds=30, now=1)
    >>> queue.complete(task.id, owner="worker-1")
    True
    >>> queue.stats().done
    1
"""

from __future__ import annotations

from typing import Any

from langmem.tasks._memory import MemoryTaskQueue
from langmem.tasks._queue import TaskQueue
from langmem.tasks._sql import SqlDialect, SqlTaskQueue, schema
from langmem.tasks._sqlite import SqliteTaskQueue
from langmem.tasks._types import Enqueued, Failure, QueueStats, Task, TaskStatus

__all__ = [
    "Enqueued",
    "Failure",
    "MemoryTaskQueue",
    "QueueStats",
    "SqlDialect",
    "SqlTaskQueue",
    "SqliteTaskQueue",
    "Task",
    "TaskQueue",
    "TaskStatus",
    "schema",
    "task_queue_for",
]


def task_queue_for(store: Any) -> TaskQueue:
    """The task queue that goes with ``store``: in its database when it has one.

    A store offering ``task_queue()`` (the embedded ``SqliteStore`` on a file; a database store
    of another backend) gives its durable queue; any other store (``InMemoryStore``, ``None``)
    gets a new :class:`MemoryTaskQueue`.
    """
    factory = getattr(store, "task_queue", None)
    if callable(factory):
        queue = factory()
        if isinstance(queue, TaskQueue):
            return queue
    return MemoryTaskQueue()
