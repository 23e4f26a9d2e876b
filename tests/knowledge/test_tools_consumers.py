"""The memory tools inside real consumers: a ReAct agent, an @entrypoint, a real provider client."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.func import entrypoint
from langgraph.store.memory import InMemoryStore

from langmem import create_manage_memory_tool, create_search_memory_tool
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls
from tests._openai_stub import OpenAIStub, assistant_text, assistant_tool_calls

NS = ("memories", "{langgraph_user_id}")


def _react_agent(model: Any, tools: list[Any], store: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # create_react_agent is deprecated in favour of langchain's
        from langgraph.prebuilt import create_react_agent

        return create_react_agent(model, tools, store=store)


def test_react_agent_two_users_see_only_their_own_memories() -> None:
    store = InMemoryStore(index={"dims": 64, "embed": HashingEmbeddings(64)})
    tools = [create_manage_memory_tool(NS), create_search_memory_tool(NS)]
    facts = {"alice": "Alice is allergic to peanuts", "bob": "Bob is allergic to shellfish"}
    model = ScriptedChatModel()
    agent = _react_agent(model, tools, store)

    for user, fact in facts.items():
        model.queue(
            ai_tool_calls(("manage_memory", {"content": fact})),
            ai_tool_calls(("search_memory", {"query": "allergy"})),
            "Noted.",
        )
        out = agent.invoke(
            {"messages": [{"role": "user", "content": f"remember: {fact}"}]},
            {"configurable": {"langgraph_user_id": user}},
        )
        tool_messages = [m for m in out["messages"] if isinstance(m, ToolMessage)]
        assert tool_messages[0].content.startswith("created memory ")
        found = json.loads(tool_messages[1].content)
        assert [r["value"]["content"] for r in found] == [fact]
        assert {tuple(r["namespace"]) for r in found} == {("memories", user)}

    assert [i.value["content"] for i in store.search(("memories", "alice"))] == [facts["alice"]]
    assert [i.value["content"] for i in store.search(("memories", "bob"))] == [facts["bob"]]
    # the model saw both tools bound on every call
    assert all(set(r.tool_names) == {"manage_memory", "search_memory"} for r in model.requests)
    assert model.pending == 0


def test_entrypoint_uses_the_context_store() -> None:
    store = InMemoryStore()
    manage = create_manage_memory_tool(("memories", "{langgraph_user_id}"))
    search = create_search_memory_tool(("memories", "{langgraph_user_id}"))

    @entrypoint(store=store)
    def workflow(fact: str) -> dict[str, Any]:
        created = manage.invoke({"content": fact})
        return {"created": created, "found": json.loads(search.invoke({"query": fact}))}

    result = workflow.invoke(
        "Carol runs marathons", {"configurable": {"langgraph_user_id": "carol"}}
    )
    assert result["created"].startswith("created memory ")
    assert [r["value"]["content"] for r in result["found"]] == ["Carol runs marathons"]
    assert store.get(("memories", "carol"), result["created"].split()[-1]) is not None


async def test_entrypoint_async_uses_the_context_store() -> None:
    store = InMemoryStore()
    manage = create_manage_memory_tool(("memories",))

    @entrypoint(store=store)
    async def workflow(fact: str) -> str:
        return str(await manage.ainvoke({"content": fact}))

    created = await workflow.ainvoke("Dan plays chess")
    assert store.get(("memories",), created.split()[-1]).value == {"content": "Dan plays chess"}


@pytest.mark.enable_socket
def test_real_provider_client_serializes_and_calls_the_tool() -> None:
    replies = [
        assistant_tool_calls(("manage_memory", {"content": "Erin prefers window seats"})),
        assistant_text("Saved."),
    ]
    with OpenAIStub(replies) as stub:
        store = InMemoryStore()
        agent = _react_agent(stub.chat_model(), [create_manage_memory_tool(NS)], store)
        out = agent.invoke(
            {"messages": [{"role": "user", "content": "I like window seats"}]},
            {"configurable": {"langgraph_user_id": "erin"}},
        )
    requests = stub.requests
    assert isinstance(out["messages"][-1], AIMessage) and out["messages"][-1].content == "Saved."
    sent_tool = requests[0]["tools"][0]["function"]
    assert sent_tool["name"] == "manage_memory"
    assert set(sent_tool["parameters"]["properties"]) == {"content", "action", "id"}
    assert sent_tool["parameters"]["properties"]["action"]["enum"] == ["create", "update", "delete"]
    stored = store.search(("memories", "erin"))
    assert [i.value for i in stored] == [{"content": "Erin prefers window seats"}]
    # the tool result went back to the provider as a tool message
    assert requests[1]["messages"][-1]["role"] == "tool"
    assert requests[1]["messages"][-1]["content"].startswith("created memory ")
