"""The memory store manager: keep the memories in a LangGraph store current, one turn at a time.

A turn is one flow (see :mod:`langmem._flow`): optionally ask the query model for search queries,
run every search in one store batch, let the model edit what was found (plus any phases), then
write every change in one store batch. Write errors propagate; nothing is half-reported.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from langgraph.store.base import BaseStore, GetOp, SearchOp
from langgraph.store.base import Item as BaseItem

from langmem import _flow
from langmem._conversation import get_conversation
from langmem._models import ModelRef
from langmem._namespace import NamespaceTemplate
from langmem._store_context import refuse_read_only
from langmem._task_scope import current_task_id, repeatable_key
from langmem.errors import ConfigurationError, InvalidInputError
from langmem.knowledge import _prompts
from langmem.knowledge._guards import GuardReport, Guards, quote
from langmem.knowledge._history import (
    Change,
    Op,
    Provenance,
    check_namespace,
    provenance,
    stamp_of,
)
from langmem.knowledge._kinds import DictKind, Kind, TextKind, build_kinds
from langmem.knowledge._manager import (
    check_instructions,
    check_messages,
    check_steps,
    extraction_flow,
)
from langmem.knowledge._retrieval import (
    query_flow,
    recent_queries,
    ref,
    top,
)
from langmem.knowledge._session import Entry, Permissions, Session
from langmem.knowledge._store_access import DEFAULT_KEY, StoreAccess
from langmem.knowledge._trust import Trust, TurnResult, hold_if_over_cap, size_probe, write_flow
from langmem.knowledge._types import Memory, MemoryPhase, MemoryStoreManagerInput
from langmem.knowledge.history import History

__all__ = ["MemoryStoreManager", "create_memory_store_manager"]


class MemoryStoreManager(StoreAccess, Runnable[MemoryStoreManagerInput, list[dict[str, Any]]]):
    """Extracts memories from conversations into a store (see
    :func:`create_memory_store_manager`)."""

    def __init__(
        self,
        model: str | Any,
        /,
        *,
        schemas: list[Any] | None = None,
        default: str | dict[str, Any] | Any | None = None,
        default_factory: Callable[[RunnableConfig], Any] | None = None,
        instructions: str | None = _prompts.EXTRACTION_INSTRUCTIONS,
        enable_inserts: bool = True,
        enable_deletes: bool = True,
        query_model: str | Any | None = None,
        query_limit: int = 5,
        namespace: tuple[str, ...] = ("memories", "{langgraph_user_id}"),
        store: BaseStore | None = None,
        phases: list[MemoryPhase] | None = None,
    ):
        self._model = ModelRef(model)
        self._query_model = None if query_model is None else ModelRef(query_model)
        self.kinds = build_kinds(schemas)
        self.schemas = tuple(kind.schema for kind in self.kinds.values())
        if default is not None and default_factory is not None:
            raise ConfigurationError(
                "both default and default_factory were given: pass one of them (default for a "
                "fixed value, default_factory(config) for one that depends on the config)."
            )
        if default is not None:
            fixed = self._coerce_default(default)
            self.default_factory: Callable[[RunnableConfig], Any] | None = lambda _: fixed
        else:
            if default_factory is not None and not callable(default_factory):
                raise ConfigurationError(
                    f"default_factory={default_factory!r} is not callable: pass a function of "
                    "the config that returns the default memory, or use default= for a fixed one."
                )
            self.default_factory = default_factory
        if isinstance(query_limit, bool) or not isinstance(query_limit, int) or query_limit < 1:
            raise ConfigurationError(f"query_limit={query_limit!r} must be an int >= 1.")
        self.instructions = check_instructions(instructions)
        self.enable_inserts = enable_inserts
        self.enable_deletes = enable_deletes
        self.query_limit = query_limit
        self.namespace = NamespaceTemplate(namespace)
        self.phases = _checked_phases(phases)
        self._store = store
        self.trust = Trust("store_manager", Guards(), supersede=True)
        """History, supersede and guard settings (change with :func:`langmem.configure_trust`)."""

    @property
    def history(self) -> History:
        """This manager's store's change history: list, restore, undo a run, release."""
        return History(self._store)

    @property
    def model(self) -> Any:
        """The chat model (a ``"provider:model"`` string is resolved on first access)."""
        return self._model.get()

    @property
    def query_model(self) -> Any:
        """The query-writing chat model, or ``None``."""
        return None if self._query_model is None else self._query_model.get()

    # -- one turn -------------------------------------------------------------------------------
    def _turn(
        self, input: MemoryStoreManagerInput, config: RunnableConfig | None
    ) -> _flow.Flow[list[dict[str, Any]]]:
        if not isinstance(input, dict) or "messages" not in input:
            raise InvalidInputError(
                f"input={input!r} has no 'messages': pass {{'messages': [...]}}."
            )
        messages = check_messages(input["messages"])
        steps = check_steps(input.get("max_steps"))
        config = ensure_config(config)
        store = self.store
        namespace = check_namespace(self.namespace(config))
        refuse_read_only(store, what="memory store manager", before="call its model")

        queries = None
        quoted = 0
        if self._query_model is not None:
            conversation = get_conversation(messages)
            if self.trust.guards.quote:
                conversation, changed = quote(conversation)
                quoted += changed
            request = f"<conversation>\n{conversation}\n</conversation>"
            queries = yield from query_flow(
                self._query_model.get(), _prompts.SEARCH_QUERY_INSTRUCTIONS, request, config
            )
        queries = queries or recent_queries(messages, self.query_limit)
        ops: list[Any] = [SearchOp(namespace, None, self.query_limit, 0, q) for q in queries]
        if self.default_factory is not None:
            ops.append(GetOp(namespace, DEFAULT_KEY))
        results = (yield _flow.StoreBatch(store, ops)) if ops else []

        session = Session(self.kinds, Permissions(self.enable_inserts, True, self.enable_deletes))
        session.quote = self.trust.guards.quote
        found = top(results[: len(queries)], self.query_limit)
        if self.default_factory is not None:
            profile = results[-1]
            if profile is not None and all(ref(i) != ref(profile) for i in found):
                found.append(profile)
            if profile is None:
                value = self._coerce_default(self.default_factory(config))
                kind = session.kind_of_model(value)
                session.add(f"{namespace}:{DEFAULT_KEY}", kind, value, ref=(namespace, None))
        for item in found:
            kind, content = _kind_and_content(session, item.value)
            session.add(repr(ref(item)), kind, content, ref=(tuple(item.namespace), item))

        yield from extraction_flow(
            self._model.get(),
            session,
            instructions=self.instructions,
            messages=messages,
            max_steps=steps,
            config=config,
        )
        for phase in self.phases:
            session.permissions = Permissions(
                phase.get("enable_inserts", True), True, phase.get("enable_deletes", True)
            )
            yield from extraction_flow(
                self._model.get(),
                session,
                instructions=phase.get("instructions") or _prompts.PHASE_INSTRUCTIONS,
                messages=messages if phase.get("include_messages", False) else None,
                max_steps=1,
                config=config,
            )

        prov = provenance(config, "store_manager")
        changes = self._changes(session, namespace, prov, config)
        report = GuardReport(quoted=quoted + session.quoted)
        deletes = sum(change.op == "delete" for change in changes)
        probe = size_probe(namespace, self.trust.guards, deletes)
        size = len((yield _flow.StoreBatch(store, (probe,)))[0]) if probe is not None else None
        hold_if_over_cap(changes, deletes, size, self.trust.guards, report)
        yield from write_flow(store, changes, prov, self.trust, report)
        written = [
            {"namespace": c.namespace, "key": c.key, "value": c.value}
            for c in changes
            if c.value is not None and c.status in ("applied", "flagged")
        ]
        return TurnResult(written, report=report, run_id=prov.run_id)

    def _changes(
        self,
        session: Session,
        namespace: tuple[str, ...],
        prov: Provenance,
        config: RunnableConfig,
    ) -> list[Change]:
        now = _dt.datetime.now(_dt.timezone.utc).isoformat()
        stamps: dict[str, Any] = {"updated_at": now}
        if prov.thread_id is not None:
            stamps["thread_id"] = prov.thread_id
        changes: list[Change] = []
        for entry in session.entries:
            ns, item = entry.ref if entry.ref is not None else (namespace, None)
            previous = dict(item.value) if item is not None else None
            since = stamp_of(item) if item is not None else None
            if entry.state == "deleted":
                if item is not None:
                    changes.append(
                        Change(ns, item.key, previous, None, "delete", entry.reason, since)
                    )
                continue
            if entry.state == "dropped" or (entry.state == "kept" and item is not None):
                continue
            value = self._stored_value(entry, item, now, stamps)
            if value is None:
                continue
            key = item.key if item is not None else _new_key(entry)
            repeat = None
            # a memory the model inserted, outside a background task (where ids repeat on a
            # rerun, which may find the first attempt's)
            model_insert = entry.ref is None and current_task_id() is None
            if model_insert:
                # in a LangGraph node that runs again after interrupt(), an insert of the same
                # value (one per turn: the session drops twins) gets the first run's key, which
                # then finds it made instead of making it twice, even when the search missed it
                what = [value.get("kind"), value["content"]]
                repeat = repeatable_key(config, self.trust.component, list(ns), what)
            op: Op = "create" if item is None else "update"
            change = Change(ns, repeat or key, previous, value, op, entry.reason, since)
            change.repeatable = repeat is not None
            # such an insert gets a random UUID (unless repeatable): no other writer holds it
            change.fresh_key = model_insert and not repeat
            # the value keeps the memory's other fields: when another writer changed it
            # first, they are taken from what that writer left
            change.rebuild = functools.partial(
                self._stored_value, entry, now=now, provenance=stamps
            )
            changes.append(change)
        return changes

    def _stored_value(
        self, entry: Entry, item: BaseItem | None, now: str, provenance: dict[str, Any]
    ) -> dict[str, Any] | None:
        content = entry.kind.dump(entry.value)
        if isinstance(entry.kind, TextKind):
            content = entry.value  # type: ignore[assignment]
        if item is None:
            base: dict[str, Any] = {"kind": entry.kind.name or Memory.__name__}
            return {**base, "content": content, "created_at": now, **provenance}
        old = dict(item.value)
        if old.get("content") == content and (
            not entry.kind.name or old.get("kind") == entry.kind.name
        ):
            return None  # the model re-sent the same value
        if "content" not in old and isinstance(entry.kind, DictKind) and not entry.kind.name:
            return {**content, **provenance}
        created = old.get("created_at") or item.created_at.isoformat()
        value = {**old, "content": content, "created_at": created, **provenance}
        if entry.kind.name:
            value["kind"] = entry.kind.name
        return value

    # -- Runnable -------------------------------------------------------------------------------
    def invoke(
        self,
        input: MemoryStoreManagerInput,
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        return _flow.run_sync(self._turn(input, config))

    async def ainvoke(
        self,
        input: MemoryStoreManagerInput,
        config: RunnableConfig | None = None,
        **kwargs: Any,
    ) -> list[dict[str, Any]]:
        return await _flow.run_async(self._turn(input, config))

    async def __call__(self, messages: Sequence[Any]) -> list[dict[str, Any]]:
        return await self.ainvoke({"messages": list(messages), "max_steps": 1})


def create_memory_store_manager(
    model: str | Any,
    /,
    *,
    schemas: list[Any] | None = None,
    instructions: str | None = _prompts.EXTRACTION_INSTRUCTIONS,
    default: str | dict[str, Any] | Any | None = None,
    default_factory: Callable[[RunnableConfig], Any] | None = None,
    enable_inserts: bool = True,
    enable_deletes: bool = False,
    query_model: str | Any | None = None,
    query_limit: int = 5,
    namespace: tuple[str, ...] = ("memories", "{langgraph_user_id}"),
    store: BaseStore | None = None,
    phases: list[MemoryPhase] | None = None,
) -> MemoryStoreManager:
    """Create a runnable that keeps the memories in a LangGraph store current.

    Each turn: search the namespace for memories related to the conversation (one store
    batch; queries come from ``query_model`` when given, else from the recent messages, with no
    extra model call), let the model insert/update/delete them (plus each of ``phases``), then
    write every change in one store batch. A stored memory is
    ``{"kind": "<Schema>", "content": {...}, "created_at", "updated_at", "thread_id"}`` (ISO 8601
    times; ``thread_id`` from ``config["configurable"]`` when present).

    Args:
        model: the chat model that edits memories, or a ``"provider:model"`` string.
        schemas: pydantic models a memory may follow (default :class:`Memory`).
        instructions: what to remember and how (None: langmem's default guidance).
        default: a profile-style memory stored under key ``"default"`` when absent.
        default_factory: builds the default from the run's config instead.
        enable_inserts: allow new memories.
        enable_deletes: allow deletions.
        query_model: a model that writes the search queries (one extra call per turn).
        query_limit: how many related memories the model sees.
        namespace: where memories live; ``{key}`` labels are filled from the config.
        store: the store; by default the LangGraph run's store.
        phases: extra passes after extraction, e.g. to consolidate.

    Returns:
        A :class:`MemoryStoreManager`: ``invoke({"messages": [...]}, config)`` returns the
        writes as ``{"namespace", "key", "value"}`` dicts (deletions are applied, not returned),
        in a list whose ``.report`` says what the guards did and ``.run_id`` names the turn.
        Every change is recorded (see :class:`~langmem.History`); a deleted or changed memory
        is superseded, not erased; guards are on (see :func:`~langmem.configure_trust`).

    Example:
        >>> from langgraph.store.memory import InMemoryStore
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> model = ScriptedChatModel(responses=[
        ...     ai_tool_calls(("Memory", {"content": "Prefers dark mode"}))])
        >>> manager = create_memory_store_manager(
        ...     model, namespace=("memories", "{langgraph_user_id}"), store=InMemoryStore())
        >>> writes = manager.invoke(
        ...     {"messages": [{"role": "user", "content": "I prefer dark mode"}]},
        ...     {"configurable": {"langgraph_user_id": "u1"}})
        >>> writes[0]["value"]["content"]
        {'content': 'Prefers dark mode'}
    """
    return MemoryStoreManager(
        model,
        schemas=schemas,
        instructions=instructions,
        default=default,
        default_factory=default_factory,
        enable_inserts=enable_inserts,
        enable_deletes=enable_deletes,
        query_model=query_model,
        query_limit=query_limit,
        namespace=namespace,
        store=store,
        phases=phases,
    )


def _new_key(entry: Entry) -> str:
    return DEFAULT_KEY if entry.ref is not None else entry.id


def _kind_and_content(session: Session, value: dict[str, Any]) -> tuple[Kind, Any]:
    """How a stored value is shown to the model: its kind and content (whole value if odd)."""
    content = value.get("content")
    if "content" not in value or not isinstance(content, (str, dict)):
        return DictKind(), value
    return session.kind_for(value.get("kind"), content), content


_PHASE_KEYS = frozenset(MemoryPhase.__annotations__)


def _checked_phases(phases: Any) -> list[MemoryPhase]:
    """``phases`` as a list of :class:`MemoryPhase` dicts, refused up front when it is not one
    (it used to fail on the first turn, with an ``AttributeError``)."""
    if phases is None:
        return []
    if isinstance(phases, (str, bytes, Mapping)) or not isinstance(phases, Sequence):
        raise ConfigurationError(
            f"phases={phases!r} is not a list of phases: pass e.g. "
            "phases=[MemoryPhase(instructions='Merge duplicates.', enable_deletes=True)]."
        )
    for phase in phases:
        unknown = sorted(set(phase) - _PHASE_KEYS) if isinstance(phase, Mapping) else None
        if unknown is None or unknown:
            raise ConfigurationError(
                f"phase {phase!r} is not a MemoryPhase: a phase is a dict with the keys "
                f"{', '.join(sorted(_PHASE_KEYS))}"
                + (f" (unknown: {', '.join(map(str, unknown))})" if unknown else "")
                + ", e.g. MemoryPhase(instructions='Merge duplicates.')."
            )
        if phase.get("instructions") is not None:
            check_instructions(phase["instructions"], where="MemoryPhase instructions")
    return list(phases)
