"""Summarization scenarios, run the same way for upstream langmem 0.0.30 and for ours.

Run as a script (with upstream's Python, by ``bench/summarization.py``) it measures upstream and
prints one JSON object. ``bench/summarization.py`` imports the same functions to measure ours, so
both sides see the same conversations, the same recording chat model (our ScriptedChatModel,
loaded by path) and the same checker (``tests/short_term/_guarantees.py``, loaded by path).

Scenarios:

- ``backlog``: one call on a 2,000-message conversation with parallel tool calls;
- ``turns``: a 200-turn conversation summarized turn by turn, the running summary carried over;
- ``agent``: the user turns of ``turns`` through ``create_react_agent(pre_model_hook=
  SummarizationNode(...))`` with the default agent state, a checkpointer and one thread;
- ``guarantees``: the five guarantees checked on N generated conversations.

Every message carries a unique marker, so "read by the summarizing model" is decided from the
recorded requests. Library time is wall time minus the time spent inside ``model.invoke``
(median of 5 runs; for ``agent``, LangGraph's time is in it too, the same code on both sides).
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from _upstream import load_scripted_model  # noqa: E402

REPEATS = 5  # library times are the median of this many runs
BACKLOG = {"max_tokens": 2000}  # upstream's default max_summary_tokens=256
TURN_CONFIGS = {
    "default": {"max_tokens": 2000, "max_summary_tokens": 256},
    "balanced": {"max_tokens": 1024, "max_tokens_before_summary": 1536, "max_summary_tokens": 256},
}
SUMMARY_TAG = re.compile(r"\[\[s(\d+)\]\]")
WORDS = [
    *("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta"),
    *("kappa", "lambda", "sigma", "omega", "river", "stone"),
]


def load_guarantees() -> ModuleType:
    """The checker shared with the property tests (needs only langchain-core)."""
    path = REPO / "tests" / "short_term" / "_guarantees.py"
    spec = importlib.util.spec_from_file_location("langmem_bench_guarantees", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def timed_model(scripted: ModuleType, default: Any) -> Any:
    """A ScriptedChatModel that also adds up the seconds spent inside ``invoke``."""

    class Timed(scripted.ScriptedChatModel):  # type: ignore[misc,name-defined]
        model_seconds: float = 0.0

        def invoke(self, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return super().invoke(*args, **kwargs)
            finally:
                self.model_seconds += time.perf_counter() - start

        async def ainvoke(self, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await super().ainvoke(*args, **kwargs)
            finally:
                self.model_seconds += time.perf_counter() - start

    return Timed(default=default)


def summary_reply(words: int) -> Callable[[Any], str]:
    return lambda request: "summary " * words


def conversation(turns: int, seed: int = 0, system: bool = True) -> list[Any]:
    """Turns of: a question, sometimes 1-3 parallel tool calls with results, an answer."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    rng = random.Random(seed)
    counter = iter(range(1, 10_000_000))

    def text(low: int, high: int) -> str:
        return f"<<m{next(counter)}>> " + " ".join(
            rng.choice(WORDS) for _ in range(rng.randint(low, high))
        )

    messages: list[Any] = []
    if system:
        messages.append(SystemMessage(text(10, 20)))
    for _ in range(turns):
        messages.append(HumanMessage(text(5, 50)))
        for _step in range(rng.choice((0, 0, 1, 1, 2))):
            calls = [
                {"name": "search", "args": {"q": rng.choice(WORDS)}, "id": f"c{next(counter)}"}
                for _ in range(rng.randint(1, 3))
            ]
            messages.append(AIMessage(text(1, 3), tool_calls=calls))
            messages += [ToolMessage(text(20, 120), tool_call_id=c["id"]) for c in calls]
        messages.append(AIMessage(text(10, 90)))
    for index, message in enumerate(messages):
        message.id = f"id{index}"
    return messages


def _read(requests: list[Any], guarantees: ModuleType) -> set[int]:
    found: set[int] = set()
    for request in requests:
        found |= guarantees.markers(request.text())
    return found


