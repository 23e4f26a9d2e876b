"""Change records: what langmem changed in a memory, stored next to the change, in one batch.

Records live as ordinary store items under a reserved root namespace (:data:`RESERVED_ROOT`), so
they work on any ``BaseStore`` and commit in the same ``store.batch`` as the change itself (the
embedded store applies a batch in one transaction). They are never embedded (``index=False``)
and langmem's searches never look under the reserved root.

::

    ("__langmem__", "history", *namespace)     one record per change (append-only)
    ("__langmem__", "superseded", *namespace)  superseded facts, keyed key@valid_from@invalid_from
    ("__langmem__", "archive", *namespace)     the same, embedded for "as of" search on first use
    ("__langmem__", "quarantine", *namespace)  memories held back from every model
    ("__langmem__", "held", *namespace)        deletions waiting for confirmation
"""

from __future__ import annotations

import datetime as _dt
import itertools
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.store.base import NOT_PROVIDED, BaseStore, Item, NotProvided, PutOp

from langmem import _flow
from langmem._expect import Expected
from langmem._namespace import RESERVED_ROOT
from langmem._task_scope import repeatable_key
from langmem.errors import NamespaceError, WriteConflictError

__all__ = [
    "RESERVED_ROOT",
    "Change",
    "ChangeRecord",
    "Provenance",
    "area",
    "change_ops",
    "check_namespace",
    "content_of",
    "expected",
    "live_namespace",
    "provenance",
    "revise",
    "stamp_of",
    "write_changes",
]

_PROCESS = os.urandom(4).hex()  # record ids: time, then this process, then a counter
_SEQUENCE = itertools.count()

Area = Literal["history", "superseded", "archive", "quarantine", "held"]
Op = Literal[
    "create", "update", "delete", "restore", "undo", "release", "confirm", "quarantine", "hold"
]


class ChangeRecord(TypedDict, total=False):
    """One change to one memory, as stored (and as :class:`~langmem.History` returns it)."""

    change_id: str
    """Unique id of this record; pass it to ``restore`` to go back to ``value``."""
    namespace: list[str]
    key: str
    op: str
    """``create``, ``update``, ``delete``, ``restore``, ``undo``, ``release``, ``confirm``, or
    ``quarantine`` / ``hold`` (the memory itself did not change: see ``target``)."""
    target: str
    """``"live"`` for the memory itself, ``"quarantine"`` or ``"held"`` otherwise."""
    previous: dict[str, Any] | None
    """The value before the change (``None``: there was none)."""
    value: dict[str, Any] | None
    """The value after the change (``None``: deleted)."""
    at: str
    """When, ISO 8601 UTC."""
    at_epoch: float
    component: str
    """Which part of langmem made the change (``manage_memory``, ``store_manager``, ``undo``...)."""
    thread_id: str | None
    run_id: str | None
    step: str | None
    """The LangGraph task (thread and step) that made it, stable when a node runs again after
    ``interrupt()``; ``None`` outside a graph or in records written before it was kept."""
    reason: str | None
    """The model's stated reason, where it gave one."""


def area(kind: Area, namespace: tuple[str, ...]) -> tuple[str, ...]:
    """The reserved namespace holding ``kind`` records of ``namespace``."""
    return (RESERVED_ROOT, kind, *namespace)


def live_namespace(reserved: tuple[str, ...]) -> tuple[str, ...]:
    """The memory namespace a reserved namespace belongs to."""
    return tuple(reserved[2:])


def check_namespace(namespace: tuple[str, ...]) -> tuple[str, ...]:
    """Refuse memory namespaces under the reserved root (they would mix with our records)."""
    if namespace and namespace[0] == RESERVED_ROOT:
        raise NamespaceError(
            f"namespace {namespace!r} starts with {RESERVED_ROOT!r}, which langmem reserves for "
            "its change history: pick another first label."
        )
    return namespace


@dataclass(frozen=True)
class Provenance:
    """Who made a change: component, thread, run and the model's stated reason."""

    component: str
    thread_id: str | None = None
    run_id: str | None = None
    explicit_run: bool = False
    step: str | None = None
    """The LangGraph task the call belongs to (its thread and ``checkpoint_ns``): the same when
    a node runs again after ``interrupt()``, whatever run id the resume carries."""


