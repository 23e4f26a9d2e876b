"""A memory whose content is empty -- as the model sent it, or once the NUL characters no store
can hold are dropped -- is never stored: that call is skipped with a logged reason, and the
other memories of the same reply land (sync and async, memory and store managers)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from langmem import create_manage_memory_tool, create_memory_manager, create_memory_store_manager
from langmem.knowledge.extraction import Memory
from langmem.stores import open_store
from langmem.testing import ScriptedChatModel, ai_tool_calls

CONFIG: Any = {"configurable": {"langgraph_user_id": "ana", "thread_id": "t"}}
NS = ("memories", "ana")


def _model() -> ScriptedChatModel:
    calls = ai_tool_calls(
        ("Memory", {"content": "\x00"}),
        ("Memory", {"content": "has a dog"}),
        ("Memory", {"content": " \x00\n\x00"}),
        ("Memory", {"content": ""}),
    )
    return ScriptedChatModel(responses=[calls], default="done")


def _skips(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_memory_manager_skips_empty_memories(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    model = _model()
    manager = create_memory_manager(model)
    payload: Any = {"messages": [("user", "I have a dog")]}
    with caplog.at_level(logging.WARNING, logger="langmem"):
        out = manager.invoke(payload) if mode == "sync" else await manager.ainvoke(payload)
    assert [m.content for m in out] == [Memory(content="has a dog")]
    assert model.calls == 1
    skips = _skips(caplog)
    assert len(skips) == 3
    assert "empty after dropping characters no store can hold (NUL)" in skips[0]
    assert "'\\x00'" in skips[0]  # what the model sent, shown
    assert "empty as sent" in skips[2]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_an_update_emptying_a_memory_keeps_it(mode: str) -> None:
    """An update whose content is only a NUL leaves the memory as it was; the other calls of
    the reply (an update of another memory, a new memory) are applied."""
    reply = ai_tool_calls(
        ("update_memory", {"id": "m1", "patch": {"content": "\x00"}}),
        ("update_memory", {"id": "m2", "patch": {"content": "likes green tea"}}),
        ("Memory", {"content": "has a dog"}),
    )
    manager = create_memory_manager(ScriptedChatModel(responses=[reply], default="done"))
    existing = [("a", Memory(content="lives in Lyon")), ("b", Memory(content="likes coffee"))]
    payload: Any = {"messages": [("user", "tea now")], "existing": existing}
    out = manager.invoke(payload) if mode == "sync" else await manager.ainvoke(payload)
    assert [(m.id, m.content) for m in out[:2]] == [
        ("a", Memory(content="lives in Lyon")),
        ("b", Memory(content="likes green tea")),
    ]
    assert [m.content for m in out[2:]] == [Memory(content="has a dog")]


def test_a_structured_memory_with_some_content_is_kept() -> None:
    """Only a memory with nothing in it is skipped: a blank name next to a number is content."""

    class Pet(BaseModel):
        name: str
        age: int | None = None

    reply = ai_tool_calls(("Pet", {"name": "\x00", "age": 3}), ("Pet", {"name": "\x00"}))
    manager = create_memory_manager(
        ScriptedChatModel(responses=[reply], default="done"), schemas=[Pet]
    )
    out = manager.invoke({"messages": [("user", "my cat is 3")]})
    assert [m.content for m in out] == [Pet(name="", age=3)]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_the_store_manager_stores_no_empty_memory(mode: str, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.sqlite'}?embed=hashing&dims=32")
    store.put(NS, "old", {"kind": "Memory", "content": {"content": "has a dog"}})
    reply = ai_tool_calls(
        ("update_memory", {"id": "m1", "patch": {"content": " \x00 "}}),
        ("Memory", {"content": "\x00"}),
        ("Memory", {"content": "likes tea"}),
    )
    model = ScriptedChatModel(responses=[reply], default="done")
    manager = create_memory_store_manager(model, store=store)
    payload: Any = {"messages": [("user", "I have a dog and I like tea")]}
    if mode == "sync":
        manager.invoke(payload, CONFIG)
    else:
        await manager.ainvoke(payload, CONFIG)
    assert "m1: has a dog" in model.requests[0].text()
    assert model.calls == 1  # a skipped call is no error to correct
    stored = sorted(i.value["content"]["content"] for i in store.search(NS))
    assert stored == ["has a dog", "likes tea"]
    store.close()


def test_the_manage_tool_refuses_nul_only_content(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 't.sqlite'}?embed=hashing&dims=32")
    tool = create_manage_memory_tool(namespace=("memories",), store=store)
    result = tool.invoke({"content": "\x00\x00", "action": "create"})
    assert result.startswith("Action 'create' needs non-empty content; got '\\x00\\x00'.")
    assert store.search(("memories",)) == []
    store.close()
