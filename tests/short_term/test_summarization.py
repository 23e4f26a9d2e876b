"""summarize_messages / asummarize_messages: behaviour, bookkeeping, errors, sync/async parity."""

from __future__ import annotations

import doctest
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables.config import ensure_config

import langmem.short_term
from langmem.errors import (
    ConfigurationError,
    InvalidInputError,
    ModelOutputError,
    TokenBudgetError,
)
from langmem.short_term import (
    RunningSummary,
    SummarizationResult,
    _node,
    _plan,
    _prompts,
    asummarize_messages,
    summarization,
    summarize_messages,
)
from langmem.short_term.summarization import TokenBudgetWarning
from langmem.testing import ScriptedChatModel


def chat(turns: int, words: int = 30) -> list[Any]:
    messages: list[Any] = []
    for turn in range(turns):
        messages.append(HumanMessage(f"question {turn} " + "word " * words, id=f"h{turn}"))
        messages.append(AIMessage(f"answer {turn} " + "word " * words, id=f"a{turn}"))
    return messages


def tokens(messages: list[Any]) -> int:
    return count_tokens_approximately(messages)


def scripted(*replies: str, default: str | None = "the summary") -> ScriptedChatModel:
    return ScriptedChatModel(responses=list(replies), default=default)


def test_public_names_are_upstreams_five() -> None:
    assert langmem.short_term.__all__ == [
        "RunningSummary",
        "SummarizationNode",
        "SummarizationResult",
        "asummarize_messages",
        "summarize_messages",
    ]
    assert summarization.RunningSummary is RunningSummary
    assert RunningSummary.__module__ == "langmem.short_term.summarization"


@pytest.mark.parametrize("module", [langmem.short_term, summarization, _node, _plan, _prompts])
def test_docstring_examples_run(module: Any) -> None:
    failed, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert failed == 0


def test_under_the_threshold_nothing_is_called_and_messages_pass_through() -> None:
    model = scripted(default=None)
    messages = [SystemMessage("be nice", id="s"), *chat(2)]
    result = summarize_messages(messages, running_summary=None, model=model, max_tokens=1000)
    assert model.calls == 0
    assert result == SummarizationResult(messages=messages, running_summary=None)


def test_over_the_threshold_older_turns_become_one_summary_message() -> None:
    model = scripted("Bob asked", default="Bob asked ten questions.")
    messages = [SystemMessage("be nice", id="s"), *chat(10, words=10), HumanMessage("q", id="q")]
    result = summarize_messages(
        messages, running_summary=None, model=model, max_tokens=400, max_summary_tokens=60
    )
    # the threshold (400) is reached at a9, the rest fits: h0..a9 are summarized, as upstream;
    # they do not fit one request of 400 tokens, so they are read in two
    assert model.calls == 2
    assert all(tokens(r.messages) <= 400 for r in model.requests)
    out = result.messages
    assert out[0] is messages[0]
    assert isinstance(out[1], SystemMessage)
    assert out[1].content == "Summary of the earlier conversation:\nBob asked ten questions."
    assert out[1].id == "langmem-summary-1"
    assert [m.id for m in out[2:]] == ["q"]
    assert tokens(out) <= 400
    summary = result.running_summary
    assert summary is not None
    assert summary.summary == "Bob asked ten questions."
    assert summary.summarized_message_ids == {m.id for m in messages[1:-1]}
    assert summary.last_summarized_message_id == "a9"


