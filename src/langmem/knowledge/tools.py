"""Hot-path memory tools: let an agent create, update, delete and search its own memories.

Both tools read and write a LangGraph ``BaseStore`` under a namespace template such as
``("memories", "{langgraph_user_id}")``, filled from the run's config. Each tool has one flow
(see :mod:`langmem._flow`) that the sync and async entry points both drive.

Mistakes the agent can fix (a forbidden action, an unknown id, missing content, malformed
arguments) come back as tool error messages and change nothing in the store. Mistakes only the
developer can fix (no store, a missing namespace key) raise.
"""

from __future__ import annotations

import datetime as _dt
import uuid
from collections.abc import Callable
from typing import Any, Literal, Optional, TypeVar

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool, ToolException
from langgraph.store.base import BaseStore, SearchOp
from langgraph.store.base import Item as BaseItem
from pydantic import (
    BaseModel,
    Field,
    PydanticUndefinedAnnotation,
    PydanticUserError,
    TypeAdapter,
    ValidationError,
    create_model,
)

from langmem import _flow
from langmem._namespace import NamespaceTemplate
from langmem._store_context import resolve_store
from langmem._task_scope import repeatable_key
from langmem.errors import ConfigurationError
from langmem.knowledge import _prompts, _tool_args
from langmem.knowledge._guards import Guards
from langmem.knowledge._history import Change, check_namespace, provenance, stamp_of
from langmem.knowledge._kinds import validation_problems
from langmem.knowledge._tool_trust import (
    delete_turn,
    deleted_in_run,
    held_in_run,
    tool_read,
    tool_result,
    tool_write,
)
from langmem.knowledge._trust import Trust, TrustHolder, hold_if_over_cap
from langmem.utils import dumps

__all__ = ["create_manage_memory_tool", "create_search_memory_tool"]

T = TypeVar("T")
Action = Literal["create", "update", "delete"]
_ALL_ACTIONS: tuple[Action, ...] = ("create", "update", "delete")


