"""Namespace templates filled from LangGraph 1.x runtime context (``context=``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.graph import END, START, StateGraph
from langgraph.store.memory import InMemoryStore
from pydantic import BaseModel
from typing_extensions import TypedDict

from langmem import create_manage_memory_tool, create_search_memory_tool
from langmem.errors import NamespaceError
from langmem.testing import ScriptedChatModel
from langmem.utils import NamespaceTemplate


@dataclass
class Ctx:
    user_id: str


class TypedCtx(TypedDict):
    user_id: str


class PydanticCtx(BaseModel):
    user_id: str


def call(name: str, args: dict[str, Any], call_id: str = "c1") -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def test_create_agent_with_context_schema_fills_the_namespace() -> None:
    from langchain.agents import create_agent

    store = InMemoryStore()
    model = ScriptedChatModel(
        responses=[call("manage_memory", {"content": "Allergic to peanuts"}), "noted"]
    )
    agent = create_agent(
        model,
        tools=[create_manage_memory_tool(("memories", "{user_id}"))],
        context_schema=Ctx,
        store=store,
    )
    agent.invoke({"messages": [("user", "I'm allergic to peanuts")]}, context=Ctx("alice"))
    stored = store.search(("memories", "alice"))
    assert [item.value["content"] for item in stored] == ["Allergic to peanuts"]


async def test_async_agent_with_context_fills_the_search_namespace() -> None:
    from langchain.agents import create_agent

    store = InMemoryStore()
    await store.aput(("memories", "bob"), "k", {"content": "Likes chess"})
    model = ScriptedChatModel(responses=[call("search_memory", {"query": "chess"}), "ok"])
    agent = create_agent(
        model,
        tools=[create_search_memory_tool(("memories", "{user_id}"))],
        context_schema=Ctx,
        store=store,
    )
    out = await agent.ainvoke({"messages": [("user", "what do I like?")]}, context=Ctx("bob"))
    tool_message = out["messages"][2]
    assert "Likes chess" in tool_message.content


@pytest.mark.parametrize(
    "context", [Ctx("carol"), TypedCtx(user_id="carol"), PydanticCtx(user_id="carol")]
)
def test_state_graph_context_schema_any_shape(context: Any) -> None:
    ns = NamespaceTemplate(("memories", "{user_id}"))

    class State(TypedDict):
        ns: tuple[str, ...]

    def node(state: State) -> State:
        return {"ns": ns()}

    graph = StateGraph(State, context_schema=type(context)).add_node("n", node)
    app = graph.add_edge(START, "n").add_edge("n", END).compile()
    assert app.invoke({"ns": ()}, context=context)["ns"] == ("memories", "carol")


def test_missing_key_lists_only_user_keys_and_the_context_idiom() -> None:
    ns = NamespaceTemplate(("memories", "{user_id}"))

    class State(TypedDict):
        error: str

    def node(state: State) -> State:
        try:
            ns()
        except NamespaceError as exc:
            return {"error": str(exc)}
        return {"error": ""}

    @dataclass
    class Other:
        org: str

    graph = StateGraph(State, context_schema=Other).add_node("n", node)
    app = graph.add_edge(START, "n").add_edge("n", END).compile()
    message = app.invoke({"error": ""}, {"configurable": {"thread": "t"}}, context=Other("acme"))[
        "error"
    ]
    assert "'user_id'" in message and "'org'" in message and "'thread'" in message
    assert "__pregel" not in message and "checkpoint_ns" not in message
    assert "context=Ctx(user_id='...')" in message


async def test_store_manager_and_searcher_in_a_graph_use_the_context() -> None:
    from langmem import create_memory_searcher, create_memory_store_manager
    from langmem.testing import ai_tool_calls

    store = InMemoryStore()
    model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "Drinks tea"}))])
    manager = create_memory_store_manager(model, namespace=("memories", "{user_id}"), store=store)

    class State(TypedDict):
        messages: list[Any]

    async def remember(state: State) -> State:
        await manager.ainvoke({"messages": state["messages"]})
        return state

    graph = StateGraph(State, context_schema=Ctx).add_node("remember", remember)
    app = graph.add_edge(START, "remember").add_edge("remember", END).compile()
    await app.ainvoke(
        {"messages": [{"role": "user", "content": "I drink tea"}]}, context=Ctx("dana")
    )
    assert [i.value["content"] for i in store.search(("memories", "dana"))] == [
        {"content": "Drinks tea"}
    ]

    searcher_model = ScriptedChatModel(
        responses=[ai_tool_calls(("search_memory", {"queries": ["tea"]}))]
    )
    searcher = create_memory_searcher(searcher_model, namespace=("memories", "{user_id}"))

    def look(state: State) -> State:
        return {"messages": searcher.invoke({"messages": state["messages"]})}

    graph2 = StateGraph(State, context_schema=Ctx).add_node("look", look)
    app2 = graph2.add_edge(START, "look").add_edge("look", END).compile(store=store)
    found = app2.invoke(
        {"messages": [{"role": "user", "content": "what do I drink?"}]}, context=Ctx("dana")
    )
    assert [item.value["content"] for item in found["messages"]] == [{"content": "Drinks tea"}]


def test_an_empty_context_value_names_the_run_context_as_the_place_to_fix() -> None:
    from langchain.agents import create_agent

    store = InMemoryStore()
    model = ScriptedChatModel(
        responses=[call("manage_memory", {"content": "likes tea", "action": "create"})]
    )
    tool = create_manage_memory_tool(namespace=("memories", "{user_id}"))
    agent = create_agent(model, tools=[tool], store=store, context_schema=Ctx)
    with pytest.raises(NamespaceError) as caught:
        agent.invoke({"messages": [{"role": "user", "content": "hi"}]}, context=Ctx(user_id=""))
    message = str(caught.value)
    assert "is empty" in message
    assert "the run context's 'user_id'" in message
    assert "configurable" not in message
    assert store.search(("memories",)) == []


def test_an_empty_configurable_value_or_literal_label_names_its_own_fix() -> None:
    with pytest.raises(NamespaceError, match=r"config\['configurable'\]\['user_id'\]"):
        NamespaceTemplate(("memories", "{user_id}"))({"configurable": {"user_id": ""}})
    with pytest.raises(NamespaceError, match="Give every label a non-empty string") as caught:
        NamespaceTemplate(("memories", ""))
    assert "configurable" not in str(caught.value)