def test_a_grown_conversation_extends_the_summary_and_never_resends_what_it_covers() -> None:
    model = scripted("first summary", "second summary")
    settings: dict[str, Any] = {
        "model": model,
        "max_tokens": 380,
        "max_tokens_before_summary": 300,
        "max_summary_tokens": 60,
    }
    messages = chat(10, words=10)
    first = summarize_messages(messages, running_summary=None, **settings)
    assert model.calls == 1 and first.running_summary is not None
    # one more short message, still under the threshold: no call, the same summary
    grown = [*messages, HumanMessage("ok?", id="x")]
    second = summarize_messages(grown, running_summary=first.running_summary, **settings)
    assert model.calls == 1
    assert second.running_summary is first.running_summary
    assert second.messages == [*first.messages, grown[-1]]
    # crossing the threshold again summarizes only the new part, extending the summary
    grown = [*grown, *chat(20, words=10)[20:]]
    third = summarize_messages(grown, running_summary=second.running_summary, **settings)
    assert model.calls == 2
    sent = model.requests[1].text()
    assert "first summary" in sent
    covered = first.running_summary.summarized_message_ids
    for message in messages:
        assert (str(message.content) in sent) == (message.id not in covered)
    assert third.running_summary is not None
    assert third.running_summary.summary == "second summary"
    assert covered < third.running_summary.summarized_message_ids


def test_a_backlog_larger_than_one_request_is_read_in_chunks() -> None:
    model = scripted(default="s " * 20)
    messages = chat(1000, words=8)  # 2,000 messages, about 30k tokens
    result = summarize_messages(
        messages, running_summary=None, model=model, max_tokens=2000, max_summary_tokens=100
    )
    assert model.calls > 10
    assert all(tokens(r.messages) <= 2000 for r in model.requests)
    sent = "\n".join(r.text() for r in model.requests)
    kept = {m.id for m in result.messages}
    for message in messages:
        assert message.id in kept or str(message.content) in sent
    summary = result.running_summary
    assert summary is not None
    assert summary.summarized_message_ids == {m.id for m in messages} - kept
    assert tokens(result.messages) <= 2000


def test_tool_calls_stay_with_their_results_when_summarized_or_kept() -> None:
    calls = [{"name": "search", "args": {"q": str(i)}, "id": f"c{i}"} for i in range(3)]
    messages = [
        HumanMessage("find things " * 20, id="h0"),
        AIMessage("", tool_calls=calls, id="a0"),
        *(ToolMessage("result " * 30, tool_call_id=f"c{i}", id=f"t{i}") for i in (2, 0, 1)),
        AIMessage("done " * 20, id="a1"),
        HumanMessage("thanks", id="h1"),
    ]
    model = scripted("summary")
    result = summarize_messages(
        messages, running_summary=None, model=model, max_tokens=300, max_summary_tokens=30
    )
    (text,) = [r.text() for r in model.requests if "search" in r.text()]
    assert all(f"[c{i}]" in text for i in range(3))
    assert text.count("tool result search [") == 3
    kept = [m.id for m in result.messages]
    assert not {"a0", "t0", "t1", "t2"} & set(kept)


def test_results_out_of_place_still_join_their_call() -> None:
    # a tool result arriving after another call's unit merges both units
    messages = [
        AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "x"}], id="a0"),
        AIMessage("", tool_calls=[{"name": "g", "args": {}, "id": "y"}], id="a1"),
        ToolMessage("rx", tool_call_id="x", id="tx"),
        ToolMessage("ry", tool_call_id="y", id="ty"),
        HumanMessage("hi", id="h"),
    ]
    units = _plan.parse(messages, set()).units
    assert [[m.id for m in u.messages] for u in units] == [["a0", "a1", "tx", "ty"], ["h"]]


def test_plain_dicts_are_accepted_and_get_content_ids() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hi"},
        {"role": "user", "content": "hi"},
    ]
    result = summarize_messages(messages, running_summary=None, model=scripted(), max_tokens=500)
    ids = [m.id for m in result.messages]
    assert ids[0].startswith("msg-p0-") and len(set(ids)) == 4
    # the same user text twice gets two ids: each from its place in the conversation
    assert ids[1].startswith("msg-p1-") and ids[3].startswith("msg-p3-")
    again = summarize_messages(messages, running_summary=None, model=scripted(), max_tokens=500)
    assert [m.id for m in again.messages] == ids
    assert [m.type for m in result.messages] == ["system", "human", "ai", "human"]


