"""Extraction inside real consumers: @entrypoint, create_react_agent, a real OpenAI client."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph.func import entrypoint
from langgraph.store.memory import InMemoryStore

from langmem import (
    create_memory_manager,
    create_memory_store_manager,
    create_search_memory_tool,
)
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls
from tests._openai_stub import OpenAIStub, assistant_tool_calls

NS = ("memories", "{langgraph_user_id}")


def _react_agent(model: Any, tools: list[Any], store: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent is deprecated in favour of langchain's
        from langgraph.prebuilt import create_react_agent

        return create_react_agent(model, tools, store=store, **kwargs)


async def test_store_manager_in_an_entrypoint_uses_the_context_store() -> None:
    store = InMemoryStore(index={"dims": 64, "embed": HashingEmbeddings(64)})
    memory_model = ScriptedChatModel(
        responses=[
            ai_tool_calls(("Memory", {"content": "Prefers dark mode"})),
            ai_tool_calls(("update_memory", {"id": "m1", "patch": {"content": "Prefers light"}})),
        ]
    )
    manager = create_memory_store_manager(memory_model, namespace=NS)

    @entrypoint(store=store)
    async def chat(message: str) -> dict[str, Any]:
        reply = {"role": "assistant", "content": "Noted."}
        await manager.ainvoke({"messages": [{"role": "user", "content": message}, reply]})
        return reply

    config = {"configurable": {"langgraph_user_id": "ana", "thread_id": "th-1"}}
    await chat.ainvoke("I prefer dark mode", config)
    (item,) = store.search(("memories", "ana"))
    assert item.value["content"] == {"content": "Prefers dark mode"}
    assert item.value["thread_id"] == "th-1"

    await chat.ainvoke("Actually light mode", config)
    (item,) = store.search(("memories", "ana"))
    assert item.value["content"] == {"content": "Prefers light"}
    # the second turn saw the first turn's memory under a short id
    assert "m1: Prefers dark mode" in str(memory_model.requests[1].messages[1].content)


def test_memory_manager_in_a_sync_entrypoint() -> None:
    model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "Runs daily"}))])
    manager = create_memory_manager(model)

    @entrypoint()
    def extract(messages: list[Any]) -> list[str]:
        return [m.content.content for m in manager.invoke({"messages": messages})]

    assert extract.invoke([{"role": "user", "content": "I run every day"}]) == ["Runs daily"]


def test_react_agent_learns_in_a_post_model_hook_and_recalls_next_turn() -> None:
    store = InMemoryStore(index={"dims": 64, "embed": HashingEmbeddings(64)})
    memory_model = ScriptedChatModel(
        responses=[ai_tool_calls(("Memory", {"content": "User is allergic to peanuts"}))],
        default="nothing new",
    )
    manager = create_memory_store_manager(memory_model, namespace=NS)

    def learn(state: dict[str, Any]) -> dict[str, Any]:
        last = state["messages"][-1]
        if not getattr(last, "tool_calls", None):  # the agent answered: learn from the turn
            manager.invoke({"messages": state["messages"]})
        return {}

    agent_model = ScriptedChatModel(
        responses=[
            "I'll keep that in mind.",
            ai_tool_calls(("search_memory", {"query": "allergies"})),
            "You are allergic to peanuts.",
        ]
    )
    agent = _react_agent(agent_model, [create_search_memory_tool(NS)], store, post_model_hook=learn)
    config = {"configurable": {"langgraph_user_id": "bo"}}
    agent.invoke({"messages": [{"role": "user", "content": "I'm allergic to peanuts"}]}, config)
    (item,) = store.search(("memories", "bo"))
    assert item.value["kind"] == "Memory"

    out = agent.invoke(
        {"messages": [{"role": "user", "content": "What am I allergic to?"}]}, config
    )
    tool_message = next(m for m in out["messages"] if isinstance(m, ToolMessage))
    found = json.loads(str(tool_message.content))
    assert found[0]["value"]["content"] == {"content": "User is allergic to peanuts"}
    assert out["messages"][-1].content == "You are allergic to peanuts."
    # one memory call per agent answer, never more
    assert memory_model.calls == 2


@pytest.mark.enable_socket
def test_store_manager_through_a_real_openai_client() -> None:
    replies = [
        assistant_tool_calls(
            ("Memory", {"content": "Prefers aisle seats"}),
            ("update_memory", '{"id": "m1", "patch": {"content": '),  # cut off
        ),
        assistant_tool_calls(("update_memory", {"id": "m1", "patch": {"content": "x"}})),
        assistant_tool_calls(("done", {})),
    ]
    store = InMemoryStore()
    store.put(("memories", "erin"), "k1", {"kind": "Memory", "content": {"content": "old"}})
    with OpenAIStub(replies) as stub:
        manager = create_memory_store_manager(stub.chat_model(), store=store)
        writes = manager.invoke(
            {"messages": [{"role": "user", "content": "Aisle seats, please"}], "max_steps": 2},
            {"configurable": {"langgraph_user_id": "erin"}},
        )

    sent = stub.requests
    assert len(sent) == 3
    assert [t["function"]["name"] for t in sent[0]["tools"]] == ["Memory", "update_memory", "done"]
    assert "tool_choice" not in sent[0]
    # the cut-off call went back as an error tool message; the valid one as a result
    results = {m["tool_call_id"]: m["content"] for m in sent[1]["messages"] if m["role"] == "tool"}
    assert results["call_1"] == "saved as m2"
    assert results["call_2"].startswith("Error: the arguments are not valid JSON")
    # every tool message answers a call of the assistant message before it (OpenAI requires it)
    (assistant,) = [m for m in sent[1]["messages"] if m["role"] == "assistant"]
    assert {c["id"] for c in assistant["tool_calls"]} == set(results)
    assert {w["value"]["content"]["content"] for w in writes} == {"Prefers aisle seats", "x"}
    assert store.get(("memories", "erin"), "k1").value["content"] == {"content": "x"}  # type: ignore[union-attr]
