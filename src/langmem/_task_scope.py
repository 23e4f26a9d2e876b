"""Deterministic ids for what a background task creates, so a rerun overwrites instead of adding.

A task runs at least once: after a crash between writing its memories and being marked done it
runs again. Inside :func:`task_scope`, :func:`new_memory_id` returns the same ids, in the same
order, on every attempt of one task (UUID5 of the task id and a counter), so the rerun writes
to the keys the first attempt used. Outside a scope it returns a random UUID4.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_NAMESPACE = uuid.UUID("8f6d3c1e-5b0a-4c47-9a7e-2f1d6b9c0e41")
_current: ContextVar[tuple[str, itertools.count[int]] | None] = ContextVar(
    "langmem_task_scope", default=None
)


@contextmanager
def task_scope(task_id: str) -> Iterator[None]:
    """Make :func:`new_memory_id` deterministic for one attempt of task ``task_id``."""
    token = _current.set((task_id, itertools.count()))
    try:
        yield
    finally:
        _current.reset(token)


def current_task_id() -> str | None:
    """The id of the background task running in this context, if any."""
    scope = _current.get()
    return None if scope is None else scope[0]


def new_memory_id() -> str:
    """A new memory id: repeatable within a task scope, random outside one.

    Example:
        >>> with task_scope("t1"):
        ...     first = [new_memory_id(), new_memory_id()]
        >>> with task_scope("t1"):
        ...     again = [new_memory_id(), new_memory_id()]
        >>> first == again and first[0] != first[1]
        True
    """
    scope = _current.get()
    if scope is None:
        return str(uuid.uuid4())
    task_id, counter = scope
    return str(uuid.uuid5(_NAMESPACE, f"{task_id}:{next(counter)}"))
