"""A durable task keeps the JSON-able fields of a runtime context that also holds something
JSON cannot (a client object): the namespace still fills from its user id. Before, the whole
context was dropped and the task failed for good with "fields present: none"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import END, START, StateGraph, add_messages
from langgraph.runtime import Runtime

from langmem import ReflectionExecutor, create_memory_store_manager
from langmem.stores import open_store
from langmem.testing import ScriptedChatModel


@dataclass
class Ctx:
    user_id: str
    session: uuid.UUID
    client: object = None


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def test_the_json_fields_of_the_context_reach_the_task(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.sqlite'}?embed=hashing&dims=16")
    saved = AIMessage(
        content="", tool_calls=[{"id": "a", "name": "Memory", "args": {"content": "likes tea"}}]
    )
    manager = create_memory_store_manager(
        ScriptedChatModel(default=saved), namespace=("memories", "{user_id}"), store=store
    )
    executor = ReflectionExecutor(manager, store=store)
    futures: list[Any] = []

    def node(state: State, runtime: Runtime[Ctx]) -> dict[str, Any]:
        futures.append(executor.submit({"messages": state["messages"]}, after_seconds=0))
        return {}

    graph = StateGraph(State, context_schema=Ctx)
    graph.add_node("n", node)
    graph.add_edge(START, "n")
    graph.add_edge("n", END)
    context = Ctx(user_id="ana", session=uuid.uuid4(), client=object())
    graph.compile(store=store).invoke(
        {"messages": [("user", "I like tea")]},
        {"configurable": {"thread_id": "t"}},
        context=context,
    )
    try:
        (written,) = futures[0].result(timeout=30)
    finally:
        executor.shutdown(wait=False)
    assert written["namespace"] == ("memories", "ana")
    assert executor.stats().failed == 0
