"""Finding the memories related to a conversation: queries and merging of search results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig

from langmem import _flow
from langmem._conversation import get_conversation, message_role
from langmem.knowledge import _prompts
from langmem.knowledge._kinds import function_tool

__all__ = [
    "QUERY_TOOL",
    "queries_from",
    "query_flow",
    "query_tool",
    "recent_queries",
    "ref",
    "top",
]

QUERY_TOOL = "search_memory"


def query_tool() -> dict[str, Any]:
    """The tool a query model calls to search memories (several queries in one call)."""
    queries = {
        "type": "array",
        "items": {"type": "string"},
        "description": _prompts.SEARCH_QUERIES_DESCRIPTION,
    }
    return function_tool(
        QUERY_TOOL, _prompts.SEARCH_QUERY_TOOL_DESCRIPTION, {"queries": queries}, ["queries"]
    )


def query_flow(
    model: Any, system: str, request: str, config: RunnableConfig
) -> _flow.Flow[list[str]]:
    """One forced call to the query tool; the queries the model wrote."""
    bound = model.bind_tools([query_tool()], tool_choice=QUERY_TOOL)
    reply = yield _flow.ModelCall(bound, [SystemMessage(system), HumanMessage(request)], config)
    return queries_from(reply)


def queries_from(reply: Any) -> list[str]:
    """Search queries from a query model's tool calls (``queries`` list or ``query`` string)."""
    queries: list[str] = []
    for call in getattr(reply, "tool_calls", None) or []:
        args = call.get("args") or {}
        raw = args.get("queries", args.get("query"))
        for query in raw if isinstance(raw, list) else [raw]:
            if isinstance(query, str) and query.strip() and query not in queries:
                queries.append(query.strip())
    return queries


def recent_queries(messages: list[Any], query_limit: int) -> list[str]:
    """Queries from the recent conversation: the last exchange, then wider windows."""
    if not messages:
        return []
    windows = max(1, query_limit // 4)
    queries: list[str] = []
    size = 2 if len(messages) > 1 and message_role(messages[-1]) != "user" else 1
    while len(queries) < windows:
        text = get_conversation(messages[-size:])
        if text not in queries:
            queries.append(text)
        if size >= len(messages):
            break
        size *= 2
    return queries


def ref(item: Any) -> tuple[tuple[str, ...], str]:
    return tuple(item.namespace), item.key


def top(result_lists: Sequence[Any], limit: int | None = None) -> list[Any]:
    """The best-scored distinct items of several result lists, best first (``None`` last)."""
    best: dict[tuple[tuple[str, ...], str], Any] = {}
    for results in result_lists:
        for item in results or ():
            seen = best.get(ref(item))
            if seen is None or (item.score or 0) > (seen.score or 0):
                best[ref(item)] = item
    ranked = sorted(
        best.values(), key=lambda i: i.score if i.score is not None else float("-inf"), reverse=True
    )
    return ranked[:limit]
