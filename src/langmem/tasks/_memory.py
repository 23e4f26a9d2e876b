"""The task queue of a process without a database: same rules, nothing outlives the process."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from langmem.tasks._sqlite import SqliteTaskQueue


class MemoryTaskQueue(SqliteTaskQueue):
    """A :class:`~langmem.tasks.TaskQueue` that lives in this process only.

    It runs the very same state machine as the database queues (on a private in-memory SQLite
    database), but keeps payloads and configs as the Python objects given, unserialized.

    Example:
        >>> queue = MemoryTaskQueue()
        >>> queue.enqueue(queue="q", thread_key="t", payload=object()).task.status.value
        'pending'
    """

    durable = False

    def __init__(self) -> None:
        super().__init__(":memory:")
        self._objects: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._objects_lock = threading.Lock()

    def _dump(self, task_id: str, payload: Any, config: Mapping[str, Any]) -> tuple[str, str]:
        with self._objects_lock:
            self._objects[task_id] = (payload, dict(config))
        return "null", "{}"

    def _load(self, task_id: str, payload: str, config: str) -> tuple[Any, dict[str, Any]]:
        with self._objects_lock:
            return self._objects.get(task_id, (None, {}))

    def complete(self, task_id: str, *, owner: str, now: float | None = None) -> bool:
        done = super().complete(task_id, owner=owner, now=now)
        if done:  # nothing reads a finished task's payload again: let it be collected
            self._forget((task_id,))
        return done

    def _forget(self, task_ids: Iterable[str]) -> None:
        with self._objects_lock:
            for task_id in task_ids:
                self._objects.pop(task_id, None)

    def __repr__(self) -> str:
        return "MemoryTaskQueue()"
