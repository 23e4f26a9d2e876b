"""Sending the messages to summarize to the model, in requests that fit ``max_tokens``.

A backlog goes in as few requests as fit, oldest first, each extending the summary. A unit too
long for one request (a long message, or a tool call with a huge result) is read in consecutive
parts of its transcript, at most :data:`MAX_PARTS` of them; past that, or when the budget leaves
no room for even a short part, the model reads a bounded head and tail of what is left and the
summary says what was skipped (a :class:`Skipped` note).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig
from langgraph.constants import TAG_NOSTREAM

from langmem._conversation import encodable, reply_text
from langmem._flow import Flow, ModelCall
from langmem._models import ModelRef
from langmem.errors import ModelOutputError
from langmem.short_term._plan import SEGMENT_JOIN, TokenCounter, Unit
from langmem.short_term._prompts import PART_CONTINUED, PART_CUT, PART_SKIPPED, transcript_message

# a unit is read in at most this many requests; the rest is read as a bounded head and tail
MAX_PARTS = 16
# a part of a long message is at least this long, or the budget is too small to read it
MIN_PART_CHARS = 40
# an abridged message keeps at least this much of itself (its opening and its end)
MIN_ABRIDGED_CHARS = 64
# when no part fits the budget at all: the most characters sent of what is left (head + tail)
FALLBACK_CHARS = 8_000

# the summary is bookkeeping: keep its tokens out of a graph's "messages" stream
_NO_STREAM: RunnableConfig = {"tags": [TAG_NOSTREAM]}


@dataclass(frozen=True)
class Reader:
    """What a request is built from, and its budget."""

    model: ModelRef
    max_tokens: int
    token_counter: TokenCounter
    initial_prompt: ChatPromptTemplate
    existing_prompt: ChatPromptTemplate
    oversized: list[int] = field(default_factory=list)
    """Sizes of the requests sent over ``max_tokens`` (when the budget could not bound one)."""


@dataclass
class Skipped:
    """Characters of a unit's transcript the model did not read (too long for the budget)."""

    message_id: str
    total: int
    skipped: int

    def note(self) -> str:
        return (
            f"[Note: message {self.message_id} was {self.total} characters long; "
            f"{self.skipped} characters were not read.]"
        )


def request(reader: Reader, texts: Sequence[str], summary: str | None) -> list[BaseMessage]:
    transcript = transcript_message(texts)
    if summary is None:
        return reader.initial_prompt.format_messages(messages=[transcript])
    return reader.existing_prompt.format_messages(messages=[transcript], existing_summary=summary)


def read_units(
    reader: Reader, units: Sequence[Unit], summary: str | None, skipped: list[Skipped]
) -> Flow[str | None]:
    """Have the model read ``units`` (oldest first); return the extended summary."""
    done = 0
    while done < len(units):
        end = _pack(reader, units, done, summary)
        if end == done:  # one unit too long for a request: read it in parts
            summary = yield from _read_in_parts(reader, units[done], summary, skipped)
            done += 1
            continue
        response = yield _call(reader, request(reader, [u.text for u in units[done:end]], summary))
        summary = summary_text(response)
        done = end
    return summary


def summary_text(response: Any) -> str:
    text = str(encodable(reply_text(getattr(response, "content", response)))).strip()
    if not text:
        raise ModelOutputError(
            "the summarizing model returned an empty summary; the messages it was sent would be "
            "lost. Check the model and the summary prompts (they must ask for a summary).",
            attempts=1,
            problems=["empty summary"],
        )
    return text


def _call(reader: Reader, messages: list[BaseMessage]) -> ModelCall:
    size = reader.token_counter(messages)
    if size > reader.max_tokens:
        reader.oversized.append(size)
    return ModelCall(reader.model.get(), messages, _NO_STREAM, input_only=True)


def _pack(reader: Reader, units: Sequence[Unit], start: int, summary: str | None) -> int:
    """End of the largest run of units from ``start`` whose request fits ``max_tokens``."""
    tc = reader.token_counter
    budget = reader.max_tokens
    stop = len(units)

    def fits(end: int) -> bool:
        return tc(request(reader, [u.text for u in units[start:end]], summary)) <= budget

    if tc(request(reader, [], summary)) > budget:
        # not even an empty request fits (a tiny budget, or a counter such as len that counts
        # messages): the budget cannot bound a request, so send everything in one
        return stop
    # estimate from the transcript length (about 4 characters a token), then check exactly
    room = budget - tc(request(reader, [], summary))
    end, chars = start, 0
    while end < stop:
        chars += len(units[end].text) + 2
        if chars // 4 > room:
            break
        end += 1
    return largest_fitting(fits, start, stop, end)


