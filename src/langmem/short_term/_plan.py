"""Pure planning for running summaries: messages in, what to keep and what to summarize out.

Core types:

- :class:`Unit`: messages that must stay together (an AI message with tool calls and all of its
  tool results, or one other message); a unit is kept or summarized as a whole.
- :class:`Parsed`: a conversation split into its system message (kept as it is) and the units
  the running summary does not cover yet.

Ids for messages without one come from their place in the whole conversation:
``msg-p<position>-<hash of the content>``. The position counts every message from the start of
the conversation, also the ones a running summary stands for: the summary message of an earlier
output stands for the messages up to ``RunningSummary.last_summarized_position``, and a message
carrying an id of this form carries its position. So two calling styles give the same ids:

- the full history on every call (the covered messages are recognised by position and content);
- what the previous call returned plus the new messages (the summary message marks where the
  covered messages were).

An id-less history that fits neither (for example the caller kept only the last few raw
messages) is detected, because its first messages would claim positions the summary covers with
other content; its id-less messages are then all treated as new (summarized again if need be,
never mistaken for covered ones), with a warning.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
    convert_to_messages,
)

from langmem.errors import InvalidInputError
from langmem.short_term._prompts import render_message

TokenCounter = Callable[[Iterable[Any]], int]

# ids of the messages that carry a summary in our output; recognised when fed back as input
SUMMARY_ID_PREFIX = "langmem-summary-"

SEGMENT_JOIN = "\n\n"  # between the messages of a transcript

_POSITION_ID = re.compile(r"^msg-p(\d+)-[0-9a-f]+$")


@dataclass
class Unit:
    """Consecutive messages that are kept or summarized together."""

    messages: list[BaseMessage]
    positions: list[int]
    """Place of each message in the whole conversation (see the module docstring)."""
    _text: str | None = field(default=None, repr=False)

    @property
    def segments(self) -> list[str]:
        """Each message as transcript text for the summarizing model."""
        names = {
            str(call.get("id")): call["name"]
            for m in self.messages
            if isinstance(m, AIMessage)
            for call in m.tool_calls
        }
        return [render_message(m, names) for m in self.messages]

    @property
    def text(self) -> str:
        """The messages as one transcript text (rendered once)."""
        if self._text is None:
            self._text = SEGMENT_JOIN.join(self.segments)
        return self._text

    @property
    def has_human(self) -> bool:
        return any(isinstance(m, HumanMessage) for m in self.messages)

    @property
    def first_id(self) -> str:
        return str(self.messages[0].id)


@dataclass
class Parsed:
    """A conversation split for summarization."""

    system: list[BaseMessage]
    """The system message (the first message, when it is one), kept as it is."""
    head_system: BaseMessage | None
    """The first message when it is a system message (also a summary message fed back): the
    budget for the kept messages leaves room for it, as upstream's does."""
    units: list[Unit]
    unaligned: bool = False
    """True when id-less messages did not line up with the running summary (see module doc)."""


@dataclass
class _Ids:
    """Id and position assignment for one call."""

    covered: set[str]
    last_position: int | None
    legacy: bool  # the running summary predates positions: also recognise content-hash ids
    realigned: bool = False  # the history did not line up: every message counts as new
    position: int = -1
    legacy_seen: dict[str, int] = field(default_factory=dict)

    def assign(self, message: BaseMessage, is_summary: bool) -> tuple[BaseMessage, int]:
        if is_summary:
            if self.last_position is not None:
                self.position = self.last_position
            return message, self.position
        if message.id is not None:
            found = _POSITION_ID.match(str(message.id))
            self.position = int(found.group(1)) if found else self.position + 1
            return message, self.position
        self.position += 1
        digest = _content_hash(message)
        if self.legacy:
            old = _legacy_id(digest, self.legacy_seen)
            if old in self.covered:
                return message.model_copy(update={"id": old}), self.position
        return message.model_copy(update={"id": f"msg-p{self.position}-{digest}"}), self.position


def parse(
    messages: Any,
    covered_ids: set[str],
    summary_text: str | None = None,
    last_covered_id: str | None = None,
    last_position: int | None = None,
) -> Parsed:
    """Split a conversation into its system message and the units not yet summarized.

    Accepts LangChain messages and role/content dicts; messages without an id get one from
    their position (module docstring). Messages whose id is in ``covered_ids`` are left out
    (the summary stands for them); so are the summary messages of an earlier output when a
    summary is given (``summary_text``; also a first system message holding that text).

    Raises:
        InvalidInputError: ``messages`` is not a list of messages, one item is not a message,
            a tool result has no ``tool_call_id``, two different messages share an id, or a
            message after the newest summarized one reuses an id the summary covers.
    """
    if isinstance(messages, (str, bytes, dict)) or not isinstance(messages, Sequence):
        raise InvalidInputError(
            f"messages={_short(messages)} is not a list of messages: pass a list of LangChain "
            "messages or of dicts such as {'role': 'user', 'content': 'hi'}."
        )
    converted = [_to_message(index, item) for index, item in enumerate(messages)]
    ids = _Ids(covered_ids, last_position, legacy=bool(covered_ids) and last_position is None)
    parsed = _split(converted, ids, summary_text, last_covered_id)
    if parsed is None:  # id-less messages claim covered places: treat them all as new
        ids = _Ids(covered_ids, last_position, legacy=False, realigned=True)
        ids.position = last_position or 0
        parsed = _split(converted, ids, summary_text, last_covered_id)
        assert parsed is not None
        parsed.unaligned = True
    return parsed


