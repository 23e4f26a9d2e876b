"""Keep per-user memories in a LangGraph store from each conversation turn, offline.

A scripted chat model stands in for a real one and hashing embeddings stand in for a real
embedding model, so this runs without network or API keys:

    python examples/store_manager.py
"""

from __future__ import annotations

from typing import Any

from langgraph.func import entrypoint
from langgraph.store.memory import InMemoryStore

from langmem import create_memory_store_manager
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls

store = InMemoryStore(index={"dims": 64, "embed": HashingEmbeddings(64)})
model = ScriptedChatModel(
    responses=[
        ai_tool_calls(("Memory", {"content": "Prefers dark mode in all apps"})),
        ai_tool_calls(("Memory", {"content": "Works as a nurse on night shifts"})),
        ai_tool_calls(
            ("update_memory", {"id": "m1", "patch": {"content": "Prefers light mode now"}})
        ),
    ]
)
manager = create_memory_store_manager(model, namespace=("memories", "{langgraph_user_id}"))


@entrypoint(store=store)
def chat(message: str) -> dict[str, Any]:
    reply = {"role": "assistant", "content": "Noted."}
    # In production, run this after replying (e.g. with a background executor).
    manager.invoke({"messages": [{"role": "user", "content": message}, reply]})
    return reply


if __name__ == "__main__":
    ana = {"configurable": {"langgraph_user_id": "ana", "thread_id": "thread-1"}}
    bo = {"configurable": {"langgraph_user_id": "bo", "thread_id": "thread-2"}}
    chat.invoke("I prefer dark mode in all my apps", ana)
    chat.invoke("I work night shifts as a nurse", bo)
    chat.invoke("Dark mode hurts my eyes now, switch me to light mode", ana)

    for user in ("ana", "bo"):
        for item in store.search(("memories", user), query="preferences and work"):
            value = item.value
            print(
                f"{user}: {value['content']['content']!r} (kind {value['kind']}, "
                f"thread {value['thread_id']}, created {value['created_at'][:19]}, "
                f"updated {value['updated_at'][:19]})"
            )
    print(f"model calls: {model.calls} (one per turn)")
