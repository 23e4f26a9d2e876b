"""The records a task queue hands out: task, status, enqueue outcome, counts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class TaskStatus(str, enum.Enum):
    """Where a task is in its life (see the state diagram in :mod:`langmem.tasks`)."""

    PENDING = "pending"
    """Waiting for its due time (or for a retry after a failure)."""
    RUNNING = "running"
    """Claimed by a worker that holds a lease on it."""
    DONE = "done"
    """Ran to completion; final."""
    FAILED = "failed"
    """Ran out of attempts; keeps its last error; ``retry`` makes it pending again."""
    REPLACED = "replaced"
    """A newer task of the same thread took its place before it started; final."""
    CANCELLED = "cancelled"
    """Cancelled before it started; ``retry`` makes it pending again."""


FINAL = (TaskStatus.DONE, TaskStatus.REPLACED, TaskStatus.CANCELLED)


@dataclass(frozen=True)
class Task:
    """One unit of background work, as stored.

    Times are Unix seconds (``time.time()``).
    """

    id: str
    """Unique id (32 hex digits); also the idempotence key of the task's effects."""
    queue: str
    """Which queue (kind of work) it belongs to; a worker only claims its own queue's tasks."""
    thread_key: str
    """Debounce key: at most one pending task per ``(queue, thread_key)``."""
    status: TaskStatus
    payload: Any
    """What the work runs on (JSON in a database queue)."""
    config: dict[str, Any]
    """Configurable values the work runs with (JSON in a database queue)."""
    due_at: float
    """Not claimed before this time."""
    attempts: int
    """Claims so far (a claim after a worker died counts too)."""
    max_attempts: int
    """After this many failed attempts the task is failed instead of retried."""
    owner: str | None
    """The worker holding the lease while running."""
    lease_expires_at: float | None
    """A running task whose lease expired can be claimed by another worker."""
    error: str | None
    """The last error (kept after a successful retry is cleared)."""
    replaced_by: str | None
    """For a replaced task, the id of the task that replaced it."""
    created_at: float
    updated_at: float
    finished_at: float | None
    """When it became done, failed, replaced or cancelled."""


@dataclass(frozen=True)
class Enqueued:
    """What :meth:`TaskQueue.enqueue` did."""

    task: Task
    """The new pending task."""
    replaced: tuple[str, ...] = ()
    """Ids of pending tasks of the same thread that it replaced (at most one in practice)."""


@dataclass(frozen=True)
class Failure:
    """A failed task's identity and last error (for :class:`QueueStats`)."""

    task_id: str
    thread_key: str
    attempts: int
    error: str | None
    updated_at: float


@dataclass(frozen=True)
class QueueStats:
    """Counts of tasks per status, and the most recent failures with their last errors."""

    pending: int = 0
    running: int = 0
    done: int = 0
    failed: int = 0
    replaced: int = 0
    cancelled: int = 0
    failures: tuple[Failure, ...] = field(default=())
    """Most recent failed tasks first (a bounded number)."""
    last_errors: tuple[str, ...] = field(default=())
    """Last errors of tasks waiting for a retry (pending with an error), newest first."""