def provenance(config: RunnableConfig, component: str, *, step_run: bool = False) -> Provenance:
    """Provenance from a run's config.

    The run id is the caller's (``configurable["run_id"]``, ``metadata["run_id"]`` or
    ``config["run_id"]``, as LangGraph Platform sets it); else, with ``step_run``, the LangGraph
    step the call belongs to (parallel tool calls of one model reply share it); else a new id.
    """
    configurable = config.get("configurable") or {}
    metadata = config.get("metadata") or {}
    thread = configurable.get("thread_id", metadata.get("thread_id"))
    explicit = configurable.get("run_id") or metadata.get("run_id") or config.get("run_id")
    run: Any = explicit
    if run is None and step_run:
        checkpoints = configurable.get("checkpoint_map") or {}
        run = checkpoints.get("") if isinstance(checkpoints, dict) else None
    return Provenance(
        component=component,
        thread_id=None if thread is None else str(thread),
        run_id=str(run) if run is not None else str(uuid.uuid4()),
        explicit_run=explicit is not None,
        step=repeatable_key(config, "step") if step_run else None,
    )


Status = Literal["applied", "held", "quarantined", "flagged", "unchanged"]


@dataclass
class Change:
    """One intended change to one memory, before guards and history turn it into store ops."""

    namespace: tuple[str, ...]
    key: str
    previous: dict[str, Any] | None
    value: dict[str, Any] | None
    op: Op
    reason: str | None = None
    valid_from: str | None = None
    """When ``previous`` became current (:func:`stamp_of`); used when it is superseded."""
    status: Status = "applied"
    patterns: list[str] = field(default_factory=list)
    hold_id: str | None = None
    index: Literal[False] | list[str] | None = None
    ttl: float | NotProvided | None = NOT_PROVIDED
    """Minutes the written value lives (``None``: for ever); not given: the store's default."""
    record_id: str | None = None
    """The ``change_id`` of its record, once built (:func:`record_op`)."""
    rebuild: Callable[[Item | None], dict[str, Any] | None] | None = field(
        default=None, repr=False, compare=False
    )
    """How ``value`` follows from the memory as it is (``None``: nothing to write), for a
    value computed from the memory as read (a patch merged into it): when another writer
    changed the memory first, :func:`revise` computes it again from what that writer left."""
    fresh_key: bool = False
    """A create under a key langmem just made up (a new UUID): no other writer can hold it, so
    its write is not checked against what was read (:func:`expected`)."""
    repeatable: bool = False
    """A create under a key derived from the LangGraph task and the value
    (:func:`~langmem._task_scope.repeatable_key`): found there, it was made by an earlier run
    of this task (a node run again after ``interrupt()``) and is not made twice (:func:`revise`)."""
    repeated: bool = False
    """A ``repeatable`` create that an earlier run of its task quarantined already: it keeps
    its status (and answer) but is not written or recorded again."""


def now_stamp() -> tuple[str, float, int]:
    """The time of a batch: ISO 8601 UTC, epoch seconds, and nanoseconds (for record keys)."""
    ns = time.time_ns()
    iso = _dt.datetime.fromtimestamp(ns / 1e9, tz=_dt.timezone.utc).isoformat()
    return iso, ns / 1e9, ns


def record_op(
    change: Change,
    prov: Provenance,
    stamp: tuple[str, float, int],
    *,
    op: str | None = None,
    target: str = "live",
    value: dict[str, Any] | None = None,
) -> PutOp:
    """The history record of ``change`` (not embedded)."""
    iso, epoch, ns = stamp
    change_id = change.record_id = f"{ns:020d}-{_PROCESS}{next(_SEQUENCE):06x}"
    record: dict[str, Any] = {
        "change_id": change_id,
        "namespace": list(change.namespace),
        "key": change.key,
        "op": op or change.op,
        "target": target,
        "previous": change.previous,
        "value": change.value if value is None and target == "live" else value,
        "at": iso,
        "at_epoch": epoch,
        "component": prov.component,
        "thread_id": prov.thread_id,
        "run_id": prov.run_id,
        "step": prov.step,
        "reason": change.reason,
    }
    return PutOp(area("history", change.namespace), change_id, record, index=False)


