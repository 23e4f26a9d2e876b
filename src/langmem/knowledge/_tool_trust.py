"""The hot-path tool's side of history and guards: one turn's deletion count, reads, writes and
the note the agent reads when a guard acted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from langgraph.store.base import BaseStore, GetOp, SearchOp
from langgraph.store.base import Item as BaseItem

from langmem import _flow
from langmem.knowledge import _prompts
from langmem.knowledge._guards import DeleteCap, GuardReport
from langmem.knowledge._history import Change, Provenance, area
from langmem.knowledge._trust import Trust, size_probe, write_flow

__all__ = [
    "DeleteTurn",
    "delete_turn",
    "deleted_in_run",
    "held_in_run",
    "tool_read",
    "tool_result",
    "tool_write",
]

DELETE_CAP = DeleteCap()
"""Deletions per turn in this process, shared by every manage tool."""


@dataclass
class DeleteTurn:
    """One deletion's place in its turn: reserved before any IO, released unless applied."""

    store: BaseStore
    key: Any
    count: int
    report: GuardReport = field(default_factory=GuardReport)
    size: int | None = None
    applied: bool = False

    def finish(self) -> None:
        if not self.applied:
            DELETE_CAP.release(self.store, self.key)


def delete_turn(
    store: BaseStore, namespace: tuple[str, ...], prov: Provenance, trust: Trust
) -> DeleteTurn:
    """Count this deletion in its turn: the caller's run when it named one, else the thread
    (within ``window_seconds``), else the LangGraph step."""
    by_thread = not prov.explicit_run and prov.thread_id is not None
    key = (namespace, "thread", prov.thread_id) if by_thread else (namespace, "run", prov.run_id)
    return DeleteTurn(store, key, DELETE_CAP.reserve(store, key, trust.guards))


def tool_read(
    store: BaseStore,
    namespace: tuple[str, ...],
    keys: list[str],
    turn: DeleteTurn | None,
    trust: Trust,
) -> _flow.Flow[BaseItem | None]:
    """The first memory found under ``keys`` (the forms an id may take) and, for a deletion
    that may be a large share of the namespace, the namespace's size."""
    probe = size_probe(namespace, trust.guards, turn.count) if turn is not None else None
    ops: list[Any] = [GetOp(namespace, key) for key in keys]
    if probe is not None:
        ops.append(probe)
    results = yield _flow.StoreBatch(store, tuple(ops))
    if probe is not None and turn is not None:  # the size before this turn's deletions
        turn.size = len(results[-1]) + turn.count - 1
    return next((item for item in results[: len(keys)] if item is not None), None)


def deleted_in_run(
    store: BaseStore, namespace: tuple[str, ...], keys: list[str], prov: Provenance
) -> _flow.Flow[str | None]:
    """The key among ``keys`` (the forms an id may take, none stored now) whose memory this
    run deleted, by its recorded change: a LangGraph node run again after ``interrupt()``
    repeats its deletion in the same task (its thread and step, whatever run id the resume
    carries; outside a graph, the same run id)."""
    records = area("history", namespace)
    ops = tuple(
        SearchOp(records, {"key": k, "op": "delete", "target": "live", **_same_step(prov)}, 1)
        for k in keys
    )
    found = yield _flow.StoreBatch(store, ops)
    return next((k for k, hits in zip(keys, found) if hits), None)


def held_in_run(
    store: BaseStore, namespace: tuple[str, ...], key: str, prov: Provenance
) -> _flow.Flow[str | None]:
    """Why this run's deletion of ``key`` is held, when this run holds one already (a node run
    again after ``interrupt()`` repeats it: it is not held twice); else ``None``."""
    held = SearchOp(area("held", namespace), {"key": key, **_same_step(prov)}, 1)
    (found,) = yield _flow.StoreBatch(store, (held,))
    return str(found[0].value.get("reason")) if found else None


def _same_step(prov: Provenance) -> dict[str, str | None]:
    """The filter that finds records of the call's own step: its LangGraph task, which a resume
    after ``interrupt()`` keeps (a resume may carry a new run id); else its run id."""
    return {"step": prov.step} if prov.step is not None else {"run_id": prov.run_id}


def tool_write(
    store: BaseStore,
    change: Change,
    prov: Provenance,
    trust: Trust,
    turn: DeleteTurn | None = None,
) -> _flow.Flow[None]:
    report = turn.report if turn is not None else GuardReport()
    yield from write_flow(store, [change], prov, trust, report)
    if turn is not None and change.status == "applied":
        turn.applied = True


def tool_result(done: str, change: Change) -> str:
    """The tool's answer: upstream's text when no guard acted, else what happened instead."""
    if change.status == "held":
        return _prompts.TOOL_DELETE_HELD.format(id=change.key, why=change.reason)
    if change.status == "quarantined":
        return _prompts.TOOL_QUARANTINED.format(done=done, patterns=", ".join(change.patterns))
    if change.status == "flagged":
        return _prompts.TOOL_FLAGGED.format(done=done, patterns=", ".join(change.patterns))
    return done
