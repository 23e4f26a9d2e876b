"""A conversation holding what LangChain cannot serialize (the SearchItem artifacts of
`create_search_memory_tool(response_format="content_and_artifact")`, a datetime in
`additional_kwargs`) is stored so that the task runs: it was accepted at submit and then
failed every attempt with NotImplementedError when the worker loaded it, so the conversation
was never reflected on. What JSON cannot hold at all (bytes) is refused at submit, named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.store.base import SearchItem

from langmem import create_memory_store_manager, create_search_memory_tool
from langmem.errors import InvalidInputError
from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from langmem.testing import ScriptedChatModel, ai_tool_calls
from tests.reflection._support import index

CONFIG = {"configurable": {"langgraph_user_id": "ana", "thread_id": "t"}}


def _conversation(store: SqliteStore) -> list[object]:
    store.put(("memories", "ana"), "k", {"content": "likes tea"})
    search = create_search_memory_tool(
        ("memories", "{langgraph_user_id}"), store=store, response_format="content_and_artifact"
    )
    call = {"name": "search_memory", "args": {"query": "tea"}, "id": "c1", "type": "tool_call"}
    result = search.invoke(call, CONFIG)  # a ToolMessage whose artifact is [SearchItem]
    assert isinstance(result, ToolMessage) and isinstance(result.artifact[0], SearchItem)
    when = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    return [
        HumanMessage(content="what do I drink?"),
        AIMessage(content="", tool_calls=[call], additional_kwargs={"sent_at": when}),
        result,
        AIMessage(content="You like tea."),
        HumanMessage(content="Also I moved to Lisbon."),
    ]


def test_a_conversation_with_search_artifacts_is_reflected_on(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "m.sqlite", index=index())  # type: ignore[arg-type]
    model = ScriptedChatModel(
        responses=[ai_tool_calls(("Memory", {"content": "lives in Lisbon"})), "done"]
    )
    manager = create_memory_store_manager(model, namespace=("memories", "{langgraph_user_id}"))
    executor = LocalReflectionExecutor.with_options(manager, store, max_attempts=1)
    try:
        future = executor.submit({"messages": _conversation(store)}, CONFIG, after_seconds=0)
        future.result(timeout=20)
        assert (executor.stats().done, executor.stats().failed) == (1, 0)
    finally:
        executor.shutdown(wait=True)
    sent = model.requests[0].text()
    assert "Lisbon" in sent and "You like tea." in sent
    contents = sorted(str(i.value["content"]) for i in store.search(("memories", "ana")))
    assert contents == ["likes tea", "{'content': 'lives in Lisbon'}"]
    store.close()


def test_bytes_in_a_message_are_refused_at_submit_with_their_path(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "m.sqlite", index=index())  # type: ignore[arg-type]
    executor = LocalReflectionExecutor.with_options(lambda p: p, store)
    image = {"type": "image", "data": b"\x89PNG", "mime_type": "image/png"}
    with pytest.raises(InvalidInputError, match=r"content\[0\]\['data'\].*bytes"):
        executor.submit({"messages": [HumanMessage(content=[image])]}, CONFIG)
    assert executor.stats().pending == 0
    executor.shutdown(wait=True)
    store.close()