def largest_fitting(fits: Callable[[int], bool], low: int, high: int, hint: int) -> int:
    """Largest ``end`` in ``[low, high]`` with ``fits(end)`` (``fits(low)`` holds; monotone)."""
    if low >= high:
        return low
    hint = min(max(hint, low + 1), high)
    if fits(hint):
        step = 1
        low = hint
        while low + step <= high and fits(low + step):
            low += step
            step *= 2
        high = min(low + step, high + 1) - 1
    else:
        high = hint - 1
    while low < high:  # invariant: fits(low); every end above high does not fit
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _read_in_parts(
    reader: Reader, unit: Unit, summary: str | None, skipped: list[Skipped]
) -> Flow[str]:
    """Send one unit too long for a request in consecutive parts; return the new summary."""
    tc = reader.token_counter
    text = unit.text
    start = parts = 0
    while start < len(text):
        fits = partial(_part_fits, reader, text, start, summary)
        last_call = parts == MAX_PARTS - 1
        if not fits(min(start + MIN_PART_CHARS, len(text))) or (last_call and not fits(len(text))):
            summary = yield from _read_head_and_tail(reader, unit, start, summary, skipped)
            break
        room = reader.max_tokens - tc(_part_request(reader, text, start, start, summary))
        end = largest_fitting(fits, start + 1, len(text), start + int(room * 4))
        if end < len(text):  # end the part at a space when there is one in its second half
            space = text.rfind(" ", start + (end - start) // 2, end)
            end = space if space > start else end
        response = yield _call(reader, _part_request(reader, text, start, end, summary))
        summary = summary_text(response)
        start = end
        parts += 1
    assert summary is not None
    return summary


def _read_head_and_tail(
    reader: Reader, unit: Unit, start: int, summary: str | None, skipped: list[Skipped]
) -> Flow[str]:
    """Read what is left of a unit as one bounded request: the head and tail of each message.

    Every message left keeps its opening (role, tool call ids) and its end, so none is skipped
    whole; the longest such request that fits is sent.
    """
    rest = _segments_from(unit, start)
    longest = max(len(segment) for segment in rest)

    def fits(size: int) -> bool:
        request = _abridged_request(reader, rest, size, start > 0, summary)
        return reader.token_counter(request) <= reader.max_tokens

    size = largest_fitting(fits, 0, longest, longest // 2) if fits(0) else 0
    if size < MIN_ABRIDGED_CHARS:  # no budget for a useful part: a bounded request, over budget
        size = max(MIN_ABRIDGED_CHARS, FALLBACK_CHARS // len(rest))
    cut = sum(max(0, len(segment) - size) for segment in rest)
    if cut:
        skipped.append(Skipped(unit.first_id, len(unit.text), cut))
    response = yield _call(reader, _abridged_request(reader, rest, size, start > 0, summary))
    return summary_text(response)


def _segments_from(unit: Unit, start: int) -> list[str]:
    """The unit's message texts from character ``start`` of its transcript on."""
    rest: list[str] = []
    offset = 0
    for segment in unit.segments:
        end = offset + len(segment)
        if end > start:
            rest.append(segment[max(0, start - offset) :])
        offset = end + len(SEGMENT_JOIN)
    return rest or [unit.text[start:]]


def _abridged_request(
    reader: Reader, rest: Sequence[str], size: int, continued: bool, summary: str | None
) -> list[BaseMessage]:
    """Each text in ``rest`` cut to ``size`` characters: half from its head, half its tail."""
    parts = []
    for segment in rest:
        if len(segment) <= size:
            parts.append(segment)
            continue
        head = size * 3 // 4  # the opening says who speaks and which tool call it answers
        tail = len(segment) - (size - head)
        parts.append(segment[:head] + PART_SKIPPED.format(count=tail - head) + segment[tail:])
    body = SEGMENT_JOIN.join(parts)
    return request(reader, [(PART_CONTINUED if continued else "") + body], summary)


def _part_request(
    reader: Reader, text: str, start: int, end: int, summary: str | None
) -> list[BaseMessage]:
    before = PART_CONTINUED if start else ""
    after = PART_CUT if end < len(text) else ""
    return request(reader, [before + text[start:end] + after], summary)


def _part_fits(reader: Reader, text: str, start: int, summary: str | None, end: int) -> bool:
    return reader.token_counter(_part_request(reader, text, start, end, summary)) <= (
        reader.max_tokens
    )
