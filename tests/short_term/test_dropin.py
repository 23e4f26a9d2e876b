"""Drop-in behaviour: model objects called like upstream, id-less histories, budgets, recovery."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.config import ensure_config

from langmem.short_term import RunningSummary, asummarize_messages, summarize_messages
from langmem.short_term.summarization import TokenBudgetWarning
from langmem.testing import ScriptedChatModel


class InputOnlyModel:
    """A hand-written model wrapper: ``invoke``/``ainvoke`` take the input and nothing else."""

    def __init__(self) -> None:
        self.calls: list[list[BaseMessage]] = []

    def invoke(self, input: list[BaseMessage]) -> AIMessage:
        self.calls.append(input)
        return AIMessage(f"summary #{len(self.calls)}")

    async def ainvoke(self, input: list[BaseMessage]) -> AIMessage:
        return self.invoke(input)


def turns(count: int, start: int = 0) -> list[BaseMessage]:
    out: list[BaseMessage] = []
    for i in range(start, start + count):
        out += [HumanMessage(f"Message {i}", id=f"h{i}"), AIMessage(f"Response {i}", id=f"a{i}")]
    return out


async def test_a_model_whose_invoke_takes_only_the_input_works_sync_and_async() -> None:
    settings: dict[str, Any] = {"max_tokens": 6, "max_summary_tokens": 1, "token_counter": len}
    messages = [*turns(3), HumanMessage("latest", id="z")]
    model = InputOnlyModel()
    result = summarize_messages(messages, running_summary=None, model=model, **settings)  # type: ignore[arg-type]
    again = await asummarize_messages(
        messages,
        running_summary=None,
        model=model,  # type: ignore[arg-type]
        **settings,
    )
    assert len(model.calls) == 2 and model.calls[0] == model.calls[1]
    assert result.running_summary is not None and result.running_summary.summary == "summary #1"
    assert again.running_summary is not None and again.running_summary.summary == "summary #2"
    assert result.messages[1:] == again.messages[1:]


def test_config_still_reaches_a_runnable_through_the_runnable_context() -> None:
    seen: list[Any] = []

    def summarizer(messages: Any) -> AIMessage:
        seen.append(ensure_config())
        return AIMessage("short")

    outer = RunnableLambda(
        lambda messages: summarize_messages(
            messages,
            running_summary=None,
            model=RunnableLambda(summarizer),
            max_tokens=6,
            max_summary_tokens=1,
            token_counter=len,
        )
    )
    outer.invoke([*turns(3), HumanMessage("q", id="q")], {"metadata": {"user": "ada"}})
    assert seen and seen[0]["metadata"].get("user") == "ada"
    assert "nostream" in seen[0]["tags"]


def test_len_counts_messages_and_zero_summary_tokens_is_accepted() -> None:
    # upstream's "summarize every N messages": max_tokens=6, one message kept for the summary
    messages = [*turns(3), *turns(1, start=3), HumanMessage("latest", id="z")]
    model = ScriptedChatModel(default="s")
    result = summarize_messages(
        messages,
        running_summary=None,
        model=model,
        max_tokens=6,
        max_summary_tokens=1,
        token_counter=len,
    )
    assert [m.id for m in result.messages[1:]] == ["h3", "a3", "z"]
    assert result.overrun is None and model.calls == 1
    zero = summarize_messages(
        [*turns(20), HumanMessage("end", id="end")],
        running_summary=None,
        model=ScriptedChatModel(default="s"),
        max_tokens=22,
        max_summary_tokens=0,
        token_counter=len,
    )
    assert len(zero.messages) == 20  # summary of the first 22 + the last 19, as upstream


def test_reusing_a_summarized_id_for_a_new_message_is_a_value_error_naming_it() -> None:
    settings: dict[str, Any] = {"max_tokens": 2, "max_summary_tokens": 1, "token_counter": len}
    first = summarize_messages(
        turns(2), running_summary=None, model=ScriptedChatModel(default="s"), **settings
    )
    assert first.running_summary is not None
    with pytest.raises(ValueError, match="Message with ID h0 has already been summarized"):
        summarize_messages(
            [*turns(2), HumanMessage("again", id="h0")],
            running_summary=first.running_summary,
            model=ScriptedChatModel(default="s"),
            **{**settings, "max_tokens": 5},
        )


def _chat(texts: list[str]) -> list[dict[str, str]]:
    return [
        {"role": "user" if i % 2 == 0 else "assistant", "content": text}
        for i, text in enumerate(texts)
    ]


SETTINGS: dict[str, Any] = {"max_tokens": 4, "max_summary_tokens": 1, "token_counter": len}


def test_id_less_full_history_never_confuses_a_new_message_with_a_covered_one() -> None:
    history = _chat(["hi", "hello", "yes", "ok", "tell me more", "sure"])
    model = ScriptedChatModel(default="summary")
    first = summarize_messages(history, running_summary=None, model=model, **SETTINGS)
    assert first.running_summary is not None
    assert "yes" not in [m.content for m in first.messages]  # "yes" was summarized
    # the user says "yes" again: a new message at a new place, never taken for the old one
    history += [{"role": "user", "content": "yes"}]
    second = summarize_messages(
        history, running_summary=first.running_summary, model=model, **SETTINGS
    )
    assert second.messages[-1].content == "yes"
    again = summarize_messages(history, running_summary=None, model=model, **SETTINGS)
    assert [m.id for m in again.messages[1:]] == [m.id for m in second.messages[1:]]


def test_id_less_trimmed_history_never_confuses_a_new_message_with_a_covered_one() -> None:
    # the app passes what the last call returned, plus the new turn (all id-less as it wrote)
    model = ScriptedChatModel(default="summary")
    first = summarize_messages(
        _chat(["hi", "hello", "yes", "ok", "tell me more", "sure"]),
        running_summary=None,
        model=model,
        **SETTINGS,
    )
    assert first.running_summary is not None
    covered = set(first.running_summary.summarized_message_ids)
    recent = [*first.messages, HumanMessage("yes")]
    second = summarize_messages(
        recent, running_summary=first.running_summary, model=model, **SETTINGS
    )
    assert second.messages[-1].content == "yes"
    assert second.messages[-1].id not in covered


def test_an_id_less_history_that_fits_no_style_is_treated_as_new_with_a_warning() -> None:
    model = ScriptedChatModel(default="summary")
    first = summarize_messages(
        _chat(["yes", "a", "b", "c", "d", "e"]), running_summary=None, model=model, **SETTINGS
    )
    assert first.running_summary is not None
    # the app kept only its own last raw messages, without the summary: positions restart
    with pytest.warns(RuntimeWarning, match="do not line up"):
        second = summarize_messages(
            _chat(["yes", "f"]), running_summary=first.running_summary, model=model, **SETTINGS
        )
    assert [m.content for m in second.messages[1:]] == ["yes", "f"]


def test_a_summary_checkpointed_by_the_previous_version_still_works() -> None:
    # written before last_summarized_position existed, with content-hash ids for id-less messages
    from langmem.short_term._plan import _content_hash

    old_id = f"msg-{_content_hash(HumanMessage('hi'))}-0"
    old = RunningSummary("they said hi", {old_id}, old_id)
    result = summarize_messages(
        _chat(["hi", "hello there"]),
        running_summary=old,
        model=ScriptedChatModel(default="s"),
        max_tokens=100,
        max_summary_tokens=20,
    )
    assert [m.content for m in result.messages[1:]] == ["hello there"]
    as_dict = {"summary": "x", "summarized_message_ids": ["a"], "last_summarized_message_id": "a"}
    again = summarize_messages(
        [HumanMessage("q", id="b")],
        running_summary=as_dict,
        model=ScriptedChatModel(),
        max_tokens=50,
        max_summary_tokens=5,
    )  # type: ignore[arg-type]
    assert (
        again.running_summary is not None and again.running_summary.last_summarized_position is None
    )


def test_a_tool_result_ten_times_the_budget_is_read_in_parts_and_the_next_turn_recovers() -> None:
    from langchain_core.messages import ToolMessage

    page = " ".join(f"word{i}" for i in range(8000))  # about 10x max_tokens
    messages: list[Any] = [
        SystemMessage("You browse the web.", id="sys"),
        HumanMessage("Summarize this page", id="h0"),
        AIMessage("", tool_calls=[{"name": "fetch", "args": {}, "id": "c1"}], id="a0"),
        ToolMessage(page, tool_call_id="c1", id="t0"),
    ]
    model = ScriptedChatModel(default="the page lists words")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to report: parts fit the budget
        result = summarize_messages(
            messages, running_summary=None, model=model, max_tokens=2000, max_summary_tokens=200
        )
    assert 9 <= model.calls <= 16
    assert all(r.text().count("word") < 2000 for r in model.requests)
    read = " ".join(r.text() for r in model.requests)
    assert "word0 " in read and "word7999" in read
    assert (
        result.running_summary is not None and "t0" in result.running_summary.summarized_message_ids
    )
    nxt = [*messages, AIMessage("It lists words.", id="a1"), HumanMessage("thanks", id="h1")]
    after = summarize_messages(
        nxt,
        running_summary=result.running_summary,
        model=model,
        max_tokens=2000,
        max_summary_tokens=200,
    )
    assert after.overrun is None and after.messages[-1].id == "h1"


def test_a_huge_newest_human_message_is_kept_and_the_next_turn_recovers() -> None:
    settings: dict[str, Any] = {"max_tokens": 300, "max_summary_tokens": 50}
    model = ScriptedChatModel(default="summary")
    messages: list[Any] = [*turns(3), HumanMessage("please read " * 400, id="big")]
    with pytest.warns(TokenBudgetWarning):
        first = summarize_messages(messages, running_summary=None, model=model, **settings)
    assert first.messages[-1].id == "big" and first.overrun is not None
    messages += [AIMessage("done", id="ans"), HumanMessage("next?", id="next")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = summarize_messages(
            messages, running_summary=first.running_summary, model=model, **settings
        )
    assert second.overrun is None and second.messages[-1].id == "next"
    assert second.running_summary is not None
    assert "big" in second.running_summary.summarized_message_ids


def test_the_previous_output_fed_back_as_plain_dicts_is_recognised() -> None:
    # an app that stores role/content dicts (ids dropped), system message first
    chat = [{"role": "system", "content": "be brief"}, *_chat([f"m{i}" for i in range(8)])]
    settings: dict[str, Any] = {"max_tokens": 5, "max_summary_tokens": 1, "token_counter": len}
    first = summarize_messages(
        chat, running_summary=None, model=ScriptedChatModel(default="sum"), **settings
    )
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    stored = [{"role": roles[m.type], "content": m.content} for m in first.messages]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # lines up: no warning, the summary is not re-read
        second = summarize_messages(
            [*stored, *_chat(["m0", "again", "m0"])],
            running_summary=first.running_summary,
            model=ScriptedChatModel(default="sum2"),
            **settings,
        )
    assert second.running_summary is not None
    assert second.messages[-1].content == "m0"
    assert [m.content for m in second.messages].count(
        "Summary of the earlier conversation:\nsum"
    ) <= 1
