"""The memory extraction graph: ``{"messages": [...]}`` in, the memories it wrote out.

Deployed as ``langmem.graphs.semantic:graph`` (a factory: nothing is built at import). Its
configurable values: ``model`` (a ``provider:model`` name; default ``$LANGMEM_MODEL``, else
``anthropic:claude-3-5-sonnet-latest``), ``query_model``, ``query_limit``, ``instructions``. The
memories go to ``("memories", user)`` in the server's store, ``user`` being the authenticated
user (see :mod:`langmem.graphs.auth`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.pregel import Pregel
    from langgraph.store.base import BaseStore

DEFAULT_MODEL = "anthropic:claude-3-5-sonnet-latest"


def build_memory_graph(
    model: Any,
    *,
    query_model: Any = None,
    query_limit: int = 5,
    schemas: list[Any] | None = None,
    instructions: str | None = None,
    store: BaseStore | None = None,
) -> Pregel[Any, Any, Any, Any]:
    """A graph that extracts memories from ``messages`` into the user's namespace.

    Input ``{"messages": [...], "max_steps": 1}``; output ``{"updated_memories": [...]}``.
    """
    from langgraph.func import entrypoint

    from langmem.errors import InvalidInputError
    from langmem.graphs._user import user_namespace
    from langmem.knowledge.extraction import create_memory_store_manager

    options: dict[str, Any] = {"query_model": query_model, "query_limit": query_limit}
    if schemas is not None:
        options["schemas"] = schemas
    if instructions is not None:
        options["instructions"] = instructions

    @entrypoint(store=store)
    def extract_memories(state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        namespace = user_namespace("memories", config)
        if not isinstance(state, dict) or "messages" not in state:
            found = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise InvalidInputError(
                f"the memory graph's input has no 'messages' (got {found}): pass "
                "{'messages': [{'role': 'user', 'content': '...'}, ...]}."
            )
        manager = create_memory_store_manager(model, namespace=namespace, **options)
        written = manager.invoke(
            {"messages": state["messages"], "max_steps": state.get("max_steps", 1)}, config
        )
        return {"updated_memories": written}

    return extract_memories


def graph(config: RunnableConfig) -> Pregel[Any, Any, Any, Any]:
    """The deployed extraction graph, built for the run's ``config``."""
    configurable = config.get("configurable") or {}
    return build_memory_graph(
        configurable.get("model") or os.environ.get("LANGMEM_MODEL") or DEFAULT_MODEL,
        query_model=configurable.get("query_model"),
        query_limit=int(configurable.get("query_limit", 5)),
        instructions=configurable.get("instructions"),
    )