def change_ops(
    changes: list[Change],
    prov: Provenance,
    *,
    supersede: bool,
    history: bool,
    stamp: tuple[str, float, int] | None = None,
    default_ttl: float | None = None,
) -> list[PutOp]:
    """Store ops for ``changes`` by status: applied changes with their records (and archived
    predecessors when superseding), quarantined values, held deletions. A written memory
    without a ``ttl`` of its own gets ``default_ttl`` (the store's, as ``store.put`` gives)."""
    stamp = stamp or now_stamp()
    iso = stamp[0]
    ops: list[PutOp] = []
    for change in changes:
        if change.status == "unchanged" or change.repeated:
            continue
        if change.status == "quarantined":
            entry = {**(change.value or {}), "quarantine": _meta(change, prov, iso)}
            ops.append(PutOp(area("quarantine", change.namespace), change.key, entry, index=False))
            if history:
                ops.append(record_op(change, prov, stamp, target="quarantine", value=change.value))
            continue
        if change.status == "held":
            hold_id = change.hold_id = f"{stamp[2]:020d}-{_PROCESS}{next(_SEQUENCE):06x}"
            entry = {
                "hold_id": hold_id,
                "namespace": list(change.namespace),
                "key": change.key,
                "op": change.op,
                "previous": change.previous,
                "supersede": supersede,
                **_meta(change, prov, iso),
            }
            ops.append(PutOp(area("held", change.namespace), hold_id, entry, index=False))
            if history:
                ops.append(record_op(change, prov, stamp, target="held", value=change.previous))
            continue
        ttl = default_ttl if isinstance(change.ttl, NotProvided) else change.ttl
        ops.append(PutOp(change.namespace, change.key, change.value, change.index, ttl))
        if history:
            ops.append(record_op(change, prov, stamp))
        if supersede and change.previous is not None and _supersedes(change):
            # the value exactly as it was, its validity in the key; not embedded now (the turn
            # stays as cheap on every store and embedder), but when "as of" search first needs it
            since = change.valid_from or str(change.previous.get("updated_at") or "")
            key = archive_key(change.key, since, iso)
            superseded = area("superseded", change.namespace)
            ops.append(PutOp(superseded, key, change.previous, index=False))
    return ops


WRITE_ATTEMPTS = 64
"""Tries of a recorded write whose memories other writers keep changing (each failed try means
another writer's change was stored, so N writers of one memory need at most N tries)."""


def expected(changes: list[Change]) -> list[Expected]:
    """What each change that writes its memory read of it (see :mod:`langmem._expect`)."""
    return [
        Expected(c.namespace, c.key, c.previous)
        for c in changes
        if c.status in ("applied", "flagged") and not c.fresh_key
    ]


def stamp_of(item: Item) -> str:
    """When ``item``'s value became current (a change's ``valid_from``): the value's own
    ``updated_at`` when it is an ISO 8601 time no later than the item's (the store manager
    stamps its values as it makes the change, before the store stamps the item, which may be
    an embedding call later), else the item's ``updated_at``."""
    stored = item.updated_at
    if stored.tzinfo is None:
        stored = stored.replace(tzinfo=_dt.timezone.utc)
    own = item.value.get("updated_at") if isinstance(item.value, dict) else None
    if isinstance(own, str):
        try:
            moment = _dt.datetime.fromisoformat(own)
        except ValueError:
            return stored.isoformat()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_dt.timezone.utc)
        if moment <= stored:
            return moment.isoformat()
    return stored.isoformat()


