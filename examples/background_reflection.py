"""Extract memories after the reply, in the background, without losing work; offline.

The manual's pattern: an async ``@entrypoint`` agent replies at once and hands the turn to a
``ReflectionExecutor``. The executor runs the memory manager on a daemon thread, debounced per
conversation, and keeps pending work in the embedded SQLite store's file, so a process that dies
before the extraction ran picks it up at its next start. A scripted chat model and hashing
embeddings stand in for real ones:

    python examples/background_reflection.py
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from langgraph.func import entrypoint

from langmem import ReflectionExecutor, create_memory_store_manager
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls

folder = tempfile.mkdtemp()
store = SqliteStore(
    Path(folder) / "memories.sqlite", index={"dims": 64, "embed": HashingEmbeddings(64)}
)
model = ScriptedChatModel(
    default=ai_tool_calls(("Memory", {"content": "Prefers dark mode in all apps"}))
)
manager = create_memory_store_manager(model, namespace=("memories", "{langgraph_user_id}"))
reflection = ReflectionExecutor(manager, store=store)


@entrypoint(store=store)
async def my_agent(message: str) -> dict[str, Any]:
    response = {"role": "assistant", "content": "I'll remember that preference"}
    # returns at once: the extraction runs after the reply, on a background thread, once the
    # conversation has been quiet for a second (a newer submission replaces a pending one)
    await reflection.ainvoke(
        {"messages": [{"role": "user", "content": message}, response]}, after_seconds=1
    )
    return response


async def main() -> None:
    config = {"configurable": {"langgraph_user_id": "ana", "thread_id": "thread-1"}}
    # two quick messages of one conversation: only the last submission runs
    await my_agent.ainvoke("I like dark mode", config)
    reply = await my_agent.ainvoke("I prefer dark mode in all my apps", config)
    print("agent:", reply["content"])
    report = reflection.shutdown(wait=True)  # drains the pending extraction, then stops
    print("durable queue:", report.durable, "| model calls:", model.calls)
    print("stats:", reflection.stats())
    for item in store.search(("memories", "ana"), query="display preferences"):
        print("memory:", item.value["content"]["content"])


if __name__ == "__main__":
    asyncio.run(main())
