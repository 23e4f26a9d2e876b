"""Valid but unusual input and model output for summarization: a counter answering fractional
token counts, lone surrogates in id-less messages, reasoning blocks and stray characters in the
summarizing model's reply. Each failed (raised or corrupted the summary) before its fix."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately

from langmem.short_term import SummarizationNode, asummarize_messages, summarize_messages
from langmem.testing import ScriptedChatModel

BUDGET: dict[str, Any] = {"running_summary": None, "max_tokens": 300, "max_summary_tokens": 50}


def _fractional(messages: Iterable[Any]) -> float:
    """Tokens as a float, like counters that divide characters by 4 or scale an estimate."""
    return count_tokens_approximately(list(messages)) * 1.05


def test_a_fractional_counter_summarizes_a_message_read_in_parts() -> None:
    chat = [HumanMessage("tea " * 1200, id="a"), AIMessage("ok", id="b"), HumanMessage("x", id="c")]
    model = ScriptedChatModel(default="Talked about tea.")
    result = summarize_messages(chat, model=model, token_counter=_fractional, **BUDGET)
    assert result.running_summary is not None
    assert result.running_summary.summarized_message_ids >= {"a"}
    assert model.calls >= 2  # the long message was read in parts, each request within budget
    assert [m.content for m in result.messages][-1] == "x"


@pytest.mark.parametrize("style", ["sync", "async"])
async def test_lone_surrogates_in_id_less_messages_are_summarized(style: str) -> None:
    chat = [{"role": "user", "content": "caf\ud800 " * 400}, {"role": "user", "content": "next"}]
    model = ScriptedChatModel(default="Talked about cafes.")
    if style == "sync":
        result = summarize_messages(chat, model=model, **BUDGET)
    else:
        result = await asummarize_messages(chat, model=model, **BUDGET)
    assert result.running_summary is not None and result.running_summary.summary
    sent = model.requests[0].text()
    sent.encode("utf-8")  # what a provider client must encode
    assert "caf? " in sent


def test_reasoning_blocks_are_not_part_of_the_summary() -> None:
    reply = AIMessage(
        content=[
            {"type": "thinking", "thinking": "They talk about tea.", "signature": "x"},
            {"type": "text", "text": "User likes tea."},
            {"type": "reasoning", "reasoning": "done"},
        ]
    )
    chat = [HumanMessage("tea " * 400, id="a"), HumanMessage("more", id="b")]
    result = summarize_messages(chat, model=ScriptedChatModel(default=reply), **BUDGET)
    assert result.running_summary is not None
    assert result.running_summary.summary == "User likes tea."


def test_a_summary_with_nul_or_surrogates_is_stored_clean() -> None:
    chat = [HumanMessage("tea " * 400, id="a"), HumanMessage("more", id="b")]
    model = ScriptedChatModel(default="User likes\x00 tea \ud83d.")
    result = summarize_messages(chat, model=model, **BUDGET)
    assert result.running_summary is not None
    assert result.running_summary.summary == "User likes tea ?."
    json.dumps(result.running_summary.summary).encode("utf-8")
    assert "\x00" not in str(result.messages[0].content)


def test_the_node_takes_a_fractional_counter_too() -> None:
    node = SummarizationNode(
        model=ScriptedChatModel(default="s"),
        max_tokens=300,
        max_summary_tokens=50,
        token_counter=_fractional,
    )
    update = node.invoke({"messages": [HumanMessage("tea " * 1200), HumanMessage("x")]})
    assert update["context"]["running_summary"].summary == "s"


def test_the_node_says_when_the_messages_key_holds_none() -> None:
    from langmem.errors import InvalidInputError

    node = SummarizationNode(model=ScriptedChatModel(), max_tokens=100, max_summary_tokens=20)
    # before: "found no 'messages' in the state (keys: ['messages'])"
    with pytest.raises(InvalidInputError, match=r"found 'messages' in the state set to None"):
        node.invoke({"messages": None})
    with pytest.raises(
        InvalidInputError, match=r"found no 'messages' in the state \(keys: \['msgs'\]\)"
    ):
        node.invoke({"msgs": []})
