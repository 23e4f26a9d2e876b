"""Undo: put back what the recorded changes of one run or thread replaced, as new recorded
changes (:meth:`History.undo_run <langmem.History.undo_run>`, ``undo_thread``)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, TypedDict

from langgraph.store.base import GetOp, Item, PutOp

from langmem import _flow
from langmem.knowledge._history import (
    RESERVED_ROOT,
    Change,
    ChangeRecord,
    area,
    live_namespace,
    revise,
)
from langmem.knowledge._history_args import Moment, _epoch

if TYPE_CHECKING:
    from langmem.knowledge.history import History

__all__ = ["UndoReport", "undo"]


class UndoReport(TypedDict):
    """What an undo did."""

    run_id: str
    """The undo's own run id (undo an undo with it)."""
    restored: list[dict[str, Any]]
    """``{"namespace", "key", "value"}`` for each memory put back (``value`` None: removed)."""
    conflicts: list[dict[str, Any]]
    """Memories changed again after the undone changes: left as they are unless ``force``."""
    discarded: list[dict[str, Any]]
    """Quarantined values and held deletions of the undone run, dropped."""


def undo(
    history: History, match: dict[str, Any], since: Moment | None, force: bool
) -> _flow.Flow[UndoReport]:
    filter = dict(match)
    if since is not None:
        filter["at_epoch"] = {"$gte": _epoch(since)}
    records = yield from history._records((), filter)
    groups: dict[tuple[tuple[str, ...], str], list[ChangeRecord]] = {}
    extra: list[PutOp] = []
    discarded: list[dict[str, Any]] = []
    for record in records:
        ns, key = tuple(record["namespace"]), record["key"]
        if record.get("target", "live") == "live":
            groups.setdefault((ns, key), []).append(record)
        elif record.get("target") == "quarantine":
            extra.append(PutOp(area("quarantine", ns), key, None))
            discarded.append({"namespace": ns, "key": key, "what": "quarantine"})
    held = yield from history._listing((RESERVED_ROOT, "held"), match)
    for item in held:
        at = item.value.get("at")
        if since is None or not isinstance(at, str) or _epoch(at) >= _epoch(since):
            extra.append(PutOp(tuple(item.namespace), item.key, None))
            discarded.append(
                {
                    "namespace": live_namespace(tuple(item.namespace)),
                    "key": item.value.get("key"),
                    "what": "held",
                }
            )
    if not records and not discarded:
        _warn_nothing_recorded(match, since)
    refs = list(groups)
    current = (
        (yield _flow.StoreBatch(history.store, [GetOp(ns, key) for ns, key in refs]))
        if refs
        else []
    )
    changes: list[Change] = []
    conflicts: list[dict[str, Any]] = []
    for (ns, key), item in zip(refs, current):
        run = groups[(ns, key)]
        now = None if item is None else item.value
        before, after = run[0]["previous"], run[-1]["value"]
        if now is None and before is None:  # gone since (deleted, expired): nothing to undo
            continue
        if now != after and not force:
            conflicts.append({"namespace": ns, "key": key, "reason": _changed_again(now)})
            continue
        if now != before:
            changes.append(Change(ns, key, now, before, "undo"))
    what = ", ".join(f"{k}={v}" for k, v in match.items())

    def changed_again(change: Change, found: Item | None) -> None:
        """Another writer changed the memory after it was read here: a conflict, as if
        it had been changed before the undo (with ``force``, undone over it); already as
        the undo leaves it (another undo of the run got there first): nothing to do."""
        if (None if found is None else found.value) == change.value:
            change.status = "unchanged"
            return
        if force:
            revise(change, found)
            if change.value == change.previous:
                change.status = "unchanged"
            return
        change.status = "unchanged"
        if found is None and change.value is None:
            return  # gone meanwhile, as the undo would leave it
        reason = _changed_again(None if found is None else found.value)
        conflicts.append({"namespace": change.namespace, "key": change.key, "reason": reason})

    prov = yield from history._write(changes, extra, "undo", f"undo {what}", revise=changed_again)
    done = [c for c in changes if c.status != "unchanged"]
    return UndoReport(
        run_id=prov.run_id or "",
        restored=[{"namespace": c.namespace, "key": c.key, "value": c.value} for c in done],
        conflicts=conflicts,
        discarded=discarded,
    )


def _changed_again(now: dict[str, Any] | None) -> str:
    """Why an undo leaves a memory alone: it changed after the undone run (or it is gone:
    deleted, or its TTL ran out)."""
    if now is None:
        return "deleted (or expired) after the undone run"
    return "changed again after the undone run"


def _warn_nothing_recorded(match: dict[str, Any], since: Moment | None) -> None:
    """An undo that matches no recorded change undoes nothing: say so, with the likely cause."""
    ((field, value),) = match.items()
    after = "" if since is None else f" since {since!r}"
    hint = (
        " Through a graph (create_agent, StateGraph), LangChain gives config['run_id'] to the "
        "graph's root run only, so the tools record the LangGraph step's id instead: pass "
        "your id as config={'configurable': {'run_id': ...}} (or metadata), or find the ids in "
        "History(store).changes(namespace)."
        if field == "run_id"
        else " Check the id in History(store).changes(namespace)."
    )
    warnings.warn(
        f"undo found no recorded change with {field}={value!r}{after}: nothing was undone.{hint}",
        UserWarning,
        stacklevel=4,
    )
