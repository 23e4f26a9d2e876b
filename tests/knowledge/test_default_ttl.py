"""Memories written by the manage tool, the store manager and History get the store's default
TTL, as `store.put` gives it (and as upstream's manage tool, which called `store.put`, did):
with `TTLConfig(default_ttl=...)` they were written without one and never expired."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore

from langmem import History, create_manage_memory_tool, create_memory_store_manager
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls

TTL_MINUTES = 0.01  # 0.6 s
CONFIG = {"configurable": {"user_id": "ana", "thread_id": "t"}}
NS = ("memories", "ana")


def write_through_langmem(store: BaseStore) -> None:
    """A created and an updated memory (tool), an extracted one (manager), a History put, and
    one History put with ttl=None (kept for ever, as asked)."""
    tool = create_manage_memory_tool(("memories", "{user_id}"), store=store)
    created = tool.invoke({"content": "likes tea"}, CONFIG).split()[-1]
    store.put(NS, "old", {"content": "old fact"}, ttl=None)
    tool.invoke({"action": "update", "id": "old", "content": "updated fact"}, CONFIG)
    model = ScriptedChatModel(
        responses=[ai_tool_calls(("Memory", {"content": "lives in Lisbon"})), "done"]
    )
    manager = create_memory_store_manager(model, namespace=("memories", "{user_id}"), store=store)
    manager.invoke({"messages": [{"role": "user", "content": "I live in Lisbon"}]}, CONFIG)
    History(store).put(NS, "by-history", {"content": "from a script"})
    History(store).put(NS, "forever", {"content": "kept"}, ttl=None)
    assert len(store.search(NS, limit=20)) == 5, created


def left_after_expiry(store: BaseStore) -> list[Any]:
    time.sleep(TTL_MINUTES * 60 + 0.3)
    store.sweep_ttl()  # type: ignore[attr-defined]
    return [item.key for item in store.search(NS, limit=20)]


def test_memories_written_by_langmem_get_the_default_ttl(tmp_path: Path) -> None:
    store = SqliteStore(
        tmp_path / "m.sqlite",
        index={"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]},
        ttl={"default_ttl": TTL_MINUTES, "refresh_on_read": False},
    )
    write_through_langmem(store)
    assert left_after_expiry(store) == ["forever"]
    store.close()
