"""ai_tool_calls names a malformed call (it raised IndexError / a dict() ValueError)."""

from __future__ import annotations

from typing import Any

import pytest

from langmem.errors import ConfigurationError
from langmem.testing import ai_tool_calls, tool_call


@pytest.mark.parametrize(
    "bad", [("manage_memory",), ("manage_memory", "likes tea"), "manage_memory"]
)
def test_ai_tool_calls_names_a_malformed_call(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"ai_tool_calls got .*\(name, args\) pair"):
        ai_tool_calls(bad)


def test_pairs_and_dicts_still_build_calls() -> None:
    message = ai_tool_calls(("a", {"x": 1}), tool_call("b", {"y": 2}, id="c2"), content="hi")
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("a", {"x": 1}),
        ("b", {"y": 2}),
    ]
    assert message.tool_calls[1]["id"] == "c2" and message.content == "hi"
