"""The summarization guarantees, checked over random conversations (hypothesis).

The generator and the checker live in ``_guarantees.py`` (the benchmark runs the same checker
on 10,000 conversations, for us and for upstream). Here each property runs on a moderate number
of examples so the suite stays fast.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately

from langmem.errors import TokenBudgetError
from langmem.short_term import asummarize_messages, summarize_messages
from langmem.testing import ScriptedChatModel
from tests.short_term._guarantees import (
    GUARANTEES,
    _call,
    check_pairs,
    markers,
    random_case,
    summarize_case,
    summary_reply,
)

pytestmark = pytest.mark.filterwarnings(
    "ignore::langmem.short_term.summarization.TokenBudgetWarning"
)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _model(max_summary_tokens: int) -> ScriptedChatModel:
    return ScriptedChatModel(default=summary_reply(max_summary_tokens))


def _async_summarize(*args: Any, **kwargs: Any) -> Any:
    return asyncio.run(asummarize_messages(*args, **kwargs))


@PROPERTY
@given(st.randoms(use_true_random=False))
def test_every_guarantee_holds_on_random_conversations(rng: random.Random) -> None:
    case = random_case(rng)
    found = summarize_case(case, summarize_messages, _model, TokenBudgetError)
    assert found == {name: [] for name in GUARANTEES}


@settings(max_examples=40, deadline=None)
@given(st.randoms(use_true_random=False))
def test_every_guarantee_holds_on_the_async_path(rng: random.Random) -> None:
    case = random_case(rng)
    found = summarize_case(case, _async_summarize, _model, TokenBudgetError)
    assert found == {name: [] for name in GUARANTEES}


@PROPERTY
@given(st.randoms(use_true_random=False), st.integers(min_value=150, max_value=1500))
def test_a_backlog_is_read_whole_in_requests_that_fit(rng: random.Random, max_tokens: int) -> None:
    # one call on a whole conversation, with a budget far below its size
    case = random_case(rng, huge=0)
    messages = case.messages
    model = _model(40)
    run = _call(
        summarize_messages,
        messages,
        None,
        model,
        {"max_tokens": max_tokens, "max_summary_tokens": 40},
    )
    assert run.error is None
    assert run.output is not None
    assert all(count_tokens_approximately(r.messages) <= max_tokens for r in model.requests)
    read = set().union(*(markers(r.text()) for r in model.requests)) if model.requests else set()
    kept = set().union(*(markers(str(m.content)) for m in run.output))
    every = set().union(*(markers(str(m.content)) for m in messages))
    assert every <= read | kept
    assert check_pairs(messages, run) == []


@PROPERTY
@given(
    st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=25),
    st.integers(min_value=450, max_value=1200),
)
def test_windows_without_a_human_message_work(steps: list[int], max_tokens: int) -> None:
    # an agent working alone: AI messages with 0..3 parallel tool calls, no human at all
    messages: list[Any] = []
    for index, calls in enumerate(steps):
        ids = [f"c{index}_{k}" for k in range(calls)]
        messages.append(
            AIMessage(
                f"step {index} " * 5,
                id=f"a{index}",
                tool_calls=[{"name": "run", "args": {"n": index}, "id": i} for i in ids],
            )
        )
        messages += [ToolMessage("output " * 20, tool_call_id=i, id=f"t{i}") for i in ids]
    model = _model(40)
    result = summarize_messages(
        messages, running_summary=None, model=model, max_tokens=max_tokens, max_summary_tokens=40
    )
    # over budget only with the overrun reported (here: the summary's wording on top of its room)
    if result.overrun is None:
        assert count_tokens_approximately(result.messages) <= max_tokens
        assert all(count_tokens_approximately(r.messages) <= max_tokens for r in model.requests)
    kept = {m.id for m in result.messages}
    covered = result.running_summary.summarized_message_ids if result.running_summary else set()
    assert {m.id for m in messages} <= kept | covered


@PROPERTY
@given(
    st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=30),
    st.integers(min_value=150, max_value=400),
)
def test_plain_dicts_without_ids_get_stable_ids(texts: list[str], max_tokens: int) -> None:
    chat = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": text}
        for i, text in enumerate(texts)
    ]
    first = summarize_messages(
        chat, running_summary=None, model=_model(15), max_tokens=max_tokens, max_summary_tokens=15
    )
    grown = summarize_messages(
        [*chat, {"role": "user", "content": "more"}],
        running_summary=first.running_summary,
        model=_model(15),
        max_tokens=max_tokens,
        max_summary_tokens=15,
    )
    # messages kept both times carry the same id both times
    ids_first = {
        m.id: m.content for m in first.messages if isinstance(m, (HumanMessage, AIMessage))
    }
    ids_grown = {
        m.id: m.content for m in grown.messages if isinstance(m, (HumanMessage, AIMessage))
    }
    for message_id in ids_first.keys() & ids_grown.keys():
        assert ids_first[message_id] == ids_grown[message_id]
    assert all(m.id for m in grown.messages)


@settings(max_examples=50, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=30))
def test_guarantees_hold_with_a_token_counter_that_is_not_additive(
    rng: random.Random, per_call: int
) -> None:
    # like provider counters that add a fixed overhead per request
    def counter(messages: Any) -> int:
        return count_tokens_approximately(messages) + per_call

    def summarize(*args: Any, **kwargs: Any) -> Any:
        return summarize_messages(*args, token_counter=counter, **kwargs)

    case = random_case(rng)
    case.counter = "approx"  # this test brings its own counter
    found = summarize_case(case, summarize, _model, TokenBudgetError)
    assert found == {name: [] for name in GUARANTEES}
