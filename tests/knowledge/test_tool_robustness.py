"""Model-chosen tool arguments never end a run with an exception, and never change data wrongly."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import ToolMessage
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from langmem import create_manage_memory_tool, create_search_memory_tool
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

NS = ("memories", "{user_id}")
CFG: Any = {"configurable": {"user_id": "alice"}}
PROFILE = {
    "kind": "UserProfile",
    "content": {"name": "Ana", "city": "Paris", "age": 31},
    "created_at": "2026-01-01T00:00:00+00:00",
    "updated_at": "2026-01-01T00:00:00+00:00",
}


def stores() -> list[BaseStore]:
    return [
        SqliteStore(":memory:", index={"dims": 32, "embed": HashingEmbeddings(32)}),
        InMemoryStore(index={"dims": 32, "embed": HashingEmbeddings(32)}),
    ]


def call(tool: Any, args: dict[str, Any], use_async: bool) -> ToolMessage:
    request = {"name": tool.name, "args": args, "id": "c1", "type": "tool_call"}
    result = asyncio.run(tool.ainvoke(request, CFG)) if use_async else tool.invoke(request, CFG)
    assert isinstance(result, ToolMessage)
    return result


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("store", stores(), ids=["sqlite", "inmemory"])
@pytest.mark.parametrize("condition", [{"$in": ["a"]}, {"$regex": ".*"}, {"$exists": True}])
def test_unsupported_filter_operators_are_tool_errors(
    store: BaseStore, condition: dict[str, Any], use_async: bool
) -> None:
    store.put(("memories", "alice"), "k", {"content": "tea"})
    tool = create_search_memory_tool(NS, store=store)
    message = call(tool, {"query": "tea", "filter": {"content": condition}}, use_async)
    assert message.status == "error" and "Nothing was changed" in message.content


@pytest.mark.parametrize("use_async", [False, True])
def test_updating_structured_content_keeps_its_shape(use_async: bool) -> None:
    store = stores()[0]
    store.put(("memories", "alice"), "profile", PROFILE)
    tool = create_manage_memory_tool(NS, store=store)
    plain = call(tool, {"action": "update", "id": "profile", "content": "Ana moved"}, use_async)
    assert plain.status == "error"
    assert "UserProfile" in plain.content and "age, city, name" in plain.content
    unknown = call(
        tool, {"action": "update", "id": "profile", "content": '{"town": "x"}'}, use_async
    )
    assert unknown.status == "error" and "town" in unknown.content
    typed = call(
        tool, {"action": "update", "id": "profile", "content": '{"age": "old"}'}, use_async
    )
    assert typed.status == "error" and "expected number" in typed.content
    assert store.get(("memories", "alice"), "profile").value == PROFILE  # type: ignore[union-attr]
    ok = call(
        tool, {"action": "update", "id": "profile", "content": '{"city": "Tokyo"}'}, use_async
    )
    assert ok.content == "updated memory profile"
    value = store.get(("memories", "alice"), "profile").value  # type: ignore[union-attr]
    assert value["kind"] == "UserProfile"
    assert value["content"] == {"name": "Ana", "city": "Tokyo", "age": 31}


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("key", ["profile", "User-Key 7", "ABCDEF00-0000-4000-8000-000000000000"])
def test_every_id_shown_can_be_updated_and_deleted(key: str, use_async: bool) -> None:
    store = stores()[0]
    store.put(("memories", "alice"), key, {"content": "likes tea"})
    search = create_search_memory_tool(NS, store=store)
    shown = json.loads(call(search, {"query": "tea"}, use_async).content)[0]["key"]
    tool = create_manage_memory_tool(NS, store=store)
    updated = call(tool, {"action": "update", "id": shown, "content": "likes coffee"}, use_async)
    assert updated.content == f"updated memory {key}"
    assert call(tool, {"action": "delete", "id": shown}, use_async).content == (
        f"Deleted memory {key}"
    )
    assert store.get(("memories", "alice"), key) is None


def test_a_uuid_in_another_case_finds_its_memory() -> None:
    store = stores()[0]
    key = "0b7c2f5e-8a1d-4c3e-9f00-1a2b3c4d5e6f"
    store.put(("memories", "alice"), key, {"content": "likes tea"})
    tool = create_manage_memory_tool(NS, store=store)
    assert call(tool, {"action": "delete", "id": key.upper()}, False).content.endswith(key)


@pytest.mark.parametrize("content", ["", "   ", "\n\t"])
def test_empty_content_is_refused(content: str) -> None:
    store = stores()[0]
    tool = create_manage_memory_tool(NS, store=store)
    message = call(tool, {"content": content}, False)
    assert message.status == "error" and "non-empty" in message.content
    assert store.search(("memories", "alice")) == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
operators = st.sampled_from(
    ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$regex", "$exists", "$", "x"]
)
filters = st.none() | st.dictionaries(
    st.text(max_size=8),
    json_values | st.dictionaries(operators, json_values, min_size=1, max_size=2),
    max_size=3,
)
manage_args = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from(["create", "update", "delete", "read", ""]) | json_values,
        "content": json_values,
        "id": st.sampled_from(["profile", "k1", "", " ", "PROFILE"]) | json_values,
    },
)
search_args = st.fixed_dictionaries(
    {},
    optional={
        "query": st.text(max_size=30) | json_values,
        "limit": st.integers(-5, 2000) | json_values,
        "offset": st.integers(-5, 50) | json_values,
        "filter": filters | json_values,
    },
)


@pytest.mark.parametrize("use_async", [False, True])
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_tool_arguments_never_raise(use_async: bool, data: st.DataObject) -> None:
    for store in stores():
        store.put(("memories", "alice"), "profile", PROFILE)
        store.put(("memories", "alice"), "k1", {"content": "likes tea"})
        manage = create_manage_memory_tool(NS, store=store)
        search = create_search_memory_tool(NS, store=store)
        for _ in range(3):
            call(manage, data.draw(manage_args), use_async)
            call(search, data.draw(search_args), use_async)
        profile = store.get(("memories", "alice"), "profile")
        if profile is not None:  # updated or kept, never flattened
            assert profile.value["kind"] == "UserProfile"
            assert isinstance(profile.value["content"], dict)


def test_a_broken_default_store_file_is_a_clear_error_inside_an_agent_run(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langchain.agents import create_agent
    from langchain_core.messages import AIMessage

    from langmem.errors import StoreFileError
    from langmem.stores._open import _forget_defaults
    from langmem.testing import ScriptedChatModel

    broken = tmp_path / "memories.sqlite"
    broken.write_bytes(b"not a database at all\n" * 100)
    monkeypatch.setenv("LANGMEM_STORE", str(broken))
    _forget_defaults()
    model = ScriptedChatModel(
        responses=[
            AIMessage(
                content="",
                tool_calls=[{"name": "manage_memory", "args": {"content": "x"}, "id": "c1"}],
            )
        ]
    )
    agent = create_agent(model, tools=[create_manage_memory_tool(NS)])
    with pytest.raises(StoreFileError, match=r"memories.sqlite.*Fix"):
        agent.invoke({"messages": [("user", "hi")]}, CFG)
    assert broken.read_bytes() == b"not a database at all\n" * 100