def create_manage_memory_tool(
    namespace: tuple[str, ...] | str,
    *,
    instructions: str = _prompts.MANAGE_TOOL_INSTRUCTIONS,
    schema: type = str,
    actions_permitted: tuple[Action, ...] | None = ("create", "update", "delete"),
    store: BaseStore | None = None,
    name: str = "manage_memory",
) -> StructuredTool:
    """Create a tool an agent calls to create, update and delete its long-term memories.

    Args:
        namespace: where memories live; ``{key}`` parts are filled from
            ``config["configurable"]`` at call time, e.g. ``("memories", "{langgraph_user_id}")``.
        instructions: when and how the agent should use the tool (added to its description).
        schema: the type of a memory's content: ``str`` or a pydantic model (its fields appear in
            the tool's JSON schema and content is validated before anything is written).
        actions_permitted: which of ``"create"``, ``"update"``, ``"delete"`` the agent may use;
            the description and argument schema show only these.
        store: the store to use; by default the LangGraph run's store (``get_store()``).
        name: the tool's name.

    Returns:
        A tool returning ``"created memory <id>"``, ``"updated memory <id>"`` or
        ``"Deleted memory <id>"``; agent mistakes come back as error messages. Every change is
        recorded (see :class:`~langmem.History`) and guards are on: deletions past 3 per turn
        are held, injected instructions quarantined, and the answer says so (settings:
        :func:`~langmem.configure_trust`).

    Example:
        >>> from langgraph.store.memory import InMemoryStore
        >>> store = InMemoryStore()
        >>> tool = create_manage_memory_tool(("memories",), store=store)
        >>> tool.invoke({"content": "Prefers tea"}).startswith("created memory ")
        True
    """
    actions = _check_actions(actions_permitted)
    template = NamespaceTemplate(namespace)
    default_action = "create" if "create" in actions else actions[0]
    adapter, args_schema = _content_schema(name, schema, actions, default_action)

    holder = TrustHolder(Trust(name, Guards(), supersede=False))

    def unknown(id: str, action: str) -> ToolException:
        verb = "updated" if action == "update" else "deleted"
        create_hint = ", or use action 'create' for new content" if "create" in actions else ""
        return ToolException(
            _prompts.ERR_UNKNOWN_ID.format(id=id, verb=verb, create_hint=create_hint)
        )

    def flow(config: RunnableConfig, action: str, content: Any, id: Any) -> _flow.Flow[str]:
        trust = holder.trust
        if action not in actions:
            raise ToolException(
                _prompts.ERR_ACTION_FORBIDDEN.format(action=action, allowed=", ".join(actions))
            )
        target = resolve_store(store, what=f"{name!r} tool")
        ns = check_namespace(template(config))
        prov = provenance(config, name, step_run=True)
        if action in ("create", "update") and content is not None:
            _tool_args.check_content(action, content)
        if action == "create":
            if id is not None:
                hint = " with that id" if "update" in actions else ""
                raise ToolException(_prompts.ERR_CREATE_WITH_ID.format(id=id, update_hint=hint))
            if content is None:
                raise ToolException(_prompts.ERR_CONTENT_REQUIRED.format(action=action))
            value = {"content": _dump(adapter, content)}
            # in a LangGraph node that runs again after interrupt(), the same key as its first
            # run, which then finds the memory made instead of making it twice
            repeat = repeatable_key(config, name, list(ns), value["content"])
            key = repeat or str(uuid.uuid4())
            change = Change(
                ns, key, None, value, "create", fresh_key=not repeat, repeatable=bool(repeat)
            )
            yield from _refusing(tool_write(target, change, prov, trust))
            return tool_result(f"created memory {change.key}", change)
        if id is None or not str(id).strip():
            raise ToolException(_prompts.ERR_ID_REQUIRED.format(action=action))
        if action == "update" and content is None:
            raise ToolException(_prompts.ERR_CONTENT_REQUIRED.format(action=action))
        keys = _tool_args.key_candidates(id)
        turn = delete_turn(target, ns, prov, trust) if action == "delete" else None
        try:
            existing = yield from _refusing(tool_read(target, ns, keys, turn, trust))
            if existing is None:
                gone = None
                if action == "delete":  # a node run again after interrupt() repeats it
                    gone = yield from deleted_in_run(target, ns, keys, prov)
                if gone is not None:
                    return f"Deleted memory {gone}"
                raise unknown(keys[0], action)
            key = existing.key
            if action == "update":
                patch = _dump(adapter, content)

                def updated(found: BaseItem | None) -> dict[str, Any] | None:
                    """The memory as ``found`` (as read, or as a writer that got there first
                    left it) with the update applied: that writer's change stays. ``None``
                    when the update changes nothing (e.g. a node run again after interrupt()
                    repeats it): nothing is written or recorded."""
                    if found is None:  # deleted meanwhile
                        raise unknown(key, action)
                    new = _tool_args.updated_content(key, found.value, patch)
                    if "content" in found.value and found.value["content"] == new:
                        return None
                    value = {**found.value, "content": new}
                    if "updated_at" in value:  # provenance written by the store manager
                        value["updated_at"] = _dt.datetime.now(_dt.timezone.utc).isoformat()
                    return value

                new_value = updated(existing)
                change = Change(
                    ns,
                    key,
                    existing.value,
                    new_value,
                    "update",
                    valid_from=stamp_of(existing),
                    rebuild=updated,
                )
                if new_value is None:
                    change.status = "unchanged"
                yield from _refusing(tool_write(target, change, prov, trust))
                return tool_result(f"updated memory {key}", change)
            change = Change(ns, key, existing.value, None, "delete", valid_from=stamp_of(existing))
            assert turn is not None
            hold_if_over_cap([change], turn.count, turn.size, trust.guards, turn.report)
            # held already by this step (a node run again after interrupt(), which may carry
            # a new run id and so start a new turn that would not hold it)?
            if change.status == "held" or prov.step is not None:
                why = yield from held_in_run(target, ns, key, prov)
                if why is not None:
                    change.status, change.reason = "held", why
                    return tool_result(f"Deleted memory {key}", change)
            yield from _refusing(tool_write(target, change, prov, trust, turn))
        finally:
            if turn is not None:
                turn.finish()
        return tool_result(f"Deleted memory {key}", change)

    def manage_memory(
        config: RunnableConfig,
        content: Any = None,
        action: str = default_action,
        id: Any = None,
    ) -> str:
        return _flow.run_sync(flow(config, action, content, id))

    async def amanage_memory(
        config: RunnableConfig,
        content: Any = None,
        action: str = default_action,
        id: Any = None,
    ) -> str:
        return await _flow.run_async(flow(config, action, content, id))

    manage_memory.langmem_trust = holder  # type: ignore[attr-defined]  # see configure_trust
    return StructuredTool(
        name=name,
        description=_prompts.manage_tool_description(instructions, actions),
        args_schema=args_schema,
        func=manage_memory,
        coroutine=amanage_memory,
        handle_tool_error=True,
        handle_validation_error=_validation_message(name),
    )