def _tokens(messages: list[Any]) -> int:
    from langchain_core.messages.utils import count_tokens_approximately

    return count_tokens_approximately(messages)


def backlog(summarize: Callable[..., Any], scripted: ModuleType) -> dict[str, Any]:
    """One call on a 2,000-message conversation."""
    guarantees = load_guarantees()
    messages = conversation(800, seed=1)
    while len(messages) > 2000:
        messages.pop()
    model = timed_model(scripted, summary_reply(150))
    start = time.perf_counter()
    error = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = summarize(messages, running_summary=None, model=model, **BACKLOG)
    except Exception as exc:  # measured, not hidden
        error, result, caught = repr(exc), None, []
    elapsed = time.perf_counter() - start
    read = _read(model.requests, guarantees)
    kept: set[int] = set()
    for message in result.messages if result else []:
        kept |= guarantees.markers(str(message.content))
    every = {guarantees.message_marker(m) for m in messages}
    claimed = (
        set(result.running_summary.summarized_message_ids)
        if result and result.running_summary
        else set()
    )
    by_id = {str(m.id): guarantees.message_marker(m) for m in messages}
    return {
        "messages": len(messages),
        "conversation_tokens": _tokens(messages),
        "error": error,
        "warnings": len(caught),
        "calls": len(model.requests),
        "tokens_sent": sum(_tokens(r.messages) for r in model.requests),
        "largest_request": max((_tokens(r.messages) for r in model.requests), default=0),
        "output_tokens": _tokens(result.messages) if result else None,
        "marked_summarized": len(claimed),
        "marked_but_unread": len({by_id[i] for i in claimed if i in by_id} - read),
        "lost": len(every - read - kept),
        "library_seconds": elapsed - model.model_seconds,
    }


def turns(
    summarize: Callable[..., Any], scripted: ModuleType, config: dict[str, Any]
) -> dict[str, Any]:
    """200 turns; each turn summarizes the whole history with the running summary so far."""
    guarantees = load_guarantees()
    messages = conversation(200, seed=2)
    ends = [i + 1 for i, m in enumerate(messages) if m.type == "ai" and not m.tool_calls]
    model = timed_model(scripted, summary_reply(int(config["max_summary_tokens"] * 0.35)))
    summary = None
    elapsed = 0.0
    largest_output = 0
    over_budget = 0
    kept: set[int] = set()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for end in ends:
            start = time.perf_counter()
            result = summarize(messages[:end], running_summary=summary, model=model, **config)
            elapsed += time.perf_counter() - start
            summary = result.running_summary
            size = _tokens(result.messages)
            largest_output = max(largest_output, size)
            over_budget += size > max(
                config["max_tokens"], config.get("max_tokens_before_summary") or 0
            )
            kept = set()
            for message in result.messages:
                kept |= guarantees.markers(str(message.content))
    read = _read(model.requests, guarantees)
    every = {guarantees.message_marker(m) for m in messages}
    read_tokens = sum(_tokens([m]) for m in messages if guarantees.message_marker(m) in read)
    return {
        "turns": len(ends),
        "conversation_tokens": _tokens(messages),
        "calls": len(model.requests),
        "tokens_sent": sum(_tokens(r.messages) for r in model.requests),
        "conversation_tokens_read": read_tokens,
        "largest_request": max((_tokens(r.messages) for r in model.requests), default=0),
        "largest_output": largest_output,
        "turns_over_budget": over_budget,
        "lost": len(every - read - kept),
        "warnings": len(caught),
        "library_seconds": elapsed - model.model_seconds,
    }


HUGE_TOOL = {"max_tokens": 2000, "max_summary_tokens": 256}


