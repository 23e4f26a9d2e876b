"""The write step shared by the hot-path tool and the store manager: guards, then one batch.

:func:`write_flow` takes the changes a component wants to make, runs the storage guards on them
(PII redaction, the injection detector, held deletions), and sends every resulting op -- the
changes, their history records, archived predecessors, quarantined values, held deletions -- in
one ``store.batch``, so a change and its record commit together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from langgraph.store.base import BaseStore, GetOp, Item, PutOp, SearchOp

from langmem import _flow
from langmem.errors import ConfigurationError
from langmem.knowledge._guards import GuardReport, Guards, detect_injection, over_cap, redact
from langmem.knowledge._guards import size_probe_limit as _probe
from langmem.knowledge._history import (
    Change,
    Provenance,
    area,
    change_ops,
    content_of,
    default_ttl,
    revise,
    write_changes,
)

__all__ = [
    "Trust",
    "TrustHolder",
    "TurnResult",
    "configure_trust",
    "hold_if_over_cap",
    "size_probe",
    "write_flow",
]


class TurnResult(list[dict[str, Any]]):
    """A store manager turn's writes (a plain list, as upstream returns), plus what the guards
    did (``report``) and the turn's ``run_id`` (pass it to ``History.undo_run``)."""

    def __init__(self, writes: list[dict[str, Any]], *, report: GuardReport, run_id: str | None):
        super().__init__(writes)
        self.report = report
        self.run_id = run_id


@dataclass(frozen=True)
class Trust:
    """One component's history, supersede and guard settings."""

    component: str
    guards: Guards = field(default_factory=Guards)
    supersede: bool = False
    history: bool = True


@dataclass
class TrustHolder:
    """The settings a manage tool reads on every call (:func:`configure_trust` swaps them)."""

    trust: Trust


def configure_trust(
    target: Any,
    *,
    guards: Guards | None = None,
    supersede: bool | None = None,
    record_history: bool | None = None,
) -> Any:
    """Change the history, supersede and guard settings of a store manager or manage tool.

    The factories keep upstream's signatures, so these settings live here. Defaults: history
    on; supersede on for the store manager, off for the tool; :class:`Guards` defaults.

    Args:
        target: a store manager or a tool from ``create_manage_memory_tool``.
        guards: the guards to run (``Guards.off()`` disables them).
        supersede: keep a deleted or changed memory's old value as a superseded fact.
        record_history: record every change (turning it off also loses undo).

    Returns:
        ``target``, for chaining.

    Example:
        >>> from langgraph.store.memory import InMemoryStore
        >>> from langmem import Guards, configure_trust, create_manage_memory_tool
        >>> tool = configure_trust(
        ...     create_manage_memory_tool(("memories",), store=InMemoryStore()),
        ...     guards=Guards(max_deletes=10), supersede=True)
    """
    holder = getattr(getattr(target, "func", None), "langmem_trust", None)
    current = holder.trust if holder is not None else getattr(target, "trust", None)
    if not isinstance(current, Trust):
        raise ConfigurationError(
            f"configure_trust got {type(target).__name__}: pass a memory store manager or a "
            "tool made by create_manage_memory_tool."
        )
    if guards is not None and not isinstance(guards, Guards):
        raise ConfigurationError(
            f"guards={guards!r} is not a Guards: pass e.g. guards=Guards(max_deletes=5), or "
            "Guards.off() to turn every guard off."
        )
    for name, flag in (("supersede", supersede), ("record_history", record_history)):
        if flag is not None and not isinstance(flag, bool):
            raise ConfigurationError(
                f"{name}={flag!r} is not a bool: pass True or False (None keeps the setting)."
            )
    updated = replace(
        current,
        guards=current.guards if guards is None else guards,
        supersede=current.supersede if supersede is None else supersede,
        history=current.history if record_history is None else record_history,
    )
    if holder is not None:
        holder.trust = updated
    else:
        target.trust = updated
    return target