def test_feeding_the_output_back_does_not_summarize_the_summary() -> None:
    model = scripted("s1", "s2", "s3")
    settings: dict[str, Any] = {"model": model, "max_tokens": 300, "max_summary_tokens": 60}
    state = [SystemMessage("sys", id="s"), *chat(10)]
    result = summarize_messages(state, running_summary=None, **settings)
    for turn in range(10, 16):
        state = [*result.messages, *chat(turn + 1)[-2:]]
        result = summarize_messages(state, running_summary=result.running_summary, **settings)
        assert [m.content for m in result.messages].count("sys") == 1
        assert sum(m.id.startswith("langmem-summary-") for m in result.messages) == 1
        assert tokens(result.messages) <= 300
    for request in model.requests:
        assert "Summary of the earlier conversation" not in request.text()


def test_token_counter_can_count_messages() -> None:
    model = scripted("s")
    result = summarize_messages(
        chat(10),
        running_summary=None,
        model=model,
        max_tokens=6,
        max_summary_tokens=1,
        token_counter=len,
    )
    assert len(result.messages) <= 6
    assert model.calls == 1


def test_custom_prompts_are_used() -> None:
    initial = ChatPromptTemplate.from_messages(
        [("placeholder", "{messages}"), ("user", "Summarize, please.")]
    )
    existing = ChatPromptTemplate.from_messages(
        [("placeholder", "{messages}"), ("user", "Old: {existing_summary}. Extend it.")]
    )
    final = ChatPromptTemplate.from_messages(
        [
            ("placeholder", "{system_message}"),
            ("user", "Recap: {summary}"),
            ("placeholder", "{messages}"),
        ]
    )
    settings: dict[str, Any] = {
        "max_tokens": 380,
        "max_summary_tokens": 60,
        "initial_summary_prompt": initial,
        "existing_summary_prompt": existing,
        "final_prompt": final,
    }
    model = scripted("one")
    first = summarize_messages(chat(10, words=10), running_summary=None, model=model, **settings)
    assert model.calls == 1
    assert model.requests[0].messages[-1].content == "Summarize, please."
    assert first.messages[0].content == "Recap: one"
    model = scripted("two")
    summarize_messages(
        chat(20, words=10), running_summary=first.running_summary, model=model, **settings
    )
    assert model.requests[-1].messages[-1].content == "Old: one. Extend it."


