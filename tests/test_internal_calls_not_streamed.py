"""langmem's own model calls inside a graph (extraction, summaries, prompt rewrites) are tagged
`nostream`, as LangChain's summarization middleware tags its own: a graph streamed with
`stream_mode="messages"` showed its user the memory manager's tool calls and the summary."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.store.memory import InMemoryStore

from langmem import create_memory_store_manager, create_prompt_optimizer
from langmem.short_term import summarize_messages
from langmem.testing import ScriptedChatModel, tool_call

OLD = [{"role": "user", "content": f"earlier turn {n} " + "word " * 30} for n in range(8)]


def _graph() -> Any:
    store = InMemoryStore()
    extraction = AIMessage(
        content="", id="internal-1", tool_calls=[tool_call("Memory", {"content": "likes tea"})]
    )
    manager = create_memory_store_manager(
        ScriptedChatModel(responses=[extraction, AIMessage(content="ok", id="internal-2")]),
        namespace=("memories",),
        store=store,
    )
    summarizer = ScriptedChatModel(default=AIMessage(content="a summary", id="internal-3"))
    optimizer = create_prompt_optimizer(
        ScriptedChatModel(default=AIMessage(content="better", id="internal-4")),
        kind="prompt_memory",
    )
    chat = ScriptedChatModel(default=AIMessage(content="the reply", id="reply"))

    def node(state: MessagesState) -> dict[str, Any]:
        manager.invoke({"messages": state["messages"]})
        summarize_messages(
            OLD, running_summary=None, model=summarizer, max_tokens=200, max_summary_tokens=20
        )
        optimizer.invoke({"trajectories": [(state["messages"], "fine")], "prompt": "Be kind."})
        return {"messages": [chat.invoke(state["messages"])]}

    async def anode(state: MessagesState) -> dict[str, Any]:
        await manager.ainvoke({"messages": state["messages"]})
        return {"messages": [await chat.ainvoke(state["messages"])]}

    sync = StateGraph(MessagesState).add_node("n", node).add_edge(START, "n").compile()
    graph = StateGraph(MessagesState).add_node("n", anode).add_edge(START, "n").compile()
    return sync, graph, summarizer


def test_only_the_reply_is_streamed() -> None:
    graph, _, summarizer = _graph()
    streamed = [
        message.id
        for message, _ in graph.stream(
            {"messages": [("user", "I like tea")]}, stream_mode="messages"
        )
    ]
    assert streamed == ["reply"]
    assert summarizer.requests  # the summary was made, just not streamed


def test_async_streams_only_the_reply_too() -> None:
    _, graph, _ = _graph()

    async def run() -> list[Any]:
        chunks = graph.astream({"messages": [("user", "I like tea")]}, stream_mode="messages")
        return [message.id async for message, _ in chunks]

    assert asyncio.run(run()) == ["reply"]
