"""The backend-neutral task queue interface (the contract is in :mod:`langmem.tasks`)."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from typing import Any

from langmem.tasks._types import Enqueued, QueueStats, Task, TaskStatus


class TaskQueue(abc.ABC):
    """A queue of debounced background tasks with leases; see :mod:`langmem.tasks`.

    Every method is thread-safe and, for a database queue, process-safe. ``now`` arguments
    default to ``time.time()``; tests pass their own clock.
    """

    durable: bool = False
    """Whether tasks outlive the process (committed to a database before ``enqueue`` returns)."""

    @abc.abstractmethod
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
        """Add a pending task; a pending task of the same ``(queue, thread_key)`` is replaced."""

    @abc.abstractmethod
    def claim(
        self,
        *,
        queue: str,
        owner: str,
        lease_seconds: float,
        limit: int = 1,
        now: float | None = None,
    ) -> list[Task]:
        """Take up to ``limit`` due tasks (oldest due first) and lease them to ``owner``.

        Due means pending with ``due_at <= now``, or running with an expired lease (its worker
        is presumed dead). A pending task is skipped while a task of the same thread runs under
        a live lease. A task whose lease expired after ``max_attempts`` claims becomes failed.
        """

    @abc.abstractmethod
    def extend_lease(
        self, task_id: str, *, owner: str, lease_seconds: float, now: float | None = None
    ) -> bool:
        """Push the lease of a running task forward; ``False`` if ``owner`` no longer holds it."""

    @abc.abstractmethod
    def complete(self, task_id: str, *, owner: str, now: float | None = None) -> bool:
        """Mark a running task done; ``False`` (and no change) if ``owner`` lost the lease."""

    @abc.abstractmethod
    def fail(
        self,
        task_id: str,
        *,
        owner: str,
        error: str,
        retry_at: float | None,
        now: float | None = None,
    ) -> TaskStatus | None:
        """Record a failed attempt of a running task held by ``owner``.

        With ``retry_at`` and attempts left, the task is pending again, due at ``retry_at``
        (replaced instead if a newer task of its thread is pending); otherwise it is failed.
        Returns the new status, or ``None`` if ``owner`` lost the lease.
        """

    @abc.abstractmethod
    def release(
        self, *, owner: str, task_ids: Iterable[str] | None = None, now: float | None = None
    ) -> int:
        """Give running tasks of ``owner`` back (pending, due now) without counting an attempt.

        For a worker that stops before finishing, or for a worker known to be dead. Returns how
        many were released.
        """

    @abc.abstractmethod
    def cancel(self, task_id: str, *, now: float | None = None) -> bool:
        """Cancel a pending task; ``False`` if it is not pending (it started or ended)."""

    @abc.abstractmethod
    def retry(
        self, task_id: str, *, due_at: float | None = None, now: float | None = None
    ) -> TaskStatus | None:
        """Make a failed or cancelled task pending again with fresh attempts.

        Returns the new status (``REPLACED`` if a newer task of its thread is pending), or
        ``None`` if the task does not exist or is not failed or cancelled.
        """

    @abc.abstractmethod
    def get(self, task_id: str) -> Task | None:
        """The task with this id, or ``None``."""

    @abc.abstractmethod
    def list(
        self,
        *,
        queue: str | None = None,
        status: TaskStatus | str | None = None,
        thread_key: str | None = None,
        updated_after: float | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Task]:
        """Tasks matching every filter given, most recently updated first.

        ``updated_after`` keeps tasks changed after that time (Unix seconds).
        """

    @abc.abstractmethod
    def stats(self, *, queue: str | None = None, failures: int = 10) -> QueueStats:
        """Counts per status and the ``failures`` most recent failed tasks."""

    @abc.abstractmethod
    def next_due(self, *, queue: str, now: float | None = None) -> float | None:
        """When :meth:`claim` may next find work: the earliest pending due time or lease expiry."""

    @abc.abstractmethod
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
        """Delete tasks in ``statuses`` last updated before ``older_than``; returns how many."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the queue's resources (connections). Idempotent."""
