"""The executor from LangGraph 1.x and LangChain 1.x: @entrypoint, StateGraph, prebuilt agents."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.func import entrypoint
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.prebuilt import create_react_agent
from langgraph.store.memory import InMemoryStore

from langmem import ReflectionExecutor, create_memory_store_manager
from langmem.stores import SqliteStore
from langmem.testing import ScriptedChatModel, ai_tool_calls
from tests.reflection._support import index

USER: Any = {"configurable": {"langgraph_user_id": "u1", "thread_id": "conv-1"}}


def _gated_model(gate: threading.Event) -> ScriptedChatModel:
    """Inserts one memory, but only once ``gate`` is set (a slow model, under test control)."""

    def reply(_request: Any) -> AIMessage:
        assert gate.wait(30)
        return ai_tool_calls(("Memory", {"content": "Prefers dark mode"}))

    return ScriptedChatModel(default=reply)


def _memories(store: Any) -> list[Any]:
    return [item.value["content"]["content"] for item in store.search(("memories", "u1"))]


def test_entrypoint_replies_before_extraction_and_memories_land_after(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", index=index())  # type: ignore[arg-type]
    gate = threading.Event()
    manager = create_memory_store_manager(_gated_model(gate))
    reflection = ReflectionExecutor(manager, store=store)
    futures = []

    @entrypoint(store=store, checkpointer=InMemorySaver())
    def agent(message: str) -> dict[str, str]:
        response = {"role": "assistant", "content": "I'll remember that"}
        futures.append(
            reflection.submit({"messages": [{"role": "user", "content": message}, response]})
        )
        return response

    reply = agent.invoke("I prefer dark mode", USER)
    assert reply["content"] == "I'll remember that"
    assert not futures[0].done() and _memories(store) == []  # the reply did not wait
    gate.set()
    futures[0].result(timeout=30)
    assert _memories(store) == ["Prefers dark mode"]
    reflection.shutdown()


def test_the_manual_async_entrypoint_example_runs(tmp_path: Path) -> None:
    """The manual's pattern: ``await reflection.ainvoke(...)`` inside an async entrypoint."""
    store = InMemoryStore(index=index())  # type: ignore[arg-type]
    gate = threading.Event()
    manager = create_memory_store_manager(
        _gated_model(gate), namespace=("memories", "{langgraph_user_id}")
    )
    reflection = ReflectionExecutor(manager, store=store)

    @entrypoint(store=store)
    async def my_agent(message: str) -> dict[str, str]:
        response = {"role": "assistant", "content": "I'll remember that"}
        await reflection.ainvoke({"messages": [{"role": "user", "content": message}, response]})
        return response

    assert asyncio.run(my_agent.ainvoke("I prefer dark mode", USER))["role"] == "assistant"
    gate.set()
    reflection.shutdown(wait=True)
    assert _memories(store) == ["Prefers dark mode"]


