"""The public test doubles behave like real models and embeddings."""

from __future__ import annotations

import math

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from pydantic import BaseModel

from langmem.testing import (
    HashingEmbeddings,
    RecordedRequest,
    ScriptedChatModel,
    ScriptExhaustedError,
    ai_tool_calls,
)


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def test_replays_in_order_and_records_requests() -> None:
    model = ScriptedChatModel(responses=["one", AIMessage(content="two")])
    assert model.invoke("first").content == "one"
    assert model.invoke([HumanMessage(content="second")]).content == "two"
    assert [r.messages[-1].content for r in model.requests] == ["first", "second"]
    assert model.calls == 2 and model.pending == 0


def test_exhausted_script_fails_loudly_unless_default() -> None:
    with pytest.raises(ScriptExhaustedError, match="no reply is queued"):
        ScriptedChatModel().invoke("x")
    assert ScriptedChatModel(default="ok").invoke("x").content == "ok"


def test_bind_tools_records_schemas_and_returns_tool_calls() -> None:
    model = ScriptedChatModel(responses=[ai_tool_calls(("add", {"a": 1, "b": 2}))])
    reply = model.bind_tools([add], tool_choice="any").invoke("add them")
    assert reply.tool_calls[0]["name"] == "add" and reply.tool_calls[0]["args"] == {"a": 1, "b": 2}
    request = model.requests[0]
    assert request.tool_names == ["add"]
    assert request.tool_choice == "any"
    assert request.tools[0]["function"]["parameters"]["properties"]["a"]["type"] == "integer"


def test_with_structured_output() -> None:
    class Person(BaseModel):
        name: str

    model = ScriptedChatModel(responses=[ai_tool_calls(("Person", {"name": "Ann"}))])
    result = model.with_structured_output(Person).invoke("who?")
    assert result == Person(name="Ann")
    assert model.requests[0].tool_names == ["Person"]


def test_callable_replies_see_the_request() -> None:
    def echo(request: RecordedRequest) -> str:
        return f"got {len(request.messages)}"

    model = ScriptedChatModel(responses=[echo])
    assert model.invoke("x").content == "got 1"


async def test_async_shares_queue_and_log() -> None:
    model = ScriptedChatModel(responses=["a", "b"])
    assert (await model.ainvoke("x")).content == "a"
    assert model.invoke("y").content == "b"
    assert len(model.requests) == 2


def test_request_text_and_tokens_include_tools() -> None:
    model = ScriptedChatModel(responses=["ok"])
    model.bind_tools([add]).invoke("hello")
    request = model.requests[0]
    assert "hello" in request.text() and "Add two numbers." in request.text()
    assert request.approx_tokens() == (len(request.text()) + 3) // 4


def test_hashing_embeddings_are_deterministic_unit_vectors() -> None:
    emb = HashingEmbeddings(dims=32)
    a, b = emb.embed_documents(["green tea in the morning", "green tea in the morning"])
    assert a == b and len(a) == 32
    assert math.isclose(sum(x * x for x in a), 1.0, rel_tol=1e-9)
    similar = emb.embed_query("green tea")
    unrelated = emb.embed_query("quarterly tax filing")
    dot = lambda u, v: sum(x * y for x, y in zip(u, v))  # noqa: E731
    assert dot(a, similar) > dot(a, unrelated)
    assert emb.embed_query("") == [0.0] * 32
    with pytest.raises(ValueError, match="dims"):
        HashingEmbeddings(dims=0)


def test_requests_text_joins_every_request() -> None:
    from langmem.testing import requests_text

    model = ScriptedChatModel(responses=["a", "b"])
    model.invoke("first question")
    model.invoke("second question")
    text = requests_text(model.requests)
    assert text == "first question\n---\nsecond question"
