"""Writes checked against what their writer read: compare and set, for recorded changes.

A recorded change (:mod:`langmem.knowledge._history`) stores the memory's value before the
change next to the change itself. The writer reads that value first, then writes; a writer
that wrote in between (another thread, task or process) would make the record false: two
writers of a new memory would both record "create", and undoing the second would delete the
memory instead of restoring the first one's value.

So such a write goes with :class:`Expected` entries, one per memory it changes: the value it
read (``None``: no memory). The store checks them inside the write transaction that applies
the batch and, when a memory is no longer as read, rolls the whole batch back and raises
:class:`~langmem.errors.WriteConflictError` with what it found, for the writer to rebuild its
records and write again.

- ``SqliteStore`` and ``PostgresStore`` check in their own write transaction
  (``batch_expecting``): every writer of the file or database is covered, in any process.
- Any other ``BaseStore`` (LangGraph's InMemoryStore, its SQLite and PostgreSQL stores): the
  check and the write run under one lock per store in this process (:func:`batch_sync`; async
  writers take it in a worker thread), which covers langmem's writers in this process only.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langgraph.store.base import BaseStore, GetOp, Item, Op, Result

from langmem.errors import WriteConflictError

__all__ = ["Expected", "batch_async", "batch_sync", "check", "probes"]

Ref = tuple[tuple[str, ...], str]


@dataclass(frozen=True)
class Expected:
    """A memory as its writer read it: its value, or ``None`` when there was none."""

    namespace: tuple[str, ...]
    key: str
    value: dict[str, Any] | None


def probes(expect: Sequence[Expected]) -> list[GetOp]:
    """Gets reading the expected memories as they are now (no TTL refresh: only a check)."""
    return [GetOp(e.namespace, e.key, refresh_ttl=False) for e in expect]


def check(expect: Sequence[Expected], found: Sequence[Item | None]) -> None:
    """Raise :class:`WriteConflictError` naming each memory in ``found`` (read now, in the
    order of ``expect``) that is not as its writer read it."""
    changed: dict[Ref, Item | None] = {}
    for wanted, item in zip(expect, found):
        if (None if item is None else item.value) != wanted.value:
            changed[(tuple(wanted.namespace), wanted.key)] = item
    if changed:
        shown = ", ".join(f"{key!r} in {ns!r}" for ns, key in list(changed)[:3])
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        raise WriteConflictError(
            f"memory {shown}{more} changed after it was read (another writer got there "
            "first): nothing was written. Read it again and repeat the change.",
            found=changed,
        )


def supports(store: BaseStore) -> bool:
    """Whether ``store`` checks expectations in its own write transaction."""
    return callable(getattr(store, "batch_expecting", None))


def batch_sync(store: BaseStore, ops: Sequence[Op], expect: Sequence[Expected]) -> list[Result]:
    """``store.batch(ops)`` once every ``expect`` holds (else :class:`WriteConflictError`)."""
    if supports(store):
        return store.batch_expecting(ops, expect)  # type: ignore[attr-defined, no-any-return]
    with _thread_lock(store):
        check(expect, store.batch(probes(expect)))  # type: ignore[arg-type]
        return store.batch(ops)


async def batch_async(
    store: BaseStore, ops: Sequence[Op], expect: Sequence[Expected]
) -> list[Result]:
    """Async :func:`batch_sync`: on a store without ``abatch_expecting``, :func:`batch_sync` in
    a worker thread, so sync and async writers of one store share its one lock."""
    if supports(store):
        batch = store.abatch_expecting  # type: ignore[attr-defined]
        return await batch(ops, expect)  # type: ignore[no-any-return]
    return await asyncio.to_thread(batch_sync, store, ops, expect)


_GUARD = threading.Lock()
_THREAD_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()
_SHARED = threading.Lock()  # for a store that cannot be weakly referenced


def _thread_lock(store: BaseStore) -> threading.Lock:
    with _GUARD:
        try:
            return _THREAD_LOCKS.setdefault(store, threading.Lock())
        except TypeError:
            return _SHARED
