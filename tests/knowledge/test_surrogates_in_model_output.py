"""A lone surrogate in a model's tool arguments (a JSON "\\ud800" escape) no longer fails the
whole store-manager turn: no store can hold it, so it becomes '?' and the other memories land."""

from __future__ import annotations

from typing import Any

from langmem import create_memory_manager, create_memory_store_manager
from langmem.stores import open_store
from langmem.testing import ScriptedChatModel, ai_tool_calls

CONFIG: Any = {"configurable": {"langgraph_user_id": "ana", "thread_id": "t"}}


def _model() -> ScriptedChatModel:
    calls = ai_tool_calls(
        ("Memory", {"content": "likes caf\ud800 au lait"}), ("Memory", {"content": "has a dog"})
    )
    return ScriptedChatModel(responses=[calls], default="done")


def test_the_store_manager_turn_lands_every_memory() -> None:
    store = open_store("memory://?embed=hashing&dims=16")
    written = create_memory_store_manager(_model(), store=store).invoke(
        {"messages": [("user", "I like café au lait and I have a dog")]}, CONFIG
    )
    contents = sorted(item["value"]["content"]["content"] for item in written)
    assert contents == ["has a dog", "likes caf? au lait"]
    assert len(store.search(("memories", "ana"))) == 2


async def test_the_memory_manager_returns_encodable_text() -> None:
    memories = await create_memory_manager(_model()).ainvoke({"messages": [("user", "hi")]})
    texts = [m.content.content for m in memories]  # type: ignore[union-attr]
    assert texts == ["likes caf? au lait", "has a dog"]
    assert all(text.encode("utf-8") for text in texts)


def _nul_model() -> ScriptedChatModel:
    calls = ai_tool_calls(
        ("Memory", {"content": "likes tea\x00 at noon"}), ("Memory", {"content": "has a dog"})
    )
    return ScriptedChatModel(responses=[calls], default="done")


async def test_a_nul_in_the_model_output_is_dropped() -> None:
    """A NUL ("\\u0000" in the model's JSON) is no text anyone means, and PostgreSQL cannot hold
    it: it is dropped, so the memory lands on every store."""
    memories = await create_memory_manager(_nul_model()).ainvoke({"messages": [("user", "hi")]})
    assert [m.content.content for m in memories] == ["likes tea at noon", "has a dog"]  # type: ignore[union-attr]
