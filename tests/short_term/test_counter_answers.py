"""A custom token_counter that answers something other than a token count gets a clear error."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest
from langchain_core.messages import AIMessage, HumanMessage

from langmem.errors import ConfigurationError
from langmem.short_term import SummarizationNode, asummarize_messages, summarize_messages
from langmem.short_term.summarization import TokenBudgetWarning
from langmem.testing import ScriptedChatModel

CHAT = [
    HumanMessage("tell me about tea " * 30),
    AIMessage("tea is a drink " * 30),
    HumanMessage("ok"),
]


def _answering(value: Any) -> Any:
    def counter(messages: Iterable[Any]) -> Any:
        list(messages)
        return value

    return counter


BUDGET: dict[str, Any] = {"running_summary": None, "max_tokens": 100, "max_summary_tokens": 10}


@pytest.mark.parametrize("answer", [None, -1, math.nan, math.inf, "12", [3]])
def test_a_counter_answering_no_count_is_named_with_its_answer(answer: Any) -> None:
    model = ScriptedChatModel(default="summary")
    with pytest.raises(ConfigurationError, match=r"token_counter=.* returned .*number of tokens"):
        summarize_messages(CHAT, model=model, token_counter=_answering(answer), **BUDGET)
    assert model.requests == []


async def test_async_and_node_check_the_counter_too() -> None:
    with pytest.raises(ConfigurationError, match="returned None"):
        await asummarize_messages(
            CHAT, model=ScriptedChatModel(default="s"), token_counter=_answering(None), **BUDGET
        )
    node = SummarizationNode(
        model=ScriptedChatModel(default="s"),
        max_tokens=100,
        max_summary_tokens=10,
        token_counter=_answering(-5),
    )
    with pytest.raises(ConfigurationError, match="returned -5"):
        node.invoke({"messages": CHAT})


@pytest.mark.parametrize("answer", [np.int64(10_000), 10_000.5])
def test_numpy_and_float_counts_are_token_counts(answer: Any) -> None:
    model = ScriptedChatModel(default="summary")
    with pytest.warns(TokenBudgetWarning, match="take 10000"):
        result = summarize_messages(CHAT, model=model, token_counter=_answering(answer), **BUDGET)
    assert (
        result.messages and result.overrun is not None
    )  # valid counts never raise (over budget: the result says so)