def huge_tool(summarize: Callable[..., Any], scripted: ModuleType) -> dict[str, Any]:
    """30 turns summarized turn by turn; one tool result (turn 15) is 10x ``max_tokens``."""
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    guarantees = load_guarantees()
    messages = conversation(30, seed=3)
    ends = [i + 1 for i, m in enumerate(messages) if m.type == "ai" and not m.tool_calls]
    words = " ".join(WORDS[i % len(WORDS)] + str(i) for i in range(HUGE_TOOL["max_tokens"] * 4))
    cut = ends[14]
    page = [
        HumanMessage("<<m900001>> please read the page", id="page-h"),
        AIMessage(
            "<<m900002>> fetching",
            tool_calls=[{"name": "fetch", "args": {}, "id": "page"}],
            id="page-a",
        ),
        ToolMessage("<<m900003>> " + words, tool_call_id="page", id="page-t"),
        AIMessage("<<m900004>> read it", id="page-r"),
    ]
    messages = [*messages[:cut], *page, *messages[cut:]]
    ends = [i + 1 for i, m in enumerate(messages) if m.type == "ai" and not m.tool_calls]
    ends.insert(ends.index(cut + 4), cut + 3)  # the turn that ends with the huge result
    model = timed_model(scripted, summary_reply(int(HUGE_TOOL["max_summary_tokens"] * 0.35)))
    summary = None
    raised: list[str] = []
    kept: set[int] = set()
    over = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for end in ends:
            try:
                result = summarize(
                    messages[:end], running_summary=summary, model=model, **HUGE_TOOL
                )
            except Exception as exc:  # measured, not hidden
                raised.append(f"turn ending at {end}: {exc!r}"[:160])
                continue
            summary = result.running_summary
            over += _tokens(result.messages) > HUGE_TOOL["max_tokens"]
            kept = set()
            for message in result.messages:
                kept |= guarantees.markers(str(message.content))
    read = _read(model.requests, guarantees)
    every = {guarantees.message_marker(m) for m in messages}
    return {
        "turns": len(ends),
        "huge_result_tokens": _tokens([page[2]]),
        "turns_that_raised": len(raised),
        "first_error": raised[0] if raised else "",
        "calls": len(model.requests),
        "tokens_sent": sum(_tokens(r.messages) for r in model.requests),
        "largest_request": max((_tokens(r.messages) for r in model.requests), default=0),
        "turns_over_budget": over,
        "huge_result_read": 900003 in read,
        "lost": len(every - read - kept),
        "warnings": len(caught),
    }


