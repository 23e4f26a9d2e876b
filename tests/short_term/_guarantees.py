"""Random conversations and an independent checker of the summarization guarantees.

Shared by the property tests (driven by hypothesis) and by ``bench/summarization.py``, which
loads this file by path in both virtual envs (ours and upstream langmem 0.0.30), so it only needs
``langchain_core``. Every message carries a unique marker (``<<m12>>``) in its text, so whether
the summarizing model read a message is decided from the recorded requests, whatever format the
library sends them in, and whether or not messages have ids.

Conversations: agent threads with parallel tool calls, sometimes one tool result ten times the
budget or a huge human message, tiny budgets, ``token_counter=len``, and three calling styles:
messages with ids, id-less full history, id-less trimmed history (what the previous call
returned plus the new messages). Each case is called four times: a prefix, the whole
conversation, one more message, one more human turn.

Guarantees (one counter each):

- ``exception``: valid input never raises;
- ``pairs``: an AI message with tool calls is never separated from its tool results, in the
  output or in what one request to the summarizing model holds;
- ``budget``: after summarizing, the output fits ``max_tokens`` and so does every request,
  unless the result reports the overrun (``result.overrun``): never silently over;
- ``loss``: every message of the conversation is in the output or was read by the summarizing
  model (with ids: the running summary claims only messages that were read);
- ``redo``: a message already read is never sent to the summarizer again;
- ``newest``: when the newest message is a human message, the output ends with it verbatim;
- ``no_human``: a window without human messages works (no crash, no unreported oversized
  request);
- ``recovery``: the turn after an overrun keeps what the summary covered and the newest message.
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

GUARANTEES = ("exception", "pairs", "budget", "loss", "redo", "newest", "no_human", "recovery")
STYLES = ("ids", "full", "trimmed")
CONTINUED = "continued in the next transcript"  # our marker for a transcript read in parts
MARKER = re.compile(r"<<m(\d+)>>")
WORDS = [
    *("tea", "coffee", "river", "mountain", "python", "budget", "invoice", "station"),
    *("orbit", "garden", "lamp", "cable", "window", "harbor", "ticket", "violin"),
    *("marble", "pepper", "forest", "signal"),
]


@dataclass
class Case:
    """One generated conversation, the budgets to summarize it with, and how to call."""

    messages: list[BaseMessage]
    max_tokens: int
    max_tokens_before_summary: int | None
    max_summary_tokens: int
    first_cut: int  # the first call sees messages[:first_cut]
    no_human: bool  # the newest part of the conversation holds no human message
    extra: BaseMessage = field(default_factory=lambda: HumanMessage("ok"))
    counter: str = "approx"  # or "len" (counts messages)
    style: str = "ids"  # see STYLES
    huge_tool: bool = False  # one tool result is ten times max_tokens

    def token_counter(self) -> Callable[[Any], int]:
        return len if self.counter == "len" else count_tokens_approximately


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def random_case(rng: random.Random, *, huge: float = 0.05) -> Case:
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
    counting = "approx"
    kind = rng.random()
    if kind < 0.15:  # token_counter=len: budgets count messages
        counting = "len"
        max_tokens = rng.randint(2, 30)
        max_summary_tokens = rng.randint(0, max_tokens - 1)
        threshold = rng.choice((None, None, rng.randint(0, 40)))
    elif kind < 0.3:  # tiny budgets
        max_tokens = rng.randint(20, 150)
        max_summary_tokens = rng.randint(0, max_tokens // 3)
        threshold = rng.choice((None, max_tokens // 2, max_tokens + rng.randint(1, 100)))
    else:
        max_tokens = rng.choice((1, 2, 3, 5)) * max(largest, 120) + rng.randint(0, 400)
        max_summary_tokens = rng.randint(0, max(21, min(300, max_tokens // 4)))
        threshold = rng.choice((None, None, max_tokens // 2, max_tokens + rng.randint(1, 500)))
    huge_tool = False
    tools = [i for i, m in enumerate(messages) if isinstance(m, ToolMessage)]
    if tools and counting == "approx" and rng.random() < huge * 3:
        index = rng.choice(tools)
        old = messages[index]
        assert isinstance(old, ToolMessage)
        words = max_tokens * 10 * 4 // 6  # about ten times max_tokens
        messages[index] = ToolMessage(
            f"{mark()} {_text(rng, words, words)}", tool_call_id=old.tool_call_id, name=old.name
        )
        huge_tool = True
    style = rng.choice(STYLES)
    for index, message in enumerate(messages):
        message.id = f"id{index}" if style == "ids" else None
    return Case(
        messages=messages,
        max_tokens=max_tokens,
        max_tokens_before_summary=threshold,
        max_summary_tokens=max_summary_tokens,
        first_cut=rng.randint(1, len(messages)),
        no_human=no_human,
        extra=AIMessage(f"{mark()} fine", id="extra" if style == "ids" else None),
        counter=counting,
        style=style,
        huge_tool=huge_tool,
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


@dataclass
class Run:
    """One call of a summarize function: what it returned and what the model was sent."""

    output: list[BaseMessage] | None
    summary: Any
    requests: list[Any]
    error: BaseException | None
    overrun: Any = None


def check_pairs(
    messages: list[BaseMessage], run: Run, answered_later: set[int] | None = None
) -> list[str]:
    """``answered_later``: AI messages an earlier call saw before all their results existed."""
    problems = []
    tool_owner = {}
    for message in messages:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                tool_owner[str(call["id"])] = message_marker(message)
    results: dict[int, set[int]] = {}
    for message in messages:
        if isinstance(message, ToolMessage) and message.tool_call_id in tool_owner:
            results.setdefault(tool_owner[message.tool_call_id], set()).add(message_marker(message))
    # a transcript too long for one request is read in consecutive parts, each but the last
    # saying it continues: those requests count as one place
    places: list[set[int]] = []
    continued = False
    for request in run.requests:
        text = request_text(request)
        if continued:
            places[-1] |= markers(text)
        else:
            places.append(markers(text))
        continued = CONTINUED in text
    if run.output is not None:
        places.append({message_marker(m) for m in run.output if MARKER.search(_message_text(m))})
    for owner, tools in results.items():
        if owner in (answered_later or set()):
            continue
        group = {owner} | tools
        for seen in places:
            if seen & group and not group <= seen:
                problems.append(f"pair split: AI <<m{owner}>> and results {sorted(tools)}")
                break
    return problems


def check_budget(case: Case, run: Run) -> list[str]:
    """Over ``max_tokens`` after summarizing, in the output or a request, is never silent."""
    if run.overrun is not None or run.output is None:
        return []
    tc = case.token_counter()
    problems = []
    for request in run.requests:
        if tc(request.messages) > case.max_tokens:
            problems.append(f"request of {tc(request.messages)} tokens > {case.max_tokens}")
            break
    if run.requests and tc(run.output) > case.max_tokens:
        problems.append(f"output of {tc(run.output)} tokens > {case.max_tokens}, not reported")
    return problems


def check_loss(conversation: list[BaseMessage], run: Run, read: set[int]) -> list[str]:
    """``read``: markers the summarizing model read so far (this call included)."""
    if run.output is None:
        return []
    kept = set()
    for message in run.output:
        kept |= markers(_message_text(message))
    every = [message_marker(m) for m in conversation]
    lost = [number for number in every if number not in read | kept]
    problems = [f"lost messages {lost[:5]}"] if lost else []
    summary = run.summary
    if summary is not None and all(m.id is not None for m in conversation):
        by_id = {str(m.id): message_marker(m) for m in conversation}
        claimed = {by_id[i] for i in summary.summarized_message_ids if i in by_id}
        if claimed - read:
            problems.append(f"summary claims unread messages {sorted(claimed - read)[:5]}")
    return problems


def summarize_case(
    case: Case,
    summarize: Callable[..., Any],
    model_factory: Callable[[int], Any],
    budget_error: type | None = None,
) -> dict[str, list[str]]:
    """Call four times (a prefix, all, one more message, one more human turn); the problems.

    ``budget_error`` is accepted for older callers and unused: any exception is a violation.
    """
    found: dict[str, list[str]] = {name: [] for name in GUARANTEES}
    config: dict[str, Any] = {
        "max_tokens": case.max_tokens,
        "max_tokens_before_summary": case.max_tokens_before_summary,
        "max_summary_tokens": case.max_summary_tokens,
    }
    if case.counter == "len":
        config["token_counter"] = len
    recovery = HumanMessage("<<m0>> next question", id="next" if case.style == "ids" else None)
    conversation = [*case.messages, case.extra, recovery]
    cuts = [case.first_cut, len(case.messages), len(case.messages) + 1, len(conversation)]
    read: set[int] = set()
    summary = None
    previous: Run | None = None
    previous_cut = 0
    answered_later: set[int] = set()
    for cut in cuts:
        if cut <= previous_cut:
            continue
        whole = conversation[:cut]
        sent = whole
        if case.style == "trimmed" and previous is not None and previous.output is not None:
            sent = [*previous.output, *conversation[previous_cut:cut]]
        model = model_factory(case.max_summary_tokens)
        run = _call(summarize, sent, summary, model, config)
        if run.error is not None:
            found["exception"].append(f"call on {cut} messages raised {run.error!r}")
            return found
        now_read = set().union(*(markers(request_text(r)) for r in run.requests))
        if now_read & read:
            found["redo"].append(f"re-sent messages already read {sorted(now_read & read)[:5]}")
        read |= now_read
        found["pairs"] += check_pairs(whole, run, answered_later)
        answered_later |= _unanswered(whole)
        found["budget"] += check_budget(case, run)
        found["loss"] += check_loss(whole, run, read)
        newest = whole[-1]
        last = run.output[-1] if run.output else None
        if isinstance(newest, HumanMessage) and run.output is not None:  # noqa: SIM102
            if last is None or markers(_message_text(last)) != markers(_message_text(newest)):
                found["newest"].append(f"the newest human message is not last ({cut} messages)")
        if case.no_human and check_budget(case, run):
            found["no_human"].append("no-human window went over budget unreported")
        if previous is not None and previous.overrun is not None:
            found["recovery"] += _check_recovery(previous, run, newest, read)
        previous, previous_cut, summary = run, cut, run.summary
    return found


def _check_recovery(before: Run, after: Run, newest: BaseMessage, read: set[int]) -> list[str]:
    """The turn after an overrun returns, keeps what the summary covered, loses nothing new."""
    problems = []
    covered = set(before.summary.summarized_message_ids) if before.summary else set()
    now = set(after.summary.summarized_message_ids) if after.summary else set()
    if not covered <= now:
        problems.append("the turn after an overrun lost the summary's coverage")
    kept = set().union(*(markers(_message_text(m)) for m in after.output or []))
    if not markers(_message_text(newest)) <= kept | read:
        problems.append("the turn after an overrun neither kept nor read the newest message")
    return problems


def _unanswered(messages: list[BaseMessage]) -> set[int]:
    """AI messages whose tool calls do not all have a result among ``messages`` yet."""
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    return {
        message_marker(m)
        for m in messages
        if isinstance(m, AIMessage) and any(str(c["id"]) not in answered for c in m.tool_calls)
    }


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
        overrun=getattr(result, "overrun", None),
    )
