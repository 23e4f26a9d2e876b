"""Deterministic ids for what a task creates, so a rerun finds what it made instead of adding.

A background task runs at least once: after a crash between writing its memories and being
marked done it runs again. Inside :func:`task_scope`, :func:`new_memory_id` returns the same ids,
in the same order, on every attempt of one task (UUID5 of the task id and a counter), so the
rerun writes to the keys the first attempt used. Outside a scope it returns a random UUID4.

A LangGraph node runs again from its start when it resumes after ``interrupt()`` (so does an
``@entrypoint``'s body); LangGraph gives both runs the same task (``checkpoint_ns``).
:func:`repeatable_key` derives a key from that task and what is written, so the second run
arrives at the key the first one wrote.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

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


def repeatable_key(config: Mapping[str, Any], *parts: Any) -> str | None:
    """A key that a rerun of the same LangGraph task derives again, from that task (its thread
    and ``checkpoint_ns``, unique to one step of one run) and ``parts`` (what the caller
    writes, as JSON); ``None`` outside a LangGraph task.

    Example:
        >>> config = {"configurable": {"thread_id": "t1", "checkpoint_ns": "node:7f3a"}}
        >>> repeatable_key(config, "tea") == repeatable_key(config, "tea")
        True
        >>> repeatable_key({"configurable": {}}, "tea") is None
        True
    """
    configurable = config.get("configurable") or {}
    task = configurable.get("checkpoint_ns") if isinstance(configurable, Mapping) else None
    if not isinstance(task, str) or ":" not in task:  # not inside a task of a graph
        return None
    thread = configurable.get("thread_id")
    text = json.dumps([str(thread), task, *parts], sort_keys=True, default=repr)
    return str(uuid.uuid5(_NAMESPACE, text))