def create_search_memory_tool(
    namespace: tuple[str, ...] | str,
    *,
    instructions: str = "",
    store: BaseStore | None = None,
    response_format: Literal["content", "content_and_artifact"] = "content",
    name: str = "search_memory",
) -> StructuredTool:
    """Create a tool an agent calls to search its long-term memories.

    Args:
        namespace: the namespace (prefix) to search; ``{key}`` parts come from the config.
        instructions: extra guidance added to the tool's description.
        store: the store to use; by default the LangGraph run's store (``get_store()``).
        response_format: ``"content"`` returns the results as compact JSON;
            ``"content_and_artifact"`` also returns the raw ``SearchItem``s as the artifact.
        name: the tool's name.

    Example:
        >>> from langgraph.store.memory import InMemoryStore
        >>> store = InMemoryStore()
        >>> store.put(("memories",), "k1", {"content": "Prefers tea"})
        >>> tool = create_search_memory_tool(("memories",), store=store)
        >>> '"Prefers tea"' in tool.invoke({"query": "tea"})
        True
    """
    if response_format not in ("content", "content_and_artifact"):
        raise ConfigurationError(
            f"response_format={response_format!r} is not supported: use 'content' or "
            "'content_and_artifact'."
        )
    template = NamespaceTemplate(namespace)
    args_schema = create_model(
        _schema_name(name),
        query=(str, Field(description="What to look for, in natural language.")),
        limit=(int, Field(default=10, ge=1, le=1000, description="Maximum results.")),
        offset=(int, Field(default=0, ge=0, description="Results to skip (for paging).")),
        filter=(
            dict[str, Any] | None,
            Field(default=None, description="Exact-match filters on stored value fields."),
        ),
    )

    def flow(
        config: RunnableConfig, query: str, limit: int, offset: int, filter: dict[str, Any] | None
    ) -> _flow.Flow[Any]:
        target = resolve_store(store, what=f"{name!r} tool")
        op = SearchOp(check_namespace(template(config)), filter, limit, offset, query)
        (items,) = yield from _guarded(_flow.StoreBatch(target, (op,)))
        content = dumps([item.dict() for item in items])
        if response_format == "content_and_artifact":
            return content, items
        return content

    def search_memory(
        config: RunnableConfig,
        query: str,
        limit: int = 10,
        offset: int = 0,
        filter: dict[str, Any] | None = None,
    ) -> Any:
        return _flow.run_sync(flow(config, query, limit, offset, filter))

    async def asearch_memory(
        config: RunnableConfig,
        query: str,
        limit: int = 10,
        offset: int = 0,
        filter: dict[str, Any] | None = None,
    ) -> Any:
        return await _flow.run_async(flow(config, query, limit, offset, filter))

    return StructuredTool(
        name=name,
        description=_prompts.search_tool_description(instructions),
        args_schema=args_schema,
        func=search_memory,
        coroutine=asearch_memory,
        response_format=response_format,
        handle_tool_error=True,
        handle_validation_error=_validation_message(name),
    )


