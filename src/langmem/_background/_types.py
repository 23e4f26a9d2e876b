"""Types shared by the local and remote executors."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, runtime_checkable

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

    from langmem.tasks import TaskQueue


class MemoryItem(TypedDict):
    """One memory as returned by an executor's ``search``."""

    namespace: list[str]
    key: str
    value: dict[str, Any]
    created_at: datetime.datetime
    updated_at: datetime.datetime
    score: float | None
    """Relevance to the query (higher is better), ``None`` without a query."""


@runtime_checkable
class Executor(Protocol):
    """What every reflection executor offers (local or remote)."""

    def submit(
        self,
        payload: dict[str, Any],
        /,
        config: RunnableConfig | None = None,
        *,
        after_seconds: int = 0,
        thread_id: Any = ...,
    ) -> Future[Any]: ...

    def search(
        self,
        query: str | None = None,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | tuple[str, ...] | None = None,
    ) -> list[MemoryItem]: ...

    async def asearch(
        self,
        query: str | None = None,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | tuple[str, ...] | None = None,
    ) -> list[MemoryItem]: ...


@dataclass(frozen=True)
class ReflectionOptions:
    """How a :class:`~langmem.reflection.LocalReflectionExecutor` runs its tasks.

    Pass them with ``LocalReflectionExecutor.with_options(reflector, store, **options)``; the
    plain constructor (upstream's signature) uses these defaults.
    """

    durable: bool | None = None
    """Keep tasks in the store's database (``None``: whenever the store has one)."""
    queue: str | None = None
    """Queue name. ``None``: derived from the reflector (``reflection-<name>-<digest>``: its
    function or class, and for langmem's managers their namespace template and schema names),
    so executors of different reflectors on one database never run each other's tasks, and the
    next process with the same reflector runs what a dead one left. Name it yourself when the
    reflector's code moves, or to share a queue between processes on purpose."""
    max_attempts: int = 3
    """Attempts before a task is kept as failed."""
    backoff_seconds: float = 1.0
    """Wait before the first retry; doubled for each further one."""
    max_backoff_seconds: float = 60.0
    lease_seconds: float = 60.0
    """A running task's lease, renewed while it runs; another worker may take it after expiry."""
    exit_flush_seconds: float = 5.0
    """At interpreter exit, how long due work may still run before the process ends."""
    poll_seconds: float = 1.0
    """How often an idle worker looks for tasks other processes added or gave back."""
    workers: int = 1
    """Worker threads (daemons). Tasks of one thread never run concurrently."""
    task_queue: TaskQueue | None = None
    """A queue to use instead of the store's."""
    clock: Callable[[], float] = field(default=time.time)
    """Source of the current time (Unix seconds) for due times and leases."""

    def __post_init__(self) -> None:
        from langmem.errors import ConfigurationError

        if self.queue is not None and (not isinstance(self.queue, str) or not self.queue.strip()):
            raise ConfigurationError(
                f"queue={self.queue!r}: pass a non-empty name, or None for the reflector's own."
            )
        for name in ("max_attempts", "workers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name}={value!r}: pass an int >= 1.")
        for name in (
            "backoff_seconds",
            "max_backoff_seconds",
            "lease_seconds",
            "exit_flush_seconds",
            "poll_seconds",
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 <= value < float("inf")
            ):
                raise ConfigurationError(f"{name}={value!r}: pass a finite number of seconds >= 0.")
        for name in ("lease_seconds", "poll_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(
                    f"{name}={getattr(self, name)!r}: pass a number of seconds > 0."
                )
        self._check_kinds()

    def _check_kinds(self) -> None:
        from langmem.errors import ConfigurationError
        from langmem.tasks import TaskQueue

        if self.durable is not None and not isinstance(self.durable, bool):
            raise ConfigurationError(
                f"durable={self.durable!r}: pass True, False or None (whenever possible)."
            )
        if self.task_queue is not None and not isinstance(self.task_queue, TaskQueue):
            raise ConfigurationError(
                f"task_queue={self.task_queue!r:.100} is not a TaskQueue: pass e.g. "
                "langmem.tasks.SqliteTaskQueue(path) or MemoryTaskQueue(), or None for the "
                "store's own."
            )
        if not callable(self.clock):
            raise ConfigurationError(
                f"clock={self.clock!r}: pass a function returning Unix seconds."
            )


@dataclass(frozen=True)
class ShutdownReport:
    """What :meth:`LocalReflectionExecutor.shutdown` left behind."""

    durable: bool
    """Whether the queue outlives the process."""
    kept: tuple[str, ...] = ()
    """Ids of tasks still queued in the database (they run at the next start)."""
    cancelled: tuple[str, ...] = ()
    """Ids of tasks cancelled (never run)."""
    running: tuple[str, ...] = ()
    """Ids of tasks still running when ``shutdown(wait=False)`` returned."""