def _split(
    messages: list[BaseMessage], ids: _Ids, summary_text: str | None, last_covered_id: str | None
) -> Parsed | None:
    system: list[BaseMessage] = []
    head = messages[0] if messages and isinstance(messages[0], SystemMessage) else None
    units: list[Unit] = []
    unit_of_call: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    check_reuse = False  # only after the newest summarized message, as upstream
    for index, original in enumerate(messages):
        is_summary = summary_text is not None and (
            str(original.id).startswith(SUMMARY_ID_PREFIX)
            # fed back without ids: the summary message, first or after the system message
            or (
                index <= 1
                and isinstance(original, SystemMessage)
                and summary_text in str(original.content)
            )
        )
        message, position = ids.assign(original, is_summary)
        message_id = str(message.id)
        if message_id in seen_ids:
            if message_id in ids.covered:
                raise _reused(message_id, index)
            raise InvalidInputError(
                f"messages[{seen_ids[message_id]}] and messages[{index}] share the id "
                f"{message_id!r}: ids must be unique within a conversation, since the running "
                "summary records which ids it covers. Give each message its own id, or none "
                "(langmem then gives it one from its place in the conversation)."
            )
        seen_ids[message_id] = index
        if is_summary:
            continue
        if message_id in ids.covered:
            if check_reuse:
                raise _reused(message_id, index)
            if message_id == last_covered_id:
                check_reuse = True
            continue
        if index == 0 and head is not None:
            system.append(message)
            continue
        if (
            original.id is None
            and not ids.realigned
            and ids.last_position is not None
            and position <= ids.last_position
        ):
            return None  # an id-less message in a place the summary covers, with other content
        if isinstance(message, ToolMessage) and units:
            owner = unit_of_call.get(message.tool_call_id)
            if owner is None:
                # a result whose call is not here: keep it with what precedes it
                owner = len(units) - 1
            if owner < len(units) - 1:
                _merge_from(units, unit_of_call, owner)
            units[-1].messages.append(message)
            units[-1].positions.append(position)
            continue
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id"):
                    unit_of_call[str(call["id"])] = len(units)
        units.append(Unit(messages=[message], positions=[position]))
    return Parsed(system=system, head_system=head, units=units)


def _reused(message_id: str, index: int) -> InvalidInputError:
    return InvalidInputError(
        f"Message with ID {message_id} has already been summarized: messages[{index}] comes "
        "after the newest summarized message but reuses an id the running summary covers. "
        "Give the new message its own id (or none)."
    )


def choose_split(
    counts: Sequence[int], total: int, units: Sequence[Unit], threshold: int, room: int
) -> int | None:
    """How many leading units to summarize, the way upstream langmem chooses its cutoff.

    Walking from the oldest message, the cutoff is the first message at which the tokens so far
    reach ``threshold`` while the rest fits ``room``; it is moved to the end of its unit (a tool
    call stays with its results). ``counts`` are the tokens of each message, ``total`` those of
    all of them. Returns 0 when the threshold is not reached, ``None`` when it is but no cutoff
    leaves a rest that fits (the budget cannot be met).
    """
    so_far = 0
    index = 0
    reached = False
    for number, unit in enumerate(units):
        for _ in unit.messages:
            so_far += counts[index]
            index += 1
            if so_far >= threshold:
                reached = True
                if total - so_far <= room:
                    return number + 1
    return None if reached else 0


def fallback_split(units: Sequence[Unit]) -> int:
    """When the budget cannot be met: summarize everything before the current turn.

    The current turn starts at the newest unit holding a human message (kept verbatim); with no
    human message, only the newest unit is kept.
    """
    for number in range(len(units) - 1, -1, -1):
        if units[number].has_human:
            return number
    return len(units) - 1


def _merge_from(units: list[Unit], unit_of_call: dict[str, int], owner: int) -> None:
    merged = units[owner]
    for later in units[owner + 1 :]:
        merged.messages.extend(later.messages)
        merged.positions.extend(later.positions)
    del units[owner + 1 :]
    for call_id, index in unit_of_call.items():
        if index > owner:
            unit_of_call[call_id] = owner


def _to_message(index: int, item: Any) -> BaseMessage:
    if isinstance(item, RemoveMessage):
        raise InvalidInputError(
            f"messages[{index}] is a RemoveMessage (id={item.id!r}): it is an instruction to a "
            "LangGraph state, not part of a conversation. Pass the conversation itself."
        )
    if isinstance(item, BaseMessage):
        return item
    is_tool = isinstance(item, dict) and "tool" in (item.get("role"), item.get("type"))
    if is_tool and not item.get("tool_call_id"):
        raise InvalidInputError(
            f"messages[{index}] is a tool result without 'tool_call_id' ({_short(item)}): a "
            "tool result must name the tool call it answers. Add 'tool_call_id' with the id "
            "of the call from the assistant message before it."
        )
    try:
        (message,) = convert_to_messages([item])
    except Exception as exc:
        raise InvalidInputError(
            f"messages[{index}]={_short(item)} is not a message this library understands ({exc}). "
            "Pass LangChain messages (HumanMessage, AIMessage, ToolMessage, SystemMessage) or "
            "dicts with 'role' ('user', 'assistant', 'system', 'tool') and 'content'."
        ) from exc
    return message


def _legacy_id(digest: str, seen: dict[str, int]) -> str:
    """The id the previous version gave an id-less message (running summaries it wrote)."""
    count = seen.get(digest, 0)
    seen[digest] = count + 1
    return f"msg-{digest}-{count}"


def _content_hash(message: BaseMessage) -> str:
    payload: list[Any] = [message.type, message.content]
    if isinstance(message, ToolMessage):
        payload.append(message.tool_call_id)
    if isinstance(message, AIMessage) and message.tool_calls:
        payload.append([[c.get("id"), c["name"], c.get("args")] for c in message.tool_calls])
    data = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
