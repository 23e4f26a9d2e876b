"""Rendering conversations for prompts (langmem.utils helpers)."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langmem.errors import InvalidInputError
from langmem.utils import dumps, format_sessions, get_conversation, get_dialated_windows


def test_get_conversation_handles_messages_dicts_lists_and_tool_calls() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        AIMessage(content="", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "1"}]),
        ToolMessage(content="done", tool_call_id="1"),
        HumanMessage(
            content=[{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {}}]
        ),
    ]
    text = get_conversation(messages)
    assert (
        text
        == 'user: hi\n\nassistant: [tool calls: f({"x":1})]\n\ntool: done\n\nuser: a\n[image_url]'
    )


def test_messages_without_role_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="role"):
        get_conversation([{"content": "no role"}])


def test_dilated_windows_grow_and_never_repeat() -> None:
    msgs = [{"role": "user", "content": str(i)} for i in range(5)]
    windows = get_dialated_windows(msgs, N=5)
    assert windows == [
        "user: 4",
        "user: 3\n\nuser: 4",
        "user: 1\n\nuser: 2\n\nuser: 3\n\nuser: 4",
        get_conversation(msgs),
    ]
    assert get_dialated_windows([], N=3) == []
    with pytest.raises(InvalidInputError):
        get_dialated_windows(msgs, N=-1)


def test_format_sessions_shapes() -> None:
    msgs = [{"role": "user", "content": "hi"}]
    assert format_sessions("raw") == "raw"
    assert format_sessions(msgs) == "<session id=0>\nuser: hi\n</session>"
    with_feedback = format_sessions([(msgs, {"score": 1})])
    assert '<feedback session=0>\n{"score":1}\n</feedback>' in with_feedback
    assert format_sessions((msgs, "good")).endswith("good\n</feedback>")
    with pytest.raises(InvalidInputError):
        format_sessions([42])


def test_dumps_handles_models_times_and_sets() -> None:
    import datetime as dt

    from pydantic import BaseModel

    class M(BaseModel):
        a: int

    when = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    assert dumps({"m": M(a=1), "t": when, "s": {"b", "a"}}) == (
        '{"m":{"a":1},"t":"2026-01-02T00:00:00+00:00","s":["a","b"]}'
    )
