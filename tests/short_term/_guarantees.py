"""Random conversations and an independent checker of the summarization guarantees.

Shared by the property tests (driven by hypothesis) and by ``bench/summarization.py``, which
loads this file by path in both virtual envs (ours and upstream langmem 0.0.30), so it only needs
``langchain_core``. Every message carries a unique marker (``<<m12>>``) in its text, so whether
the summarizing model read a message is decided from the recorded requests, whatever format the
library sends them in.

Guarantees (one counter each):

- ``pairs``: an AI message with tool calls is never separated from its tool results, in the
  output or in what one request to the summarizing model holds;
- ``budget``: after summarizing, the output fits ``max_tokens`` and so does every request; a
  refusal only happens, with a clear error, when the newest message or a tool call with its
  results really is larger than the budget (a long plain message is read in parts);
- ``loss``: every message is in the output or was read by the summarizing model, and the running
  summary claims only (and all) the messages that were read;
- ``redo``: a conversation that grows by one message and stays under the threshold makes no
  call; one that crosses it never re-sends what the summary already covers;
- ``no_human``: a window without human messages works (no crash, no oversized request).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately

GUARANTEES = ("pairs", "budget", "loss", "redo", "no_human")
MARKER = re.compile(r"<<m(\d+)>>")
WORDS = [
    *("tea", "coffee", "river", "mountain", "python", "budget", "invoice", "station"),
    *("orbit", "garden", "lamp", "cable", "window", "harbor", "ticket", "violin"),
    *("marble", "pepper", "forest", "signal"),
]


@dataclass
class Case:
    """One generated conversation and the budgets to summarize it with."""

    messages: list[BaseMessage]
    max_tokens: int
    max_tokens_before_summary: int | None
    max_summary_tokens: int
    first_cut: int  # the first call sees messages[:first_cut]
    no_human: bool  # the newest part of the conversation holds no human message
    extra: BaseMessage = field(default_factory=lambda: HumanMessage("ok"))


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def random_case(rng: random.Random, *, huge: float = 0.03) -> Case:
    """A random conversation: system, human, AI with 0..3 parallel tool calls, list content."""
    counter = iter(range(1, 1_000_000))
    messages: list[BaseMessage] = []

    def mark() -> str:
        return f"<<m{next(counter)}>>"

    def content(text: str) -> Any:
        if rng.random() < 0.15:
            return [{"type": "text", "text": text}]
        return text

    if rng.random() < 0.6:
        messages.append(SystemMessage(f"{mark()} You are helpful. {_text(rng, 3, 30)}"))
    scale = rng.choice((10, 30, 60))
    turns = rng.randint(1, 30)
    no_human = rng.random() < 0.2
    for turn in range(turns):
        if not (no_human and turn > 0):
            messages.append(HumanMessage(content(f"{mark()} {_text(rng, 1, scale)}")))
        for _step in range(rng.choice((0, 0, 1, 1, 2, 4)) + (3 if no_human else 0)):
            calls = []
            for _ in range(rng.choice((1, 1, 2, 3))):
                number = next(counter)
                calls.append(
                    {
                        "name": rng.choice(("search", "lookup", "fetch")),
                        "args": {"q": _text(rng, 1, 4)},
                        "id": f"call_{number}",
                        "type": "tool_call",
                    }
                )
            messages.append(AIMessage(content=f"{mark()} working", tool_calls=calls))
            results = [
                ToolMessage(
                    content=content(f"{mark()} {_text(rng, 1, scale * 2)}"),
                    tool_call_id=call["id"],
                    name=call["name"],
                )
                for call in calls
            ]
            rng.shuffle(results)
            messages.extend(results)
        if rng.random() < 0.9 or turn == turns - 1:
            messages.append(AIMessage(content(f"{mark()} {_text(rng, 1, scale)}")))
    largest = max(unit_tokens(messages))
    if rng.random() < huge:  # one message far larger than the budget will be
        index = rng.randrange(len(messages))
        if isinstance(messages[index], HumanMessage):
            messages[index] = HumanMessage(f"{mark()} {_text(rng, 900, 1200)}")
    for index, message in enumerate(messages):
        message.id = f"id{index}"
    max_tokens = rng.choice((1, 2, 3, 5)) * max(largest, 120) + rng.randint(0, 400)
    max_summary_tokens = rng.randint(20, max(21, min(300, max_tokens // 4)))
    threshold = rng.choice((None, None, max_tokens // 2, max_tokens + rng.randint(1, 500)))
    return Case(
        messages=messages,
        max_tokens=max_tokens,
        max_tokens_before_summary=threshold,
        max_summary_tokens=max_summary_tokens,
        first_cut=rng.randint(1, len(messages)),
        no_human=no_human,
        extra=AIMessage(f"{mark()} fine", id="extra"),
    )


def units_of(messages: list[BaseMessage]) -> list[list[BaseMessage]]:
    """Messages grouped the way they must stay together (AI with tool calls + its results)."""
    groups: list[list[BaseMessage]] = []
    owner: dict[str, int] = {}
    for message in messages:
        if isinstance(message, ToolMessage) and message.tool_call_id in owner:
            groups[owner[message.tool_call_id]].append(message)
            continue
        groups.append([message])
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                owner[str(call["id"])] = len(groups) - 1
    return groups


def unit_tokens(messages: list[BaseMessage]) -> list[int]:
    return [count_tokens_approximately(group) for group in units_of(messages)]


def summary_reply(max_summary_tokens: int) -> Callable[[Any], str]:
    """A summarizer that answers within ``max_summary_tokens`` and never repeats a marker."""
    words = max(1, int(max_summary_tokens * 0.8) * 4 // 8)
    return lambda request: "summary " * words


def markers(text: str) -> set[int]:
    return {int(found) for found in MARKER.findall(text)}


def message_marker(message: BaseMessage) -> int:
    (number,) = markers(_message_text(message))
    return number


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, list):
        return " ".join(
            str(block.get("text", "")) if isinstance(block, dict) else str(block)
            for block in content
        )
    return str(content)


def request_text(request: Any) -> str:
    return request.text()


def request_tokens(request: Any) -> int:
    return count_tokens_approximately(request.messages)


@dataclass
class Run:
    """One call of a summarize function: what it returned and what the model was sent."""

    output: list[BaseMessage] | None
    summary: Any
    requests: list[Any]
    error: BaseException | None


def check_pairs(messages: list[BaseMessage], run: Run) -> list[str]:
    problems = []
    tool_owner = {}
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                tool_owner[str(call["id"])] = message_marker(message)
    results: dict[int, set[int]] = {}
    for message in messages:
        if isinstance(message, ToolMessage):
            results.setdefault(tool_owner[message.tool_call_id], set()).add(message_marker(message))
    places = [markers(request_text(r)) for r in run.requests]
    if run.output is not None:
        places.append({message_marker(m) for m in run.output if MARKER.search(_message_text(m))})
    for owner, tools in results.items():
        group = {owner} | tools
        for seen in places:
            if seen & group and not group <= seen:
                problems.append(f"pair split: AI <<m{owner}>> and results {sorted(tools)}")
                break
    return problems


def check_budget(
    case: Case, messages: list[BaseMessage], run: Run, budget_error: type
) -> list[str]:
    problems = []
    for request in run.requests:
        if request_tokens(request) > case.max_tokens:
            problems.append(f"request of {request_tokens(request)} tokens > {case.max_tokens}")
            break
    if run.error is not None:
        system = [m for m in messages[:1] if isinstance(m, SystemMessage)]
        room = case.max_tokens - case.max_summary_tokens - count_tokens_approximately(system) - 120
        # a long plain message can be read in parts; a tool call with its results cannot be
        # split, and the newest unit must be kept whole
        groups = units_of(messages)
        feasible = count_tokens_approximately(groups[-1]) <= room and all(
            count_tokens_approximately(group) <= room
            for group in groups
            if len(group) > 1 or (isinstance(group[0], AIMessage) and group[0].tool_calls)
        )
        if not isinstance(run.error, budget_error) or feasible:
            problems.append(f"refused a feasible case or unclear error: {run.error!r}")
        return problems
    if run.requests and count_tokens_approximately(run.output or []) > case.max_tokens:
        problems.append(
            f"output of {count_tokens_approximately(run.output or [])} tokens > {case.max_tokens}"
        )
    return problems


def check_loss(messages: list[BaseMessage], run: Run, read_before: set[int]) -> list[str]:
    if run.error is not None or run.output is None:
        return []
    read = set(read_before)
    for request in run.requests:
        read |= markers(request_text(request))
    kept = set()
    for message in run.output:
        kept |= markers(_message_text(message))
    problems = []
    by_id = {str(m.id): message_marker(m) for m in messages}
    lost = [by_id[str(m.id)] for m in messages if by_id[str(m.id)] not in read | kept]
    if lost:
        problems.append(f"lost messages {lost[:5]}")
    summary = run.summary
    if summary is not None:
        claimed = {by_id[i] for i in summary.summarized_message_ids if i in by_id}
        if claimed - read:
            problems.append(f"summary claims unread messages {sorted(claimed - read)[:5]}")
        missing = {by_id[str(m.id)] for m in messages} - kept - claimed
        if run.requests and missing:
            problems.append(f"summary does not record read messages {sorted(missing)[:5]}")
    return problems


def summarize_case(
    case: Case,
    summarize: Callable[..., Any],
    model_factory: Callable[[int], Any],
    budget_error: type,
) -> dict[str, list[str]]:
    """Run the three calls of a case and return the problems found, per guarantee."""
    found: dict[str, list[str]] = {name: [] for name in GUARANTEES}
    config = {
        "max_tokens": case.max_tokens,
        "max_tokens_before_summary": case.max_tokens_before_summary,
        "max_summary_tokens": case.max_summary_tokens,
    }
    read: set[int] = set()
    summary = None
    cuts = [case.first_cut, len(case.messages)]
    for cut in cuts:
        messages = case.messages[:cut]
        run = _call(summarize, messages, summary, model_factory(case.max_summary_tokens), config)
        found["pairs"] += check_pairs(messages, run)
        budget = check_budget(case, messages, run, budget_error)
        found["budget"] += budget
        found["loss"] += check_loss(messages, run, read)
        if case.no_human and run.error is not None and not isinstance(run.error, budget_error):
            found["no_human"].append(f"no-human window crashed: {run.error!r}")
        elif case.no_human and any(request_tokens(r) > case.max_tokens for r in run.requests):
            largest = max(request_tokens(r) for r in run.requests)
            found["no_human"].append(
                f"no-human window sent {largest} tokens with max_tokens={case.max_tokens}"
            )
        if run.error is not None:
            return found
        for request in run.requests:
            read |= markers(request_text(request))
        summary = run.summary
    # grow by one message
    messages = [*case.messages, case.extra]
    before = set(read)
    run = _call(summarize, messages, summary, model_factory(case.max_summary_tokens), config)
    threshold = case.max_tokens_before_summary or case.max_tokens
    current = list(messages)
    if summary is not None:
        covered = set(summary.summarized_message_ids)
        current = [m for m in messages if str(m.id) not in covered]
        current = [SystemMessage(summary.summary), *current]
    # 40 tokens of slack: libraries word the summary message differently
    if (
        run.error is None
        and run.requests
        and count_tokens_approximately(current) + 40 <= min(threshold, case.max_tokens)
    ):
        found["redo"].append("called the model while under the threshold")
    resent = set()
    kept_before = set()
    for request in run.requests:
        resent |= markers(request_text(request)) & before
    if summary is not None:
        by_id = {str(m.id): message_marker(m) for m in messages}
        kept_before = {by_id[i] for i in summary.summarized_message_ids if i in by_id}
    if resent & kept_before:
        found["redo"].append(f"re-sent covered messages {sorted(resent & kept_before)[:5]}")
    return found


def _call(
    summarize: Callable[..., Any],
    messages: list[BaseMessage],
    summary: Any,
    model: Any,
    config: dict[str, Any],
) -> Run:
    try:
        result = summarize(messages, running_summary=summary, model=model, **config)
    except Exception as exc:  # the checker judges every failure
        return Run(output=None, summary=summary, requests=list(model.requests), error=exc)
    return Run(
        output=list(result.messages),
        summary=result.running_summary,
        requests=list(model.requests),
        error=None,
    )