def test_a_running_summary_given_as_a_dict_is_accepted() -> None:
    summary = {
        "summary": "old",
        "summarized_message_ids": ["h0", "a0"],
        "last_summarized_message_id": "a0",
    }
    result = summarize_messages(chat(2), running_summary=summary, model=scripted(), max_tokens=500)  # type: ignore[arg-type]
    assert [m.id for m in result.messages][1:] == ["h1", "a1"]
    assert isinstance(result.running_summary, RunningSummary)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"max_tokens": -1}, "max_tokens=-1"),
        ({"max_tokens": 0}, "max_tokens=0"),
        ({"max_tokens": True}, "max_tokens=True"),
        ({"max_tokens": 100, "max_summary_tokens": -5}, "max_summary_tokens=-5"),
        ({"max_tokens": 100, "max_summary_tokens": 100}, "not below max_tokens=100"),
        (
            {"max_tokens": 100, "max_summary_tokens": 10, "max_tokens_before_summary": -1},
            "max_tokens_before_summary=-1",
        ),
        ({"max_tokens": 100, "max_summary_tokens": 10, "token_counter": 3}, "not callable"),
        ({"max_tokens": 100, "max_summary_tokens": 10, "final_prompt": "hi"}, "ChatPromptTemplate"),
    ],
)
def test_bad_budgets_and_settings_are_configuration_errors(
    kwargs: dict[str, Any], words: str
) -> None:
    with pytest.raises(ConfigurationError, match=words) as caught:
        summarize_messages(chat(1), running_summary=None, model=scripted(), **kwargs)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("messages", "words"),
    [
        ("hello", "not a list of messages"),
        ([42], r"messages\[0\]=42 is not a message"),
        ([{"role": "alien", "content": "x"}], r"messages\[0\]"),
        ([RemoveMessage(id="x")], "RemoveMessage"),
        ([{"role": "tool", "content": "42"}], "without 'tool_call_id'"),
        ([HumanMessage("a", id="same"), AIMessage("b", id="same")], "share the id 'same'"),
    ],
)
def test_bad_messages_are_input_errors_that_name_the_message(messages: Any, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        summarize_messages(
            messages, running_summary=None, model=scripted(), max_tokens=100, max_summary_tokens=10
        )


def test_a_bad_running_summary_is_an_input_error() -> None:
    with pytest.raises(InvalidInputError, match="running_summary='text'"):
        summarize_messages(
            chat(1), running_summary="text", model=scripted(), max_tokens=100, max_summary_tokens=10
        )  # type: ignore[arg-type]


def test_a_newest_message_larger_than_the_budget_is_kept_and_reported_not_raised() -> None:
    messages = [*chat(2), HumanMessage("huge " * 2000, id="big")]
    model = scripted()
    settings: dict[str, Any] = {"max_tokens": 500, "max_summary_tokens": 50}
    with pytest.warns(TokenBudgetWarning, match="'big'|big"):
        result = summarize_messages(messages, running_summary=None, model=model, **settings)
    # the question is kept verbatim, what came before is summarized, the overrun is reported
    assert result.messages[-1] is messages[-1]
    assert result.overrun is not None and result.overrun.tokens > result.overrun.budget == 500
    assert result.running_summary is not None
    assert result.running_summary.summarized_message_ids == {"h0", "a0", "h1", "a1"}
    # opt-in: strict=True raises instead, naming the message
    with pytest.raises(TokenBudgetError) as caught:
        summarize_messages(
            messages, running_summary=None, model=scripted(), strict=True, **settings
        )
    assert caught.value.message_id == "big" and "Raise max_tokens" in str(caught.value)


def test_a_message_too_large_for_one_request_is_read_in_parts() -> None:
    big = " ".join(f"w{i}" for i in range(500))
    messages = [HumanMessage(big, id="big"), HumanMessage("ok", id="ok")]
    model = scripted()
    result = summarize_messages(
        messages,
        running_summary=None,
        model=model,
        max_tokens=420,
        max_tokens_before_summary=100,
        max_summary_tokens=20,
    )
    assert model.calls >= 2 and all(tokens(r.messages) <= 420 for r in model.requests)
    read = " ".join(r.text() for r in model.requests)
    assert all(f"w{i} " in read or f"w{i}" == "w499" for i in range(500))
    assert [m.id for m in result.messages][1:] == ["ok"] and result.overrun is None


def test_a_summary_longer_than_its_room_folds_more_messages_in() -> None:
    # the model ignores max_summary_tokens; the output must still fit
    model = scripted(default="long " * 150)
    messages = [
        *chat(6, words=30),
        HumanMessage("q " * 700, id="hq"),
        AIMessage("a " * 400, id="aq"),
    ]
    result = summarize_messages(
        messages, running_summary=None, model=model, max_tokens=700, max_summary_tokens=50
    )
    assert tokens(result.messages) <= 700
    assert model.calls == 2
    assert [m.id for m in result.messages] == ["langmem-summary-0", "aq"]


def test_a_summary_longer_than_its_room_is_reported_and_strict_raises_with_the_work() -> None:
    settings: dict[str, Any] = {"max_tokens": 300, "max_summary_tokens": 50}
    with pytest.warns(TokenBudgetWarning, match="bind an output limit"):
        result = summarize_messages(
            chat(6), running_summary=None, model=scripted(default="long " * 400), **settings
        )
    assert result.overrun is not None and result.running_summary is not None
    with pytest.raises(TokenBudgetError) as caught:
        summarize_messages(
            chat(6),
            running_summary=None,
            model=scripted(default="long " * 400),
            strict=True,
            **settings,
        )
    partial = caught.value.result
    assert isinstance(partial, SummarizationResult)
    assert partial.running_summary is not None
    assert "bind an output limit" in str(caught.value).lower()


def test_an_empty_summary_is_a_model_output_error() -> None:
    with pytest.raises(ModelOutputError, match="empty summary"):
        summarize_messages(
            chat(10),
            running_summary=None,
            model=scripted("  "),
            max_tokens=300,
            max_summary_tokens=60,
        )


def test_a_model_string_is_resolved_only_when_a_summary_is_needed() -> None:
    result = summarize_messages(
        chat(1), running_summary=None, model="openai:gpt-4o-mini", max_tokens=500
    )
    assert len(result.messages) == 2


async def test_sync_and_async_send_the_same_requests_and_return_the_same_result() -> None:
    messages = [SystemMessage("sys", id="s"), *chat(40, words=12)]
    sync_model = scripted(default="sum " * 10)
    async_model = scripted(default="sum " * 10)
    settings: dict[str, Any] = {
        "max_tokens": 400,
        "max_summary_tokens": 40,
        "running_summary": None,
    }
    sync_result = summarize_messages(messages, model=sync_model, **settings)
    async_result = await asummarize_messages(messages, model=async_model, **settings)
    assert [r.messages for r in sync_model.requests] == [r.messages for r in async_model.requests]
    assert sync_result == async_result
    assert sync_model.calls >= 2


def test_the_summary_call_is_kept_out_of_message_streams() -> None:
    from langgraph.constants import TAG_NOSTREAM

    seen: list[Any] = []

    class Spy(ScriptedChatModel):
        def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
            # called as upstream does, with the input only: the tag comes through the context
            assert config is None
            seen.append(ensure_config())
            return super().invoke(input, config, **kwargs)

    summarize_messages(
        chat(10),
        running_summary=None,
        model=Spy(default="s"),
        max_tokens=300,
        max_summary_tokens=60,
    )
    assert seen and all(TAG_NOSTREAM in c["tags"] for c in seen)


def test_results_whose_call_an_earlier_summary_took_are_not_kept_first() -> None:
    # a summary made elsewhere covered the call but not its result
    earlier = RunningSummary("earlier", {"x0", "y0"}, "y0")
    messages = [
        HumanMessage("find " * 30, id="x0"),
        AIMessage("", tool_calls=[{"name": "f", "args": {}, "id": "c"}], id="y0"),
        ToolMessage("result " * 60, tool_call_id="c", id="t0"),
        *chat(6, words=20),
    ]
    model = scripted("later")
    result = summarize_messages(
        messages, running_summary=earlier, model=model, max_tokens=300, max_summary_tokens=40
    )
    kept = [m for m in result.messages if not isinstance(m, SystemMessage)]
    assert not isinstance(kept[0], ToolMessage)
    assert "t0" in result.running_summary.summarized_message_ids  # type: ignore[union-attr]


def test_a_system_message_that_leaves_no_room_still_returns_the_current_turn() -> None:
    messages = [SystemMessage("rules " * 200, id="s"), *chat(3), HumanMessage("q", id="q")]
    settings: dict[str, Any] = {"max_tokens": 250, "max_summary_tokens": 60}
    with pytest.warns(TokenBudgetWarning):
        result = summarize_messages(messages, running_summary=None, model=scripted(), **settings)
    assert [m.id for m in result.messages][::2] == ["s", "q"]
    assert result.overrun is not None and result.overrun.budget == 250
    with pytest.raises(TokenBudgetError) as caught:
        summarize_messages(
            messages, running_summary=None, model=scripted(), strict=True, **settings
        )
    assert caught.value.tokens > caught.value.budget


def test_only_messages_the_summary_covers_are_dropped_wherever_they_are() -> None:
    messages = [
        SystemMessage("sys", id="s"),
        HumanMessage("a", id="a"),
        HumanMessage("x", id="x"),  # not covered although older than the last covered one
        HumanMessage("b", id="b"),
        HumanMessage("y", id="y"),
    ]
    parsed = _plan.parse(messages, {"a", "b"}, "sum", "b")
    assert [m.id for m in parsed.system] == ["s"]
    assert [[m.id for m in u.messages] for u in parsed.units] == [["x"], ["y"]]
    fast = _plan.parse([messages[0], messages[1], messages[3], messages[4]], {"a", "b"}, "sum", "b")
    assert [[m.id for m in u.messages] for u in fast.units] == [["y"]]


def test_an_old_message_longer_than_a_request_is_read_in_parts() -> None:
    long_text = " ".join(f"fact{i}" for i in range(400))  # about 600 tokens
    messages = [HumanMessage(long_text, id="long"), *chat(3, words=10)]
    model = scripted(default="s " * 30)
    result = summarize_messages(
        messages, running_summary=None, model=model, max_tokens=300, max_summary_tokens=60
    )
    assert model.calls >= 3
    assert all(tokens(r.messages) <= 300 for r in model.requests)
    sent = " ".join(r.messages[-1].content for r in model.requests)
    assert all(
        f"fact{i} " in sent or sent.endswith(f"fact{i}") or f"fact{i}\n" in sent for i in range(400)
    )
    assert "[...continued] " in sent and "continued in the next transcript" in sent
    assert result.running_summary is not None
    assert "long" in result.running_summary.summarized_message_ids
    assert tokens(result.messages) <= 300


def test_the_manuals_small_budget_keeps_a_chat_going() -> None:
    # max_tokens=256, max_tokens_before_summary=256, max_summary_tokens=128, as in the manual
    model = scripted(default="summary " * 40)
    history: list[Any] = []
    summary = None
    for turn in range(40):
        history.append(HumanMessage(f"question {turn} " + "word " * (turn % 7 * 6)))
        result = summarize_messages(
            history,
            running_summary=summary,
            model=model,
            max_tokens=256,
            # a hard cap: summarize before the new messages plus the summary could pass 256
            max_tokens_before_summary=256 - 128,
            max_summary_tokens=128,
        )
        summary = result.running_summary
        assert tokens(result.messages) <= 256
        assert result.messages[-1].content == history[-1].content
        history.append(AIMessage(f"answer {turn} " + "word " * (turn % 5 * 25)))
    assert all(tokens(r.messages) <= 256 for r in model.requests)


def test_openai_style_dicts_with_tool_calls_keep_calls_with_results() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "weather in Paris? " * 20},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny " * 50},
        {"role": "assistant", "content": "It is sunny. " * 10},
        {"role": "user", "content": "and tomorrow?"},
    ]
    model = scripted("asked about Paris weather")
    result = summarize_messages(
        messages, running_summary=None, model=model, max_tokens=200, max_summary_tokens=30
    )
    # as upstream: the threshold is reached at the last answer, the question is kept
    assert [m.type for m in result.messages] == ["system", "human"]
    sent = "".join(r.text() for r in model.requests)
    assert "weather({}) [c1]" in sent and "tool result weather [c1]: sunny" in sent
    assert tokens(result.messages) <= 200