def _check_actions(actions_permitted: tuple[Action, ...] | None) -> tuple[Action, ...]:
    if actions_permitted is None:
        return _ALL_ACTIONS
    if isinstance(actions_permitted, str):
        actions_permitted = (actions_permitted,)  # type: ignore[assignment]
    actions = tuple(dict.fromkeys(actions_permitted))
    unknown = [a for a in actions if a not in _ALL_ACTIONS]
    if unknown:
        raise ConfigurationError(
            f"actions_permitted={actions_permitted!r} has unknown action(s) {unknown}: use a "
            "tuple drawn from ('create', 'update', 'delete')."
        )
    if not actions:
        raise ConfigurationError(
            "actions_permitted=() permits nothing, so the tool could never act: pass at least "
            "one of ('create', 'update', 'delete')."
        )
    return tuple(a for a in _ALL_ACTIONS if a in actions)


def _content_schema(
    name: str, schema: Any, actions: tuple[Action, ...], default_action: str
) -> tuple[TypeAdapter[Any], type[BaseModel]]:
    """The content validator and the tool's argument model, built now: a schema pydantic cannot
    use (a string, ``typing.TypedDict`` before Python 3.12...) is refused here, not on the
    first call with a pydantic error."""
    try:
        adapter: TypeAdapter[Any] = TypeAdapter(schema)
        args_schema = _manage_args_schema(name, schema, actions, default_action)
        args_schema.model_rebuild(force=True)
        args_schema.model_json_schema()
    except (PydanticUserError, PydanticUndefinedAnnotation, TypeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ConfigurationError(
            f"schema={schema!r} cannot describe a memory's content ({first}). Pass str (the "
            "default), a pydantic model class, or another type pydantic can validate, such as "
            "list[str]."
        ) from exc
    return adapter, args_schema


def _manage_args_schema(
    name: str, schema: type, actions: tuple[Action, ...], default_action: str
) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    if "create" in actions or "update" in actions:
        fields["content"] = (
            Optional[schema],  # type: ignore[valid-type]  # noqa: UP045 - any type, at run time
            Field(default=None, description="The memory's content (for create and update)."),
        )
    fields["action"] = (
        Literal[actions],  # type: ignore[valid-type]
        Field(default=default_action, description="What to do."),
    )
    if actions != ("create",):
        fields["id"] = (
            str | None,
            Field(default=None, description="The memory's id as shown (for update and delete)."),
        )
    return create_model(_schema_name(name), **fields)


def _guarded(batch: _flow.StoreBatch) -> _flow.Flow[Any]:
    """Run ``batch``; a store error caused by the model's arguments becomes a tool error."""
    return (yield from _refusing(_one(batch)))


def _one(batch: _flow.StoreBatch) -> _flow.Flow[Any]:
    return (yield batch)


def _refusing(flow: _flow.Flow[T]) -> _flow.Flow[T]:
    """Run ``flow``; a store error caused by the model's arguments becomes a tool error."""
    try:
        return (yield from flow)
    except Exception as exc:
        refusal = _tool_args.store_refusal(exc)
        if refusal is None:
            raise
        raise refusal from exc


def _schema_name(tool_name: str) -> str:
    return "".join(part.capitalize() for part in tool_name.replace("-", "_").split("_")) or "Tool"


def _dump(adapter: TypeAdapter[Any], content: Any) -> Any:
    return adapter.dump_python(adapter.validate_python(content), mode="json")


def _validation_message(tool: str) -> Callable[[Any], str]:
    def render(error: Any) -> str:
        if not isinstance(error, ValidationError):  # pydantic v1 models as args schemas
            return _prompts.ERR_INVALID_ARGUMENTS.format(tool=tool, problems=str(error))
        problems = validation_problems(error, root="arguments")
        return _prompts.ERR_INVALID_ARGUMENTS.format(tool=tool, problems=problems)

    return render
