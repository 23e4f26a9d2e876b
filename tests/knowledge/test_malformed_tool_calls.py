"""A conversation dict whose ``tool_calls`` is not a list of calls is refused with an
``InvalidInputError`` naming the message and the fix, by both managers, sync and async, before
any model call and with nothing written; well-formed and partial calls still render."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from langmem import create_memory_manager, create_memory_store_manager
from langmem.errors import InvalidInputError
from langmem.stores import open_store
from langmem.testing import ScriptedChatModel
from langmem.utils import get_conversation

BAD = [
    {"role": "assistant", "content": "x", "tool_calls": "lookup"},
    {"role": "assistant", "content": "x", "tool_calls": [1]},
    {"role": "assistant", "content": "x", "tool_calls": {"name": "f"}},
]


@pytest.mark.parametrize("message", BAD)
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", ["memory", "store"])
def test_malformed_tool_calls_are_refused_before_the_model(
    message: dict[str, Any], mode: str, kind: str
) -> None:
    model = ScriptedChatModel(default="nothing to remember")
    store = open_store("memory://?embed=hashing&dims=16")
    manager: Any = (
        create_memory_manager(model)
        if kind == "memory"
        else create_memory_store_manager(model, namespace=("memories",), store=store)
    )
    payload = {"messages": [{"role": "user", "content": "hi"}, message]}
    with pytest.raises(InvalidInputError) as caught:
        if mode == "sync":
            manager.invoke(payload)
        else:
            asyncio.run(manager.ainvoke(payload))
    text = str(caught.value)
    assert "tool_calls" in text and repr(message["tool_calls"]) in text
    assert "{'name': ..., 'args': {...}, 'id': ...}" in text
    assert model.requests == []
    assert store.search(("memories",)) == []


def test_calls_with_missing_fields_still_render() -> None:
    text = get_conversation([{"role": "assistant", "content": "", "tool_calls": [{"name": "f"}]}])
    assert text == "assistant: [tool calls: f({})]"
