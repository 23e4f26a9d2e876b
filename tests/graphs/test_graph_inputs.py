"""The deployed memory graph refuses an input without messages with an InvalidInputError
naming the keys it got (was a bare KeyError), and a user id it cannot use says why."""

from __future__ import annotations

from typing import Any

import pytest

from langmem.errors import InvalidInputError, NamespaceError
from langmem.graphs.semantic import build_memory_graph
from langmem.stores import open_store
from langmem.testing import ScriptedChatModel

CONFIG: Any = {"configurable": {"langgraph_user_id": "u1"}}


@pytest.mark.parametrize(("state", "named"), [({}, "(got [])"), ({"msgs": []}, "(got ['msgs'])")])
def test_an_input_without_messages_is_named(state: dict[str, Any], named: str) -> None:
    model = ScriptedChatModel(default="nothing")
    graph = build_memory_graph(model, store=open_store("memory://?embed=hashing&dims=16"))
    with pytest.raises(InvalidInputError) as caught:
        graph.invoke(state, CONFIG)
    assert named in str(caught.value) and "{'messages': [" in str(caught.value)
    assert model.requests == []


def test_a_user_id_with_a_dot_says_why() -> None:
    graph = build_memory_graph(
        ScriptedChatModel(default="x"), store=open_store("memory://?embed=none")
    )
    with pytest.raises(NamespaceError, match=r"'a\.b'\) \(a user id must be non-empty and wit"):
        graph.invoke({"messages": []}, {"configurable": {"langgraph_user_id": "a.b"}})
