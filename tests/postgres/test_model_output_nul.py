"""A NUL in the model's tool arguments does not fail a store-manager turn on PostgreSQL (jsonb
cannot hold one): it is dropped from the model's output, and every memory of the turn lands."""

from __future__ import annotations

from typing import Any

from langmem import create_memory_store_manager
from langmem.stores import PostgresStore
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls

CONFIG: Any = {"configurable": {"langgraph_user_id": "ana", "thread_id": "t"}}


def test_the_store_manager_turn_lands_every_memory(pg_database: str) -> None:
    calls = ai_tool_calls(
        ("Memory", {"content": "likes tea\x00 at noon"}), ("Memory", {"content": "has a dog"})
    )
    model = ScriptedChatModel(responses=[calls], default="done")
    index: Any = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]}
    with PostgresStore.from_url(pg_database, index=index) as store:
        manager = create_memory_store_manager(model, store=store)
        manager.invoke({"messages": [("user", "I like tea at noon; I have a dog")]}, CONFIG)
        stored = sorted(i.value["content"]["content"] for i in store.search(("memories", "ana")))
    assert stored == ["has a dog", "likes tea at noon"]


def test_a_memory_that_is_only_a_nul_is_not_stored(pg_database: str) -> None:
    """Dropping the NUL leaves nothing: that memory is skipped, the other one lands."""
    calls = ai_tool_calls(("Memory", {"content": "\x00"}), ("Memory", {"content": "has a dog"}))
    model = ScriptedChatModel(responses=[calls], default="done")
    index: Any = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]}
    with PostgresStore.from_url(pg_database, index=index) as store:
        manager = create_memory_store_manager(model, store=store)
        manager.invoke({"messages": [("user", "I have a dog")]}, CONFIG)
        stored = sorted(i.value["content"]["content"] for i in store.search(("memories", "ana")))
    assert stored == ["has a dog"]
