"""A model that keeps updating a memory id when no memories were shown is told that there are
none (not to pick "m1" from an empty list), and the final error reads as one sentence per
problem, sync and async."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.messages import AIMessage

from langmem import create_memory_manager
from langmem.errors import ModelOutputError
from langmem.testing import ScriptedChatModel


def _update_m1() -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[{"id": "c", "name": "update_memory", "args": {"id": "m1", "patch": {}}}],
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_no_memories_shown_is_said_plainly(mode: str) -> None:
    model = ScriptedChatModel(default=_update_m1())
    manager = create_memory_manager(model)
    payload = {"messages": [{"role": "user", "content": "I like tea"}]}
    with pytest.raises(ModelOutputError) as caught:
        if mode == "sync":
            manager.invoke(payload)
        else:
            asyncio.run(manager.ainvoke(payload))
    message = str(caught.value)
    assert "no memories were shown, so none can be changed" in message
    assert "e.g. m1" not in message
    assert ".." not in message
    correction = model.requests[1].messages[-1].content
    assert "no memories were shown" in correction


def test_with_memories_the_hint_names_the_list() -> None:
    model = ScriptedChatModel(
        default=AIMessage(
            content="",
            tool_calls=[{"id": "c", "name": "update_memory", "args": {"id": "m9", "patch": {}}}],
        )
    )
    manager = create_memory_manager(model)
    with pytest.raises(ModelOutputError) as caught:
        manager.invoke(
            {"messages": [{"role": "user", "content": "hi"}], "existing": [("a", "likes tea")]}
        )
    assert "there is no memory 'm9'; use an id from the list, e.g. m1. No memory" in str(
        caught.value
    )