def screen(change: Change, guards: Guards, report: GuardReport) -> None:
    """Redact and check a create/update before it is stored (sets its status)."""
    if change.value is None or change.op not in ("create", "update"):
        return
    if guards.redact_pii or guards.pii_patterns:
        content = change.value.get("content", change.value)
        cleaned, labels = redact(content, guards.pii_patterns)
        if labels:
            change.value = (
                {**change.value, "content": cleaned} if "content" in change.value else cleaned
            )
            report.redacted.append(_where(change, labels=labels))
    if guards.injection == "allow":
        return
    patterns = detect_injection(change.value.get("content", change.value))
    if not patterns:
        return
    change.patterns = patterns
    if guards.injection == "quarantine":
        change.status = "quarantined"
        report.quarantined.append(_where(change, patterns=patterns))
    else:
        change.status = "flagged"
        change.value = {
            **change.value,
            "flags": sorted({*change.value.get("flags", []), "injection"}),
        }
        report.flagged.append(_where(change, patterns=patterns))


def size_probe(namespace: tuple[str, ...], guards: Guards, deletes: int) -> SearchOp | None:
    """A bounded listing of ``namespace`` telling whether ``deletes`` is a large share of it."""
    limit = _probe(guards, deletes)
    return None if limit is None else SearchOp(namespace, None, limit, 0, None)


def hold_if_over_cap(
    changes: list[Change], deletes: int, size: int | None, guards: Guards, report: GuardReport
) -> None:
    """Mark the deletions among ``changes`` held when ``deletes`` in the turn is too many."""
    why = over_cap(guards, deletes, size)
    if why is None:
        return
    for change in changes:
        if change.op == "delete" and change.status == "applied":
            change.status = "held"
            change.reason = f"held: {why}" + (f"; {change.reason}" if change.reason else "")


def write_flow(
    store: BaseStore,
    changes: list[Change],
    prov: Provenance,
    trust: Trust,
    report: GuardReport,
) -> _flow.Flow[list[Change]]:
    """Screen ``changes`` and write them, with their records, in one store batch."""
    for change in changes:
        screen(change, trust.guards, report)
    yield from _quarantined_before(store, changes, report)
    ttl = default_ttl(store)

    def build() -> list[PutOp]:
        return change_ops(
            changes, prov, supersede=trust.supersede, history=trust.history, default_ttl=ttl
        )

    def revised(change: Change, found: Item | None) -> None:
        before = change.value
        revise(change, found)
        if change.value is not before and change.status != "unchanged":
            _rescreen(change, trust.guards, report)  # a value computed again: guard it again

    # records keep the value each change replaced; a value computed from the memory as read
    # (a patch) is computed again from what a writer that got there first left
    if trust.history or trust.supersede or any(c.rebuild or c.repeatable for c in changes):
        yield from write_changes(store, changes, build, revised)
    else:
        ops = build()
        if ops:
            yield _flow.StoreBatch(store, ops)
    for change in changes:
        if change.status == "held":
            report.held.append(_where(change, hold_id=change.hold_id, reason=change.reason))
    report.log(trust.component)
    return changes


def _quarantined_before(
    store: BaseStore, changes: list[Change], report: GuardReport
) -> _flow.Flow[None]:
    """Settle each repeatable create that an earlier run of its task (a node run again after
    ``interrupt()``) quarantined already: still in quarantine, it is marked ``repeated``;
    released meanwhile (its live key holds the same content), it is done: ``unchanged``.
    One read, only when there are any."""
    held_back = [c for c in changes if c.repeatable and c.status == "quarantined"]
    if not held_back:
        return
    gets = tuple(
        op
        for c in held_back
        for op in (GetOp(area("quarantine", c.namespace), c.key), GetOp(c.namespace, c.key))
    )
    found = yield _flow.StoreBatch(store, gets)
    for n, change in enumerate(held_back):
        quarantined, live = found[2 * n], found[2 * n + 1]
        content = content_of(change.value)
        if live is not None and content_of(live.value) == content:
            change.status, change.patterns = "unchanged", []
            _forget(report.quarantined, change)
        elif quarantined is not None and content_of(quarantined.value) == content:
            change.repeated = True


def _rescreen(change: Change, guards: Guards, report: GuardReport) -> None:
    """:func:`screen` ``change``'s new value, replacing what the report said of its old one."""
    for found in (report.redacted, report.flagged, report.quarantined):
        _forget(found, change)
    change.status, change.patterns = "applied", []
    screen(change, guards, report)


def _forget(found: list[Any], change: Change) -> None:
    """Drop what ``found`` (a list of the guard report) says of ``change``'s memory."""
    ref = (change.namespace, change.key)
    found[:] = [w for w in found if (w["namespace"], w["key"]) != ref]


def _where(change: Change, **extra: Any) -> dict[str, Any]:
    return {"namespace": change.namespace, "key": change.key, **extra}
