"""Pure planning for running summaries: messages in, what to keep and what to summarize out.

Core types:

- :class:`Unit`: messages that must stay together (an AI message with tool calls and all of its
  tool results, or one other message); a unit is kept or summarized as a whole.
- :class:`Parsed`: a conversation split into its leading system messages (kept as they are)
  and the units the running summary does not cover yet.

Messages without an id get a deterministic one (``msg-<hash of role and content>-<n>``, where
``n`` counts earlier messages with the same role and content), so the same conversation gets the
same ids on every call and a running summary can record what it covers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
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

from langmem.errors import InvalidInputError, TokenBudgetError
from langmem.short_term._prompts import render_message

TokenCounter = Callable[[Iterable[Any]], int]

# ids of the messages that carry a summary in our output; recognised when fed back as input
SUMMARY_ID_PREFIX = "langmem-summary-"

_ID = attrgetter("id")


@dataclass
class Unit:
    """Consecutive messages that are kept or summarized together."""

    messages: list[BaseMessage]
    tokens: int = 0
    """Tokens of the messages as they are (what keeping them costs); see ``count_units``."""
    _text: str | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """The messages as transcript text for the summarizing model (rendered once)."""
        if self._text is None:
            names = {
                str(call.get("id")): call["name"]
                for m in self.messages
                if isinstance(m, AIMessage)
                for call in m.tool_calls
            }
            self._text = "\n\n".join(render_message(m, names) for m in self.messages)
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
    units: list[Unit]


def parse(
    messages: Any, covered_ids: set[str], has_summary: bool, last_covered_id: str | None = None
) -> Parsed:
    """Split a conversation into its leading system messages and the units not yet summarized.

    Accepts LangChain messages and role/content dicts; messages without an id get one derived
    from their content. Messages whose id is in ``covered_ids`` are dropped (the summary stands
    for them); so are the summary messages of an earlier output when a summary is given.

    Raises:
        InvalidInputError: ``messages`` is not a list of messages, one item is not a message,
            a tool result has no ``tool_call_id``, or two different messages share an id.
    """
    if isinstance(messages, (str, bytes, dict)) or not isinstance(messages, Sequence):
        raise InvalidInputError(
            f"messages={_short(messages)} is not a list of messages: pass a list of LangChain "
            "messages or of dicts such as {'role': 'user', 'content': 'hi'}."
        )
    system: list[BaseMessage] = []
    units: list[Unit] = []
    unit_of_call: dict[str, int] = {}
    seen_hashes: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    leading = True
    skip_from, skip_to = _covered_run(messages, covered_ids, last_covered_id)
    skipped: set[str] | None = None
    for index in chain(range(skip_from), range(skip_to, len(messages))):
        item = messages[index]
        if index == skip_to and skip_to:
            leading = False  # what came before is already summarized
        item_id = getattr(item, "id", None)
        if item_id is not None and item_id in covered_ids and isinstance(item, BaseMessage):
            leading = False  # already summarized: the summary stands for it
            seen_ids[item_id] = index  # so no new message is given its id
            continue
        message = _to_message(index, item)
        if message.id is None:
            if skipped is None:  # ids of the covered run, which a new message must not reuse
                skipped = set(map(_ID, messages[skip_from:skip_to]))
            new_id = _content_id(message, seen_hashes, seen_ids, skipped)
            message = message.model_copy(update={"id": new_id})
        message_id = str(message.id)
        if message_id in seen_ids:
            raise InvalidInputError(
                f"messages[{seen_ids[message_id]}] and messages[{index}] share the id "
                f"{message_id!r}: ids must be unique within a conversation, since the running "
                "summary records which ids it covers. Give each message its own id, or none "
                "(langmem then derives one from the content)."
            )
        seen_ids[message_id] = index
        if has_summary and message_id.startswith(SUMMARY_ID_PREFIX):
            continue
        if leading and isinstance(message, SystemMessage):
            system.append(message)
            continue
        leading = False
        if message_id in covered_ids:
            continue
        if isinstance(message, ToolMessage) and units:
            owner = unit_of_call.get(message.tool_call_id)
            if owner is None:
                # a result whose call is not here: keep it with what precedes it
                owner = len(units) - 1
            if owner < len(units) - 1:
                _merge_from(units, unit_of_call, owner)
            units[-1].messages.append(message)
            continue
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id"):
                    unit_of_call[str(call["id"])] = len(units)
        units.append(Unit(messages=[message]))
    return Parsed(system=system, units=units)


def count_units(units: list[Unit], token_counter: TokenCounter) -> None:
    """Fill in each unit's token count (only needed once a summary is due)."""
    for unit in units:
        unit.tokens = token_counter(unit.messages)


