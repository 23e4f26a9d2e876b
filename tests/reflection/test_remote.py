"""RemoteReflectionExecutor through the real langgraph_sdk clients, against a loopback stub."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from langmem import ReflectionExecutor
from langmem.errors import ExecutorClosedError
from langmem.reflection import RemoteReflectionExecutor
from tests.reflection._langgraph_stub import LangGraphStub

ITEM = {
    "namespace": ["memories", "u1"],
    "key": "k1",
    "value": {"content": "Drinks tea"},
    "created_at": "2026-01-01T00:00:00+00:00",
    "updated_at": "2026-01-02T00:00:00Z",
    "score": 0.8,
}


@pytest.mark.enable_socket
def test_submit_creates_debounced_delayed_runs_per_thread() -> None:
    with LangGraphStub() as stub:
        executor = ReflectionExecutor("memories", ("memories", "{langgraph_user_id}"), url=stub.url)
        assert isinstance(executor, RemoteReflectionExecutor)
        config: Any = {"configurable": {"langgraph_user_id": "u1", "thread_id": "conv-1"}}
        messages = [HumanMessage("I drink tea"), AIMessage("Noted")]
        first = executor.submit({"messages": messages}, config, after_seconds=5)
        second = executor.submit({"messages": messages[:1]}, config)
        other = executor.submit({"messages": messages}, thread_id="conv-2")
        runs = [f.result(timeout=30) for f in (first, second, other)]
        executor.shutdown()
    assert [r["status"] for r in runs] == ["pending"] * 3
    (p1, b1), (p2, b2), (p3, _b3) = stub.requests
    assert p1 == p2 != p3  # one server thread per conversation
    assert b1["assistant_id"] == "memories" and b1["multitask_strategy"] == "rollback"
    assert b1["if_not_exists"] == "create" and b1["after_seconds"] == 5
    assert b1["config"]["configurable"] == {"langgraph_user_id": "u1", "thread_id": "conv-1"}
    sent = b1["input"]["messages"]
    assert [m["kwargs"]["content"] for m in sent] == ["I drink tea", "Noted"]
    assert "after_seconds" not in b2 or b2["after_seconds"] in (0, None)


@pytest.mark.enable_socket
def test_search_and_asearch_read_the_servers_store() -> None:
    with LangGraphStub(items=[ITEM]) as stub:
        executor = RemoteReflectionExecutor(
            ("memories", "{langgraph_user_id}"), "memories", url=stub.url
        )
        hits = executor.search("tea", namespace=("memories", "u1"), limit=5)
        ahits = asyncio.run(executor.asearch("tea", None, 5, 0, ("memories", "u1")))
        broad = executor.search()  # outside a run: the template's fixed prefix
    assert hits == ahits and len(hits) == 1
    assert hits[0]["namespace"] == ["memories", "u1"] and hits[0]["score"] == 0.8
    assert hits[0]["updated_at"].year == 2026 and hits[0]["updated_at"].tzinfo is not None
    paths = [(p, b["namespace_prefix"]) for p, b in stub.requests]
    assert paths[0] == ("/store/items/search", ["memories", "u1"])
    assert paths[2] == ("/store/items/search", ["memories"]) and broad == hits
    assert stub.requests[0][1]["query"] == "tea" and stub.requests[0][1]["limit"] == 5


@pytest.mark.enable_socket
@pytest.mark.parametrize("wait", [True, False])
def test_submit_after_shutdown_is_refused_and_sends_nothing(wait: bool) -> None:
    with LangGraphStub() as stub:
        executor = RemoteReflectionExecutor("memories", "memories", url=stub.url)
        first = executor.submit({"messages": []}, thread_id="conv-1")
        executor.shutdown(wait=wait)
        assert first.result(timeout=30)["status"] == "pending"  # made before: still sent
        with pytest.raises(ExecutorClosedError, match="after shutdown"):
            executor.submit({"messages": []}, thread_id="conv-2")
        executor.shutdown()  # again: a no-op that returns
    assert len(stub.requests) == 1
    assert executor._thread is not None and not executor._thread.is_alive()


@pytest.mark.enable_socket
def test_shutdown_cancelling_futures_still_stops_the_thread() -> None:
    with LangGraphStub() as stub:
        executor = RemoteReflectionExecutor("memories", "memories", url=stub.url)
        futures = [executor.submit({"messages": []}, thread_id=f"c{n}") for n in range(5)]
        executor.shutdown(wait=True, cancel_futures=True)
    assert all(f.done() for f in futures)
    assert executor._thread is not None and not executor._thread.is_alive()
