"""langmem's main job, offline: an agent keeps long-term memories about its users and finds them.

``langmem demo`` (and ``make demo``, and ``examples/demo.py``) run :func:`main`.

Run it twice: memories live in the embedded SQLite store under the user data folder
(``LANGMEM_HOME`` or ``~/.local/share/langmem``), so the second run finds what the first stored.

The agent is LangGraph's ReAct agent. Its "LLM" is langmem's ScriptedChatModel, which plays the
tool calls a real model would make, so the demo needs no API key. Everything else is real: the
memory tools, namespaces per user, the persistent store and the local MiniLM embeddings (or a
loud warning and hashing embeddings when the weights are not installed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain.agents import create_agent

from langmem.errors import StoreNotFoundError
from langmem.knowledge.tools import create_manage_memory_tool, create_search_memory_tool
from langmem.stores import default_store
from langmem.testing import ScriptedChatModel, ai_tool_calls

NAMESPACE = ("memories", "{langgraph_user_id}")

FACTS = {
    "alice": [
        "Alice is allergic to peanuts",
        "Alice's daughter Maya turns 7 on 14 March",
        "Alice works night shifts as an ICU nurse",
    ],
    "bob": [
        "Bob is training for the Berlin marathon in September",
        "Bob only drinks decaf after noon",
    ],
}
QUESTIONS = {
    "alice": "What food should I avoid when I cook for her?",
    "bob": "Which race is he preparing for?",
}


def main(echo: Callable[[str], None] = print) -> None:
    """Run the demo on the default store, printing with ``echo``."""
    store = default_store()
    if store is None:
        raise StoreNotFoundError(
            "LANGMEM_STORE=none switches the default store off; unset it to run the demo."
        )
    echo(f"store: {store!r}")
    tools = [create_manage_memory_tool(NAMESPACE), create_search_memory_tool(NAMESPACE)]
    model = ScriptedChatModel()
    agent = create_agent(model, tools)  # no store given: the tools use langmem's default

    for user, facts in FACTS.items():
        config = {"configurable": {"langgraph_user_id": user}}
        earlier = store.search(("memories", user), limit=100)
        echo(f"\n== {user}: {len(earlier)} memories from earlier runs")
        known = {item.value["content"] for item in earlier}
        new = [fact for fact in facts if fact not in known]
        model.queue(
            *(ai_tool_calls(("manage_memory", {"content": fact})) for fact in new),
            ai_tool_calls(("search_memory", {"query": QUESTIONS[user], "limit": 2})),
            "Noted, and here is what I remember.",
        )
        result: dict[str, Any] = agent.invoke(  # type: ignore[call-overload]
            {"messages": [{"role": "user", "content": " ".join(facts)}]}, config
        )
        for message in result["messages"]:
            if message.type == "tool" and message.name == "manage_memory":
                echo(f"  manage_memory -> {message.content}")
        found = json.loads(result["messages"][-2].content)
        echo(f"  search_memory({QUESTIONS[user]!r}):")
        for hit in found:
            echo(f"    {hit['score']:.3f}  {hit['value']['content']}")

    if getattr(store, "path", None) == ":memory:":
        echo("\nThis store is in memory (LANGMEM_STORE=memory://): nothing was kept.")
    else:
        echo("\nRun the demo again: the memories above are still there.")