def agent(node_class: type, scripted: ModuleType) -> dict[str, Any]:
    """200 turns through ``create_react_agent(pre_model_hook=SummarizationNode(...))``.

    The usage pattern of the LangGraph docs, as most users write it: the agent's default state
    schema (no ``context`` key), an ``InMemorySaver`` checkpointer, one thread. The user turns
    are those of :func:`turns`; the agent model (scripted, no tools) answers each with that
    turn's final assistant text, so the tool calls of the generated conversation are left out.
    """
    from langchain_core.messages import AIMessage, HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.prebuilt import create_react_agent

    guarantees = load_guarantees()
    generated = conversation(200, seed=2)
    system = [m for m in generated if m.type == "system"]
    questions = [m for m in generated if isinstance(m, HumanMessage)]
    answers = [m for m in generated if isinstance(m, AIMessage) and not m.tool_calls]
    config = TURN_CONFIGS["default"]
    words = int(config["max_summary_tokens"] * 0.35)
    tags = iter(range(1, 10_000))
    # each summary starts with its own tag ([[sN]], not a message marker), so the requests show
    # which summary a call built on and the agent inputs show which summary they carried
    summarizer = timed_model(scripted, lambda request: f"[[s{next(tags)}]] " + "summary " * words)
    answerer = timed_model(scripted, None)
    answerer.queue(*answers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # create_react_agent, since 1.0
        graph = create_react_agent(
            answerer,
            tools=[],
            pre_model_hook=node_class(
                model=summarizer, **config, output_messages_key="llm_input_messages"
            ),
            checkpointer=InMemorySaver(),
        )
    thread = {"configurable": {"thread_id": "bench"}}
    elapsed = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index, question in enumerate(questions):
            turn = [*system, question] if index == 0 else [question]
            start = time.perf_counter()
            graph.invoke({"messages": turn}, thread)
            elapsed += time.perf_counter() - start
    state = graph.get_state(thread).values
    history = state["messages"]
    # a message is sent again when an earlier request to the summarizer already carried it
    seen: set[int] = set()
    resent = requests_resending = 0
    for request in summarizer.requests:
        found = guarantees.markers(request.text())
        resent += len(found & seen)
        requests_resending += bool(found & seen)
        seen |= found
    # the conversation behind the last agent input: its messages, plus every message read by
    # the call that wrote its summary, by the call that wrote the summary that call built on...
    covered: dict[str, set[int]] = {}
    built_on = 0
    for number, request in enumerate(summarizer.requests, 1):
        earlier = SUMMARY_TAG.findall(request.text())
        built_on += bool(earlier)
        covered[str(number)] = guarantees.markers(request.text()).union(
            *(covered.get(tag, set()) for tag in earlier)
        )
    last_input = answerer.requests[-1].text()
    kept = guarantees.markers(last_input)
    behind = kept.union(*(covered.get(tag, set()) for tag in SUMMARY_TAG.findall(last_input)))
    read = _read(summarizer.requests, guarantees)
    # every message but the last answer, which no request could have carried
    every = {guarantees.message_marker(m) for m in history[:-1]}
    agent_sizes = [_tokens(r.messages) for r in answerer.requests]
    return {
        "turns": len(answerer.requests),
        "messages": len(history),
        "conversation_tokens": _tokens(history),
        "summary_in_state": "context" in state,
        "calls": len(summarizer.requests),
        "tokens_sent": sum(_tokens(r.messages) for r in summarizer.requests),
        "conversation_tokens_read": sum(
            _tokens([m]) for m in history if guarantees.message_marker(m) in read
        ),
        "calls_building_on_a_summary": built_on,
        "messages_sent_again": resent,
        "calls_sending_again": requests_resending,
        "messages_behind_last_input": len(behind & every),
        "largest_request": max((_tokens(r.messages) for r in summarizer.requests), default=0),
        "largest_agent_input": max(agent_sizes),
        "agent_inputs_over_budget": sum(size > config["max_tokens"] for size in agent_sizes),
        "lost": len(every - read - kept),
        "warnings": len(caught),
        "library_seconds": elapsed - summarizer.model_seconds - answerer.model_seconds,
    }


def guarantees(
    summarize: Callable[..., Any], scripted: ModuleType, budget_error: type, count: int
) -> dict[str, Any]:
    """How many generated conversations break each guarantee."""
    checker = load_guarantees()
    violations: Counter[str] = Counter()
    examples: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index in range(count):
            case = checker.random_case(random.Random(index))
            found = checker.summarize_case(
                case,
                summarize,
                lambda words: scripted.ScriptedChatModel(default=checker.summary_reply(words)),
                budget_error,
            )
            for name, problems in found.items():
                if problems:
                    violations[name] += 1
                    examples.setdefault(name, f"case {index}: {problems[0]}")
    return {
        "conversations": count,
        "violations": {name: violations[name] for name in checker.GUARANTEES},
        "examples": examples,
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The first run, with the median library time of all runs (the rest is deterministic)."""
    times = sorted(run["library_seconds"] for run in runs)
    return {**runs[0], "library_seconds": times[len(times) // 2]}


def run_all(
    summarize: Callable[..., Any], node_class: type, budget_error: type, count: int
) -> dict[str, Any]:
    scripted = load_scripted_model()
    return {
        "backlog": median_of([backlog(summarize, scripted) for _ in range(REPEATS)]),
        "turns": {
            name: median_of([turns(summarize, scripted, cfg) for _ in range(REPEATS)])
            for name, cfg in TURN_CONFIGS.items()
        },
        "agent": median_of([agent(node_class, scripted) for _ in range(REPEATS)]),
        "huge_tool": huge_tool(summarize, scripted),
        "guarantees": guarantees(summarize, scripted, budget_error, count),
    }


class _NoBudgetError(Exception):
    """Upstream has no error that says a budget cannot be met."""


if __name__ == "__main__":
    from langmem.short_term import SummarizationNode, summarize_messages

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    print(json.dumps(run_all(summarize_messages, SummarizationNode, _NoBudgetError, count)))