def test_a_new_message_repeating_a_covered_one_is_not_taken_for_it() -> None:
    model = scripted(default="summary")
    settings: dict[str, Any] = {"model": model, "max_tokens": 150, "max_summary_tokens": 30}
    first = summarize_messages(
        [{"role": "user", "content": "ok " * 40}, *chat(4, words=10)],
        running_summary=None,
        **settings,
    )
    assert first.running_summary is not None
    (covered_id,) = [
        i for i in first.running_summary.summarized_message_ids if i.startswith("msg-")
    ]
    # the caller keeps our messages (with the ids we gave) and repeats the first text, id-less
    history = [HumanMessage("ok " * 40, id=covered_id), *chat(4, words=10)]
    again = summarize_messages(
        [*history, {"role": "user", "content": "ok " * 40}],
        running_summary=first.running_summary,
        **settings,
    )
    assert again.messages[-1].content == "ok " * 40
    assert again.messages[-1].id != covered_id


def test_covered_ids_are_not_reused_when_the_covered_run_is_interrupted() -> None:
    # a covered message, an uncovered one, then an id-less repeat of the covered text
    covered = HumanMessage(
        "same text",
        id=_plan.parse([{"role": "user", "content": "same text"}], set()).units[0].first_id,
    )
    messages = [covered, HumanMessage("new", id="n"), {"role": "user", "content": "same text"}]
    parsed = _plan.parse(messages, {str(covered.id)}, "sum", "elsewhere")
    ids = [u.first_id for u in parsed.units]
    assert ids[0] == "n" and ids[1] != covered.id and len(ids) == 2
