"""Memory history: every change langmem made, restore and undo, superseded facts, quarantine and
held deletions. Works on any LangGraph ``BaseStore`` (records are ordinary store items).

Example:
    >>> from langgraph.store.memory import InMemoryStore
    >>> from langmem import History, create_manage_memory_tool
    >>> store = InMemoryStore()
    >>> tool = create_manage_memory_tool(("memories",), store=store)
    >>> key = tool.invoke({"content": "Prefers tea"}).split()[-1]
    >>> _ = tool.invoke({"action": "delete", "id": key})
    >>> history = History(store)
    >>> [c["op"] for c in history.history(("memories",), key)]
    ['create', 'delete']
    >>> _ = history.restore(("memories",), key, history.history(("memories",), key)[0]["change_id"])
    >>> store.get(("memories",), key).value
    {'content': 'Prefers tea'}
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Literal

from langgraph.store.base import (
    NOT_PROVIDED,
    BaseStore,
    GetOp,
    Item,
    NotProvided,
    PutOp,
    SearchItem,
    SearchOp,
)

from langmem import _flow
from langmem._expect import Expected
from langmem._store_context import resolve_store
from langmem.errors import InvalidInputError, WriteConflictError
from langmem.knowledge._history import (
    Change,
    ChangeRecord,
    Op,
    Provenance,
    Revise,
    area,
    change_ops,
    check_namespace,
    default_ttl,
    live_namespace,
    parse_archive_key,
    revise,
    stamp_of,
    write_changes,
)
from langmem.knowledge._history_args import Moment, _current, _epoch, _id, _key, _labels
from langmem.knowledge._undo import UndoReport, undo
from langmem.stores._pg_connect import RETRIED_STATES

__all__ = ["ChangeRecord", "History", "UndoReport"]

PAGE = 1000
_MOVE_ATTEMPTS = 4


class History:
    """Read and act on the change history kept in ``store`` (default: the run's store).

    Every method has an async twin with an ``a`` prefix.
    """

    def __init__(self, store: BaseStore | None = None) -> None:
        self._store = store

    @property
    def store(self) -> BaseStore:
        return resolve_store(self._store, what="memory history")

    # -- reading ------------------------------------------------------------------------------
    def history(self, namespace: Sequence[str], key: str) -> list[ChangeRecord]:
        """Every recorded change of one memory, oldest first."""
        return _flow.run_sync(self._history(_labels(namespace), _key(key)))

    async def ahistory(self, namespace: Sequence[str], key: str) -> list[ChangeRecord]:
        return await _flow.run_async(self._history(_labels(namespace), _key(key)))

    def changes(
        self,
        namespace: Sequence[str] = (),
        *,
        since: Moment | None = None,
        until: Moment | None = None,
    ) -> list[ChangeRecord]:
        """Changes under a namespace prefix (``()``: all), oldest first, optionally in a window."""
        return _flow.run_sync(self._changes(_labels(namespace), since, until))

    async def achanges(
        self,
        namespace: Sequence[str] = (),
        *,
        since: Moment | None = None,
        until: Moment | None = None,
    ) -> list[ChangeRecord]:
        return await _flow.run_async(self._changes(_labels(namespace), since, until))

    def search(
        self,
        namespace: Sequence[str],
        query: str | None = None,
        *,
        as_of: Moment | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
    ) -> list[SearchItem]:
        """Search the facts that were current at ``as_of`` (default: now); superseded ones come
        back under their own key with ``valid_from`` / ``invalid_from`` added to the value."""
        return _flow.run_sync(self._search(_labels(namespace), query, as_of, filter, limit))

    async def asearch(
        self,
        namespace: Sequence[str],
        query: str | None = None,
        *,
        as_of: Moment | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
    ) -> list[SearchItem]:
        return await _flow.run_async(self._search(_labels(namespace), query, as_of, filter, limit))

    def quarantined(self, namespace: Sequence[str] = ()) -> list[SearchItem]:
        """Memories held back from models (their ``quarantine`` field says why)."""
        return _flow.run_sync(self._listing(area("quarantine", _labels(namespace)), None))

    async def aquarantined(self, namespace: Sequence[str] = ()) -> list[SearchItem]:
        return await _flow.run_async(self._listing(area("quarantine", _labels(namespace)), None))

    def held(self, namespace: Sequence[str] = ()) -> list[SearchItem]:
        """Deletions waiting for confirmation."""
        return _flow.run_sync(self._listing(area("held", _labels(namespace)), None))

    async def aheld(self, namespace: Sequence[str] = ()) -> list[SearchItem]:
        return await _flow.run_async(self._listing(area("held", _labels(namespace)), None))

    # -- acting -------------------------------------------------------------------------------
    def put(
        self,
        namespace: Sequence[str],
        key: str,
        value: dict[str, Any],
        *,
        index: Literal[False] | list[str] | None = None,
        ttl: float | NotProvided | None = NOT_PROVIDED,
        component: str = "direct",
        reason: str | None = None,
        must_exist: bool | None = None,
    ) -> ChangeRecord:
        """Store ``value`` under ``key``, recording the change (for writes outside langmem's
        components, e.g. a CLI or an admin script).

        ``must_exist``: ``True`` only replaces a stored memory, ``False`` only creates a new
        one; otherwise :class:`~langmem.errors.WriteConflictError` (nothing written, checked
        where the store writes, so a concurrent create or delete is caught too)."""
        flow = self._put_value(namespace, key, value, index, ttl, component, reason, must_exist)
        return _flow.run_sync(flow)

    async def aput(
        self,
        namespace: Sequence[str],
        key: str,
        value: dict[str, Any],
        *,
        index: Literal[False] | list[str] | None = None,
        ttl: float | NotProvided | None = NOT_PROVIDED,
        component: str = "direct",
        reason: str | None = None,
        must_exist: bool | None = None,
    ) -> ChangeRecord:
        flow = self._put_value(namespace, key, value, index, ttl, component, reason, must_exist)
        return await _flow.run_async(flow)

    def delete(
        self,
        namespace: Sequence[str],
        key: str,
        *,
        supersede: bool = False,
        component: str = "direct",
        reason: str | None = None,
    ) -> ChangeRecord | None:
        """Delete the memory under ``key``, recording the change (``None``: there was none)."""
        return _flow.run_sync(
            self._put(_labels(namespace), _key(key), None, None, None, component, reason, supersede)
        )

    async def adelete(
        self,
        namespace: Sequence[str],
        key: str,
        *,
        supersede: bool = False,
        component: str = "direct",
        reason: str | None = None,
    ) -> ChangeRecord | None:
        return await _flow.run_async(
            self._put(_labels(namespace), _key(key), None, None, None, component, reason, supersede)
        )

    def restore(self, namespace: Sequence[str], key: str, change_id: str) -> ChangeRecord:
        """Put a memory back to the value it had after change ``change_id`` (a new change)."""
        return _flow.run_sync(self._restore(_labels(namespace), _key(key), change_id))

    async def arestore(self, namespace: Sequence[str], key: str, change_id: str) -> ChangeRecord:
        return await _flow.run_async(self._restore(_labels(namespace), _key(key), change_id))

    def undo_run(self, run_id: str, *, force: bool = False) -> UndoReport:
        """Undo every change one run made (e.g. a poisoned turn), as new recorded changes.

        A memory changed again after the run is left alone and reported as a conflict, unless
        ``force``."""
        return _flow.run_sync(undo(self, {"run_id": _id("run_id", run_id)}, None, force))

    async def aundo_run(self, run_id: str, *, force: bool = False) -> UndoReport:
        return await _flow.run_async(undo(self, {"run_id": _id("run_id", run_id)}, None, force))

    def undo_thread(
        self, thread_id: str, *, since: Moment | None = None, force: bool = False
    ) -> UndoReport:
        """Undo every change made for one thread (since ``since``, when given)."""
        return _flow.run_sync(undo(self, {"thread_id": _id("thread_id", thread_id)}, since, force))

    async def aundo_thread(
        self, thread_id: str, *, since: Moment | None = None, force: bool = False
    ) -> UndoReport:
        return await _flow.run_async(
            undo(self, {"thread_id": _id("thread_id", thread_id)}, since, force)
        )

    def release(self, namespace: Sequence[str], key: str) -> ChangeRecord:
        """Move a quarantined memory into its namespace, where models see it."""
        return _flow.run_sync(self._release(_labels(namespace), _key(key)))

    async def arelease(self, namespace: Sequence[str], key: str) -> ChangeRecord:
        return await _flow.run_async(self._release(_labels(namespace), _key(key)))

    def confirm(self, namespace: Sequence[str], hold_id: str) -> ChangeRecord | None:
        """Apply a held deletion (``None`` when the memory is already gone)."""
        return _flow.run_sync(self._settle(_labels(namespace), hold_id, apply=True))

    async def aconfirm(self, namespace: Sequence[str], hold_id: str) -> ChangeRecord | None:
        return await _flow.run_async(self._settle(_labels(namespace), hold_id, apply=True))

    def discard(self, namespace: Sequence[str], hold_id: str) -> None:
        """Drop a held deletion: the memory stays."""
        _flow.run_sync(self._settle(_labels(namespace), hold_id, apply=False))

    async def adiscard(self, namespace: Sequence[str], hold_id: str) -> None:
        await _flow.run_async(self._settle(_labels(namespace), hold_id, apply=False))

    # -- flows ----------------------------------------------------------------------------------
    def _listing(
        self, prefix: tuple[str, ...], filter: dict[str, Any] | None
    ) -> _flow.Flow[list[SearchItem]]:
        store = self.store
        items: list[SearchItem] = []
        while True:
            op = SearchOp(prefix, filter, PAGE, len(items), None)
            (page,) = yield _flow.StoreBatch(store, (op,))
            items.extend(page)
            if len(page) < PAGE:
                return items

    def _records(
        self, prefix: tuple[str, ...], filter: dict[str, Any] | None
    ) -> _flow.Flow[list[ChangeRecord]]:
        items = yield from self._listing(area("history", prefix), filter)
        records = [ChangeRecord(**item.value) for item in items]  # type: ignore[typeddict-item]
        records.sort(key=lambda r: (r["at_epoch"], r["change_id"]))
        return records

    def _history(self, namespace: tuple[str, ...], key: str) -> _flow.Flow[list[ChangeRecord]]:
        records = yield from self._records(namespace, {"key": key})
        return [r for r in records if tuple(r["namespace"]) == namespace]

    def _changes(
        self, namespace: tuple[str, ...], since: Moment | None, until: Moment | None
    ) -> _flow.Flow[list[ChangeRecord]]:
        window: dict[str, Any] = {}
        if since is not None:
            window["$gte"] = _epoch(since)
        if until is not None:
            window["$lte"] = _epoch(until)
        return (yield from self._records(namespace, {"at_epoch": window} if window else None))

    def _search(
        self,
        namespace: tuple[str, ...],
        query: str | None,
        as_of: Moment | None,
        filter: dict[str, Any] | None,
        limit: int,
    ) -> _flow.Flow[list[SearchItem]]:
        store = self.store
        if as_of is None:
            (items,) = yield _flow.StoreBatch(
                store, (SearchOp(namespace, filter, limit, 0, query),)
            )
            return list(items)
        moment = _epoch(as_of)
        yield from self._index_superseded(namespace)
        wide = limit * 4 + 10  # room for facts that were not current at that time
        live, archived = yield _flow.StoreBatch(
            store,
            (
                SearchOp(namespace, filter, wide, 0, query),
                SearchOp(area("archive", namespace), filter, wide, 0, query),
            ),
        )
        # the change that superseded a value stamps its end before the store writes the new
        # value (and embeds it): from that end on, the new value is the current one, even
        # though its updated_at is a little later (a live value created after it, once the
        # memory was deleted, is not)
        ended: dict[tuple[tuple[str, ...], str], float] = {}
        for item in archived:
            archived_key, _, invalid_from = parse_archive_key(item.key)
            ref = (live_namespace(tuple(item.namespace)), archived_key)
            ended[ref] = max(ended.get(ref, 0.0), _epoch(invalid_from))
        found = [i for i in live if _current(i, ended.get((tuple(i.namespace), i.key)), moment)]
        for item in archived:
            key, start, end = parse_archive_key(item.key)
            if (start is None or _epoch(start) <= moment) and moment < _epoch(end):
                value = {**item.value, "valid_from": start, "invalid_from": end}
                found.append(
                    SearchItem(
                        live_namespace(tuple(item.namespace)),
                        key,
                        value,
                        item.created_at,
                        item.updated_at,
                        item.score,
                    )
                )
        if query:
            found.sort(
                key=lambda i: i.score if i.score is not None else float("-inf"), reverse=True
            )
        return found[:limit]

    def _index_superseded(self, namespace: tuple[str, ...]) -> _flow.Flow[None]:
        """Move superseded facts written since the last "as of" search into the searchable
        (embedded) archive, in one batch."""
        for attempt in range(1, _MOVE_ATTEMPTS + 1):
            pending = yield from self._listing(area("superseded", namespace), None)
            ops: list[PutOp] = []
            for item in pending:
                archive = area("archive", live_namespace(tuple(item.namespace)))
                ops += [PutOp(archive, item.key, item.value), PutOp(item.namespace, item.key, None)]
            if not ops:
                return
            try:
                yield _flow.StoreBatch(self.store, ops)
                return
            except Exception as exc:
                # concurrent "as of" searches move the same facts: PostgreSQL may pick one of
                # their batches as a deadlock victim; what the others moved is then not pending
                state = getattr(exc, "sqlstate", None)
                if attempt == _MOVE_ATTEMPTS or state not in RETRIED_STATES:
                    raise

    def _write(
        self,
        changes: list[Change],
        extra: list[PutOp],
        component: str,
        reason: str | None,
        *,
        supersede: bool = False,
        revise: Revise = revise,
        taken: Sequence[Expected] = (),
    ) -> _flow.Flow[Provenance]:
        """Write ``changes`` with their records (and ``extra``) in one batch, each record holding
        the value its change replaced (``revise``: how a change adapts when another writer
        changed its memory first, see :func:`~langmem.knowledge._history.write_changes`)."""
        prov = Provenance(component, run_id=str(uuid.uuid4()))
        for change in changes:
            change.reason = reason
        store, ttl = self.store, default_ttl(self.store)

        def build() -> list[PutOp]:
            ops = change_ops(changes, prov, supersede=supersede, history=True, default_ttl=ttl)
            return ops + extra

        yield from write_changes(store, changes, build, revise, taken=taken)
        return prov

    def _put_value(
        self,
        namespace: Sequence[str],
        key: str,
        value: dict[str, Any],
        index: Literal[False] | list[str] | None,
        ttl: float | NotProvided | None,
        component: str,
        reason: str | None,
        must_exist: bool | None,
    ) -> _flow.Flow[ChangeRecord]:
        """:meth:`put`'s flow, its arguments checked."""
        labels, checked = _labels(namespace), _key(key)
        if must_exist is not None and not isinstance(must_exist, bool):
            raise InvalidInputError(
                f"put(..., must_exist={must_exist!r}): must_exist is None (create or replace), "
                "True (only replace a stored memory) or False (only create a new one); fix: "
                "pass one of those."
            )
        flow = self._put(labels, checked, value, index, ttl, component, reason, False, must_exist)
        record = yield from flow
        assert record is not None  # a put always changes something
        return record

    def _put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: dict[str, Any] | None,
        index: Literal[False] | list[str] | None,
        ttl: float | NotProvided | None,
        component: str,
        reason: str | None,
        supersede: bool,
        must_exist: bool | None = None,
    ) -> _flow.Flow[ChangeRecord | None]:
        check_namespace(namespace)
        store = self.store
        (current,) = yield _flow.StoreBatch(store, (GetOp(namespace, key),))
        _require(namespace, key, current, must_exist)
        if value is None and current is None:
            return None
        previous = None if current is None else current.value
        op: Op = "delete" if value is None else ("create" if current is None else "update")
        change = Change(namespace, key, previous, value, op, index=index, ttl=ttl)
        if current is not None:
            change.valid_from = stamp_of(current)

        def revised(change: Change, found: Item | None) -> None:
            _require(namespace, key, found, must_exist)  # created or deleted meanwhile
            revise(change, found)

        yield from self._write([change], [], component, reason, supersede=supersede, revise=revised)
        if change.status == "unchanged":  # deleted meanwhile by another writer
            return None
        return (yield from self._record_of(change))

    def _record_of(self, change: Change) -> _flow.Flow[ChangeRecord]:
        """The stored record of ``change`` (written by :meth:`_write`), read by its key (not
        by listing the memory's records, whose number only grows)."""
        assert change.record_id is not None
        get = GetOp(area("history", change.namespace), change.record_id)
        (item,) = yield _flow.StoreBatch(self.store, (get,))
        found = None if item is None else ChangeRecord(**item.value)  # type: ignore[typeddict-item]
        if found is None:  # a store that did not keep what it acknowledged
            raise RuntimeError(
                f"the record {change.record_id!r} of the change just written to memory "
                f"{change.key!r} in {change.namespace!r} is not in the store: its writes "
                "were not kept."
            )
        return found

    def _restore(
        self, namespace: tuple[str, ...], key: str, change_id: str
    ) -> _flow.Flow[ChangeRecord]:
        records = yield from self._history(namespace, key)
        chosen = next((r for r in records if r["change_id"] == change_id), None)
        if chosen is None:
            raise InvalidInputError(
                f"change_id={change_id!r} is not a change of memory {key!r} in {namespace!r}: "
                "pick one from history(namespace, key)."
            )
        (current,) = yield _flow.StoreBatch(self.store, (GetOp(namespace, key),))
        target = chosen["value"] if chosen.get("target", "live") == "live" else chosen["previous"]
        previous = None if current is None else current.value
        change = Change(namespace, key, previous, target, "restore")
        yield from self._write([change], [], "restore", f"restore to {change_id}")
        if change.status == "unchanged":  # another writer reached the target meanwhile
            return (yield from self._history(namespace, key))[-1]
        return (yield from self._record_of(change))

    def _release(self, namespace: tuple[str, ...], key: str) -> _flow.Flow[ChangeRecord]:
        held, current = yield _flow.StoreBatch(
            self.store, (GetOp(area("quarantine", namespace), key), GetOp(namespace, key))
        )
        if held is None:
            raise InvalidInputError(
                f"no quarantined memory {key!r} in {namespace!r}: list them with quarantined()."
            )
        value = {k: v for k, v in held.value.items() if k != "quarantine"}
        previous = None if current is None else current.value
        change = Change(namespace, key, previous, value, "release")
        gone = f"quarantined memory {key!r} in {namespace!r} was released or discarded"
        place = area("quarantine", namespace)
        yield from self._consume([change], place, held, "release", "released from quarantine", gone)
        return (yield from self._record_of(change))

    def _settle(
        self, namespace: tuple[str, ...], hold_id: str, *, apply: bool
    ) -> _flow.Flow[ChangeRecord | None]:
        (hold,) = yield _flow.StoreBatch(self.store, (GetOp(area("held", namespace), hold_id),))
        if hold is None:
            raise InvalidInputError(
                f"no held deletion {hold_id!r} in {namespace!r}: list them with held()."
            )
        place = area("held", namespace)
        gone = f"held deletion {hold_id!r} in {namespace!r} was confirmed or discarded"
        key = str(hold.value["key"])
        if not apply:
            yield from self._consume([], place, hold, "discard", "held deletion discarded", gone)
            return None
        (current,) = yield _flow.StoreBatch(self.store, (GetOp(namespace, key),))
        if current is None:
            yield from self._consume([], place, hold, "confirm", "memory already gone", gone)
            return None
        change = Change(namespace, key, current.value, None, "confirm")
        change.valid_from = stamp_of(current)
        supersede = bool(hold.value.get("supersede"))
        reason = "held deletion confirmed"
        yield from self._consume(
            [change], place, hold, "confirm", reason, gone, supersede=supersede
        )
        if change.status == "unchanged":  # deleted meanwhile by another writer
            return None
        return (yield from self._record_of(change))

    def _consume(
        self,
        changes: list[Change],
        place: tuple[str, ...],
        entry: Item,
        component: str,
        reason: str,
        gone: str,
        *,
        supersede: bool = False,
    ) -> _flow.Flow[None]:
        """Write ``changes`` and remove ``entry`` (a quarantined value, a held deletion, at
        ``place``), only while it is still as read: when another caller took it first, nothing
        is written and the error says so (``gone``)."""
        drop = [PutOp(place, entry.key, None)]
        taken = [Expected(place, entry.key, entry.value)]
        try:
            yield from self._write(
                changes, drop, component, reason, supersede=supersede, taken=taken
            )
        except WriteConflictError as conflict:
            if (place, entry.key) not in conflict.found:
                raise
            raise InvalidInputError(
                f"{gone} by another caller meanwhile: nothing was written."
            ) from None


def _require(
    namespace: tuple[str, ...], key: str, found: Item | None, must_exist: bool | None
) -> None:
    """Refuse a put whose memory is (``must_exist=False``) or is not (``True``) stored."""
    if must_exist is None or must_exist == (found is not None):
        return
    stored = "a memory is" if found is not None else "no memory is"
    fix = (
        "update it: must_exist=None or True"
        if found is not None
        else "create it: must_exist=None or False"
    )
    raise WriteConflictError(
        f"{stored} stored under key {key!r} in {namespace!r} (put(..., must_exist="
        f"{must_exist})): nothing was written; fix: to {fix}.",
        found={(namespace, key): found},
    )