def test_a_state_graph_node_submits_and_debounces_per_thread(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", index=index())  # type: ignore[arg-type]
    model = ScriptedChatModel(default=ai_tool_calls(("Memory", {"content": "Lives in Lisbon"})))
    reflection = ReflectionExecutor(create_memory_store_manager(model), store=store)
    submitted = []

    def respond(state: MessagesState) -> dict[str, Any]:
        return {"messages": [AIMessage("Noted.")]}

    def reflect(state: MessagesState) -> dict[str, Any]:
        submitted.append(reflection.submit({"messages": state["messages"]}, after_seconds=0.5))
        return {}

    builder = StateGraph(MessagesState)
    builder.add_node("respond", respond)
    builder.add_node("reflect", reflect)
    builder.add_edge(START, "respond")
    builder.add_edge("respond", "reflect")
    builder.add_edge("reflect", END)
    graph = builder.compile(checkpointer=InMemorySaver(), store=store)
    graph.invoke({"messages": [HumanMessage("I live in Lisbon")]}, USER)
    graph.invoke({"messages": [HumanMessage("Still in Lisbon")]}, USER)
    reflection.shutdown(wait=True)
    first, second = submitted
    assert first.cancelled() and second.done() and not second.cancelled()
    assert model.calls == 1  # one burst, one extraction, over the whole thread
    assert "Still in Lisbon" in model.requests[0].text()
    assert _memories(store) == ["Lives in Lisbon"]


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_after_create_react_agent_and_create_agent_turns(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", index=index())  # type: ignore[arg-type]
    extractor = ScriptedChatModel(default=ai_tool_calls(("Memory", {"content": "Has a cat"})))
    reflection = ReflectionExecutor(create_memory_store_manager(extractor), store=store)
    agents = {
        "react": create_react_agent(ScriptedChatModel(default="Cute!"), tools=[], store=store),
        "agent": create_agent(ScriptedChatModel(default="Cute!"), tools=[], store=store),
    }
    futures = []
    for name, agent in agents.items():
        config: Any = {"configurable": {"langgraph_user_id": "u1", "thread_id": name}}
        state = agent.invoke({"messages": [HumanMessage("I have a cat")]}, config)
        assert state["messages"][-1].content == "Cute!"
        futures.append(reflection.submit({"messages": state["messages"]}, config))
    reflection.shutdown(wait=True)
    assert [f.exception() for f in futures] == [None, None]
    assert extractor.calls == 2
    # the messages went through the durable queue (JSON) and came back as messages
    assert "I have a cat" in extractor.requests[0].text()
    assert "Cute!" in extractor.requests[1].text()
    assert _memories(store) == ["Has a cat"]  # second turn found and kept the first's memory


async def _async_turn(reflection: Any, payload: Any) -> Any:
    future = await reflection.ainvoke(payload, USER)
    await asyncio.wrap_future(future)
    return await reflection.asearch("jazz", namespace=("memories", "u1"))


def test_sync_and_async_submissions_store_the_same(tmp_path: Path) -> None:
    results = []
    for mode in ("sync", "async"):
        store = SqliteStore(tmp_path / f"{mode}.sqlite", index=index())  # type: ignore[arg-type]
        model = ScriptedChatModel(default=ai_tool_calls(("Memory", {"content": "Likes jazz"})))
        reflection = ReflectionExecutor(create_memory_store_manager(model), store=store)
        payload = {"messages": [{"role": "user", "content": "I like jazz"}]}
        if mode == "sync":
            reflection.submit(payload, USER).result(timeout=30)
            found = reflection.search("jazz", namespace=("memories", "u1"))
        else:
            found = asyncio.run(_async_turn(reflection, payload))
        reflection.shutdown()
        results.append(([h["value"]["content"] for h in found], [r.text() for r in model.requests]))
    assert results[0] == results[1]


def test_an_executor_without_a_store_runs_on_the_submitting_graphs_store() -> None:
    graph_store = InMemoryStore(index=index())  # type: ignore[arg-type]
    model = ScriptedChatModel(default=ai_tool_calls(("Memory", {"content": "Plays chess"})))
    reflection = ReflectionExecutor(create_memory_store_manager(model))  # made at import time

    @entrypoint(store=graph_store)
    def agent(message: str) -> str:
        reflection.submit({"messages": [{"role": "user", "content": message}]})
        return "ok"

    agent.invoke("I play chess", USER)
    reflection.shutdown(wait=True)
    assert _memories(graph_store) == ["Plays chess"]


@dataclass
class _Context:
    user_id: str


def test_the_runtime_context_of_the_submitting_graph_reaches_the_reflector(
    tmp_path: Path,
) -> None:
    from langgraph.runtime import get_runtime

    seen: list[Any] = []
    reflector = RunnableLambda(lambda payload: seen.append(get_runtime().context))
    reflection = ReflectionExecutor(reflector, store=SqliteStore(tmp_path / "s.sqlite"))

    def node(state: MessagesState) -> dict[str, Any]:
        reflection.submit({"messages": state["messages"]})
        return {}

    builder = StateGraph(MessagesState, context_schema=_Context)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.compile().invoke({"messages": [HumanMessage("hi")]}, context=_Context("u9"))
    reflection.shutdown(wait=True)
    assert seen == [{"user_id": "u9"}]  # through the durable queue: the dataclass as a dict