def revise(change: Change, found: Item | None) -> None:
    """Make ``change`` replace ``found`` (the memory as a writer that got there first left it):
    its previous value, and whether it creates or updates; a deletion of a memory now gone
    changes nothing; a change with a ``rebuild`` computes its value again from ``found``.

    A ``repeatable`` create that finds its key holding the same content was made by an earlier
    run of its task: unchanged. Holding other content (changed since), it takes a new key, so
    neither that change nor this memory is lost."""
    if change.repeatable and found is not None:
        change.repeatable = False
        if content_of(found.value) == content_of(change.value):
            change.status = "unchanged"
        else:
            change.key, change.fresh_key = str(uuid.uuid4()), True
        return
    change.previous = None if found is None else found.value
    change.valid_from = None if found is None else stamp_of(found)
    if change.rebuild is not None and change.value is not None:
        value = change.rebuild(found)
        if value is None:
            change.status = "unchanged"
            return
        change.value = value
    if change.op in ("create", "update"):
        change.op = "create" if found is None else "update"
    elif change.value is None and found is None:
        change.status = "unchanged"


Revise = Callable[[Change, "Item | None"], None]


def write_changes(
    store: BaseStore,
    changes: list[Change],
    build: Callable[[], list[PutOp]],
    revise: Revise = revise,
    *,
    taken: Sequence[Expected] = (),
) -> _flow.Flow[None]:
    """Send ``build()`` (the ops of ``changes`` and their records) in one batch, written only if
    every changed memory is as ``changes`` read it. When another writer changed one first,
    ``revise`` each such change with what it left, build again and resend, so each record
    holds the value its change replaced.

    ``taken``: entries the batch consumes (a quarantined value released, a held deletion
    settled), written only if they are still as read; when another writer took one first,
    the :class:`~langmem.errors.WriteConflictError` is raised as it is (nothing written)."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        ops = build()
        if not ops:
            return
        expect = [*expected(changes), *taken]
        try:
            yield _flow.StoreBatch(store, ops, expect)
            return
        except WriteConflictError as conflict:
            if any((e.namespace, e.key) in conflict.found for e in taken):
                raise
            if attempt == WRITE_ATTEMPTS:
                raise _kept_changing(conflict, expect) from conflict
            for change in changes:
                ref = (change.namespace, change.key)
                if ref in conflict.found:
                    revise(change, conflict.found[ref])


def _kept_changing(conflict: WriteConflictError, expect: list[Expected]) -> WriteConflictError:
    refs = list(conflict.found) or [(e.namespace, e.key) for e in expect]
    shown = ", ".join(f"{key!r} in {ns!r}" for ns, key in refs[:3])
    return WriteConflictError(
        f"memory {shown} kept changing through {WRITE_ATTEMPTS} attempts to write this change "
        "(other writers changed it between each read and write): nothing of this change was "
        "written. Try again when fewer writers change it at once.",
        found=conflict.found,
    )


def default_ttl(store: BaseStore) -> float | None:
    """The TTL (minutes) ``store.put`` gives a new item of ``store`` when none is passed."""
    config = getattr(store, "ttl_config", None) or {}
    ttl = config.get("default_ttl")
    return None if ttl is None else float(ttl)


def archive_key(key: str, valid_from: str, invalid_from: str) -> str:
    """The archive key of a superseded value: ``key@valid_from@invalid_from`` (ISO 8601)."""
    return f"{key}@{valid_from}@{invalid_from}"


def parse_archive_key(archived: str) -> tuple[str, str | None, str]:
    """``(key, valid_from or None, invalid_from)`` of an archive key."""
    key, since, until = archived.rsplit("@", 2)
    return key, since or None, until


def content_of(value: dict[str, Any] | None) -> Any:
    """A memory value's content (the whole value when it has none)."""
    return value.get("content", value) if isinstance(value, dict) else value


def _supersedes(change: Change) -> bool:
    if change.value is None:
        return True
    previous = change.previous or {}
    return bool(previous.get("content", previous) != change.value.get("content", change.value))


def _meta(change: Change, prov: Provenance, iso: str) -> dict[str, Any]:
    return {
        "reason": change.reason,
        "patterns": list(change.patterns),
        "at": iso,
        "component": prov.component,
        "thread_id": prov.thread_id,
        "run_id": prov.run_id,
        "step": prov.step,
    }
