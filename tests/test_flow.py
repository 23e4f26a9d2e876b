"""The effect drivers: one flow, driven sync or async, with IO errors thrown into the flow."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.store.base import GetOp, PutOp
from langgraph.store.memory import InMemoryStore

from langmem._flow import Flow, ModelCall, StoreBatch, run_async, run_sync
from langmem.testing import ScriptedChatModel


def _flow(store: Any, model: Any) -> Flow[tuple[Any, str]]:
    yield StoreBatch(store, (PutOp(("ns",), "k", {"v": 1}),))
    (item,) = yield StoreBatch(store, (GetOp(("ns",), "k"),))
    reply = yield ModelCall(model, "hello")
    return item.value, reply.content


def test_sync_and_async_drive_the_same_flow() -> None:
    import asyncio

    sync_model = ScriptedChatModel(responses=["a"])
    async_model = ScriptedChatModel(responses=["a"])
    assert run_sync(_flow(InMemoryStore(), sync_model)) == ({"v": 1}, "a")
    assert asyncio.run(run_async(_flow(InMemoryStore(), async_model))) == ({"v": 1}, "a")
    assert [r.messages for r in sync_model.requests] == [r.messages for r in async_model.requests]


def _recovering(model: Any) -> Flow[str]:
    try:
        yield ModelCall(model, "x")
    except AssertionError:
        return "recovered"
    return "no error"


async def test_io_errors_are_thrown_into_the_flow() -> None:
    assert run_sync(_recovering(ScriptedChatModel())) == "recovered"
    assert await run_async(_recovering(ScriptedChatModel())) == "recovered"


def test_unhandled_io_error_propagates() -> None:
    def flow() -> Flow[None]:
        yield ModelCall(ScriptedChatModel(), "x")

    with pytest.raises(AssertionError, match="no reply is queued"):
        run_sync(flow())