def _covered_run(
    messages: Sequence[Any], covered_ids: set[str], last_covered_id: str | None
) -> tuple[int, int]:
    """The run of already summarized messages after the leading system messages, if any.

    Usually the conversation is: system message, what the summary covers, then new messages.
    Checking that run at once keeps a long conversation cheap to process turn after turn.
    """
    if not covered_ids or last_covered_id is None:
        return 0, 0
    start = 0
    while start < len(messages) and isinstance(messages[start], SystemMessage):
        start += 1
    end = len(messages)  # the new messages are few: look for the last covered one from the end
    while end > start and getattr(messages[end - 1], "id", None) != last_covered_id:
        end -= 1
    if end == start:
        return 0, 0
    try:
        if not covered_ids.issuperset(map(_ID, messages[start:end])):
            return 0, 0
    except AttributeError:  # a dict among them: take the general path
        return 0, 0
    return start, end


def _content_id(
    message: BaseMessage, seen_hashes: dict[str, int], taken: dict[str, int], skipped: set[str]
) -> str:
    digest = _content_hash(message)
    count = seen_hashes.get(digest, 0)
    # the same text again, after an earlier output kept or covered under that id
    while f"msg-{digest}-{count}" in taken or f"msg-{digest}-{count}" in skipped:
        count += 1
    seen_hashes[digest] = count + 1
    return f"msg-{digest}-{count}"


def choose_split(units: list[Unit], room: int) -> int:
    """The most leading units worth summarizing now (the rest must fit ``room`` tokens).

    The current turn (from the last human message on) is kept whole when it fits; otherwise the
    newest units that fit half the room are kept, so the next summary is not due at once. The
    newest unit is always kept.

    Raises:
        TokenBudgetError: the newest unit alone is larger than ``room``.
    """
    last = units[-1]
    if last.tokens > room:
        raise TokenBudgetError(
            f"the newest message (id={last.first_id!r}) takes {last.tokens} tokens"
            f"{_with_results(last)}, more than the {max(room, 0)} tokens left by max_tokens "
            "once the system message and the room kept for the summary are counted: it cannot "
            "be kept and it must not be summarized away. Raise max_tokens (or lower "
            "max_summary_tokens), or shorten that message (for example truncate long tool "
            "output).",
            tokens=last.tokens,
            budget=max(room, 0),
            message_id=last.first_id,
        )
    count = len(units)
    if count == 1:
        return 0
    suffix = [0] * (count + 1)
    for index in range(count - 1, -1, -1):
        suffix[index] = suffix[index + 1] + units[index].tokens
    turn_start = next((i for i in range(count - 1, -1, -1) if units[i].has_human), None)
    if turn_start is not None and turn_start > 0 and suffix[turn_start] <= room:
        return turn_start
    limit = max(room // 2, last.tokens)
    split = count - 1
    while split > 1 and suffix[split - 1] <= limit:
        split -= 1
    return split


def least_split(units: list[Unit], room: int) -> int:
    """Fewest leading units to summarize so that the rest fits ``room`` tokens."""
    kept = 0
    split = len(units)
    while split > 0 and kept + units[split - 1].tokens <= room:
        split -= 1
        kept += units[split].tokens
    return split


def _merge_from(units: list[Unit], unit_of_call: dict[str, int], owner: int) -> None:
    merged = units[owner]
    for later in units[owner + 1 :]:
        merged.messages.extend(later.messages)
    del units[owner + 1 :]
    for call_id, index in unit_of_call.items():
        if index > owner:
            unit_of_call[call_id] = owner


def _with_results(unit: Unit) -> str:
    if len(unit.messages) > 1:
        return f" with the {len(unit.messages) - 1} message(s) that must stay with it"
    return ""


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


def _content_hash(message: BaseMessage) -> str:
    payload: list[Any] = [message.type, message.content]
    if isinstance(message, ToolMessage):
        payload.append(message.tool_call_id)
    if isinstance(message, AIMessage) and message.tool_calls:
        payload.append([[c.get("id"), c["name"], c.get("args")] for c in message.tool_calls])
    data = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.blake2b(data.encode(), digest_size=8).hexdigest()


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
