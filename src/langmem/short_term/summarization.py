"""Running summaries that keep a conversation inside a token budget.

Core types:

- :func:`summarize_messages` / :func:`asummarize_messages`: one call per turn; returns the
  messages to send to the model (system message, summary, recent messages) and the updated
  :class:`RunningSummary` to pass back next turn.
- :class:`SummarizationNode`: the same as a LangGraph node (or ``pre_model_hook``).
- :class:`RunningSummary`, :class:`SummarizationResult`: the state carried between turns.

What it guarantees, for any conversation:

- an AI message with tool calls is never separated from its tool results, neither in the
  output nor in what the summarizing model is sent;
- once it summarizes, the output fits ``max_tokens`` (summary included); when that is
  impossible (one message larger than the budget) it raises
  :class:`~langmem.errors.TokenBudgetError` saying which message and what to change;
- no message is lost: each one is in the output or was read by the summarizing model, in
  requests that each fit ``max_tokens`` (a large backlog in several, a long message in parts);
- the summary is extended, never redone: messages it covers are not sent again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from langchain_core.language_models import LanguageModelLike
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig
from langgraph.constants import TAG_NOSTREAM

from langmem._conversation import content_text
from langmem._flow import Flow, ModelCall, run_async, run_sync
from langmem._models import ModelRef
from langmem.errors import ConfigurationError, InvalidInputError, ModelOutputError, TokenBudgetError
from langmem.short_term import _plan
from langmem.short_term._plan import SUMMARY_ID_PREFIX, TokenCounter, Unit
from langmem.short_term._prompts import (
    DEFAULT_EXISTING_SUMMARY_PROMPT,
    DEFAULT_FINAL_SUMMARY_PROMPT,
    DEFAULT_INITIAL_SUMMARY_PROMPT,
    PART_CONTINUED,
    PART_CUT,
    transcript_message,
)

__all__ = [
    "DEFAULT_EXISTING_SUMMARY_PROMPT",
    "DEFAULT_FINAL_SUMMARY_PROMPT",
    "DEFAULT_INITIAL_SUMMARY_PROMPT",
    "RunningSummary",
    "SummarizationNode",
    "SummarizationResult",
    "TokenCounter",
    "asummarize_messages",
    "summarize_messages",
]


# a part of a long message is at least this long, or the budget is too small to read it
_MIN_PART_CHARS = 40

# the summary is bookkeeping: keep its tokens out of a graph's "messages" stream
_NO_STREAM: RunnableConfig = {"tags": [TAG_NOSTREAM]}


@dataclass
class RunningSummary:
    """The summary so far, and which messages it stands for. Pass it back on the next call.

    Example:
        >>> RunningSummary(summary="Bob likes tea.", summarized_message_ids={"m1"},
        ...                last_summarized_message_id="m1").summary
        'Bob likes tea.'
    """

    summary: str
    """Text of the latest summary."""

    summarized_message_ids: set[str]
    """Ids of every message the summary covers (read by the summarizing model)."""

    last_summarized_message_id: str | None
    """Id of the newest message the summary covers."""


@dataclass
class SummarizationResult:
    """What one summarization call returns."""

    messages: list[AnyMessage]
    """Messages to send to the model: system message, summary message (if any), recent ones."""

    running_summary: RunningSummary | None = None
    """The summary to pass back next time; ``None`` when nothing was ever summarized."""


@dataclass(frozen=True)
class _Settings:
    max_tokens: int
    threshold: int
    max_summary_tokens: int
    token_counter: TokenCounter
    initial_prompt: ChatPromptTemplate
    existing_prompt: ChatPromptTemplate
    final_prompt: ChatPromptTemplate


def summarize_messages(
    messages: list[AnyMessage],
    *,
    running_summary: RunningSummary | None,
    model: LanguageModelLike,
    max_tokens: int,
    max_tokens_before_summary: int | None = None,
    max_summary_tokens: int = 256,
    token_counter: TokenCounter = count_tokens_approximately,
    initial_summary_prompt: ChatPromptTemplate = DEFAULT_INITIAL_SUMMARY_PROMPT,
    existing_summary_prompt: ChatPromptTemplate = DEFAULT_EXISTING_SUMMARY_PROMPT,
    final_prompt: ChatPromptTemplate = DEFAULT_FINAL_SUMMARY_PROMPT,
) -> SummarizationResult:
    """Fit a conversation into ``max_tokens`` by summarizing its older messages.

    Nothing is summarized, and no model is called, until the messages not yet summarized exceed
    ``max_tokens_before_summary`` or the output (system message and current summary included)
    would exceed ``max(max_tokens, max_tokens_before_summary)``. Then the older messages are
    summarized, extending ``running_summary``, and the output is the system message, one summary
    message and the recent messages, within ``max_tokens``. The current turn (from the last
    human message on) is kept when it fits. A backlog larger than one summarizer request
    (``max_tokens``) is summarized in several requests, oldest first; a message longer than a
    request is read in consecutive parts (a tool call and its results are never split).

    Args:
        messages: The conversation: LangChain messages or ``{"role", "content"}`` dicts.
            Messages without an id get a stable one derived from their content.
        running_summary: The summary returned by the previous call, or ``None``.
        model: The summarizing chat model (or a ``"provider:model"`` string).
        max_tokens: Most tokens the output may hold once it summarizes; also the most tokens
            sent to the summarizing model in one request.
        max_tokens_before_summary: Summarize once the messages not yet summarized exceed
            this many tokens; defaults to ``max_tokens``.
        max_summary_tokens: Room kept for the summary in the output. It does not limit the
            model: bind one, e.g. ``model.bind(max_tokens=max_summary_tokens)``.
        token_counter: Counts the tokens of a list of messages.
        initial_summary_prompt: Prompt for the first summary (variable ``messages``).
        existing_summary_prompt: Prompt to extend a summary (``messages``, ``existing_summary``).
        final_prompt: Builds the output (``system_message``, ``summary``, ``messages``).

    Returns:
        The messages to send to the model and the running summary to keep.

    Raises:
        ConfigurationError: a budget is not a positive integer, or
            ``max_summary_tokens >= max_tokens``.
        InvalidInputError: a message cannot be understood (the message says which).
        TokenBudgetError: one message (with its tool results) cannot fit the budget.

    Example:
        >>> from langmem.testing import ScriptedChatModel
        >>> model = ScriptedChatModel(responses=["Bob asked about tea."])
        >>> chat = [{"role": "user", "content": "Tell me about tea. " * 20},
        ...         {"role": "assistant", "content": "Tea is a drink. " * 20},
        ...         {"role": "user", "content": "And coffee?"}]
        >>> result = summarize_messages(chat, running_summary=None, model=model, max_tokens=200,
        ...                             max_tokens_before_summary=150, max_summary_tokens=30)
        >>> [m.type for m in result.messages], result.running_summary.summary
        (['system', 'ai', 'human'], 'Bob asked about tea.')
    """
    settings = _settings(
        max_tokens,
        max_tokens_before_summary,
        max_summary_tokens,
        token_counter,
        initial_summary_prompt,
        existing_summary_prompt,
        final_prompt,
    )
    return run_sync(_summarize(messages, running_summary, ModelRef(model), settings))


async def asummarize_messages(
    messages: list[AnyMessage],
    *,
    running_summary: RunningSummary | None,
    model: LanguageModelLike,
    max_tokens: int,
    max_tokens_before_summary: int | None = None,
    max_summary_tokens: int = 256,
    token_counter: TokenCounter = count_tokens_approximately,
    initial_summary_prompt: ChatPromptTemplate = DEFAULT_INITIAL_SUMMARY_PROMPT,
    existing_summary_prompt: ChatPromptTemplate = DEFAULT_EXISTING_SUMMARY_PROMPT,
    final_prompt: ChatPromptTemplate = DEFAULT_FINAL_SUMMARY_PROMPT,
) -> SummarizationResult:
    """Async twin of :func:`summarize_messages` (same logic, same requests to the model).

    Example:
        >>> import asyncio
        >>> from langmem.testing import ScriptedChatModel
        >>> chat = [{"role": "user", "content": "hi"}]
        >>> result = asyncio.run(asummarize_messages(chat, running_summary=None,
        ...     model=ScriptedChatModel(), max_tokens=100, max_summary_tokens=20))
        >>> [m.content for m in result.messages]
        ['hi']
    """
    settings = _settings(
        max_tokens,
        max_tokens_before_summary,
        max_summary_tokens,
        token_counter,
        initial_summary_prompt,
        existing_summary_prompt,
        final_prompt,
    )
    return await run_async(_summarize(messages, running_summary, ModelRef(model), settings))


def _summarize(
    messages: Any, running_summary: Any, model: ModelRef, settings: _Settings
) -> Flow[SummarizationResult]:
    previous = _coerce_summary(running_summary)
    tc = settings.token_counter
    covered = set(previous.summarized_message_ids) if previous else set()
    last_covered = previous.last_summarized_message_id if previous else None
    parsed = _plan.parse(messages, covered, previous is not None, last_covered)
    system, units = parsed.system, parsed.units
    summary = previous.summary if previous else None

    pending = _output(settings, system, summary, units)
    if not units or not _due(settings, units, pending):
        return SummarizationResult(messages=pending, running_summary=previous)
    _plan.count_units(units, tc)

    system_tokens = tc(system) if system else 0
    reserve = tc(_output(settings, [], "", [])) + settings.max_summary_tokens
    room = settings.max_tokens - system_tokens - reserve
    if room <= 0:
        raise TokenBudgetError(
            f"the system message takes {system_tokens} tokens and the summary needs up to "
            f"{reserve} (max_summary_tokens={settings.max_summary_tokens} plus its wording): "
            f"nothing is left of max_tokens={settings.max_tokens} for the conversation. Raise "
            "max_tokens, shorten the system message, or lower max_summary_tokens.",
            tokens=system_tokens + reserve,
            budget=settings.max_tokens,
        )
    most = _plan.choose_split(units, room)  # summarize at most this many units...
    need = max(_plan.least_split(units, room), min(most, 1))  # ...and at least this many

    summarized_ids = covered  # a private copy already, no longer read by anything else
    last_id = last_covered
    done = 0  # units read by the summarizing model in this call
    forced = False  # True once the summary came out longer than the room kept for it
    while True:
        while done < need:
            # each request takes as many units as fit, so a backlog costs few calls
            end = _pack_chunk(settings, units, done, max(most, need), summary)
            if end == done:
                if not forced and _suffix_tokens(units, done) <= room:
                    break  # too large to summarize, but it fits the output: keep it
                if _splittable(units[done]):
                    # one long message: the model reads it in parts, extending the summary
                    try:
                        summary = yield from _read_in_parts(settings, model, units[done], summary)
                    except _NoRoom as stuck:
                        summary = stuck.summary
                        partial = _result(
                            settings, system, summary, units[done:], summarized_ids, last_id
                        )
                        worked = done or stuck.parts
                        raise _unsummarizable(
                            settings, units[done], summary, partial if worked else None
                        ) from None
                    summarized_ids.add(units[done].first_id)
                    last_id = units[done].first_id
                    done += 1
                    continue
                partial = _result(settings, system, summary, units[done:], summarized_ids, last_id)
                raise _unsummarizable(settings, units[done], summary, partial if done else None)
            request = _request(settings, [u.text for u in units[done:end]], summary)
            response = yield ModelCall(model.get(), request, _NO_STREAM)
            summary = _summary_text(response)
            for unit in units[done:end]:
                summarized_ids.update(str(m.id) for m in unit.messages)
            last_id = str(units[end - 1].messages[-1].id)
            done = end
        result = (
            _result(settings, system, summary, units[done:], summarized_ids, last_id)
            if done
            else SummarizationResult(messages=pending, running_summary=previous)
        )
        size = tc(result.messages)
        if size <= settings.max_tokens:
            return result
        if done >= len(units) - 1:
            raise TokenBudgetError(
                f"the output takes {size} tokens, over max_tokens={settings.max_tokens}, although "
                f"only the newest message is left besides the system message and the summary "
                f"(the summary takes {tc(_output(settings, [], summary or '', []))} tokens; "
                f"max_summary_tokens={settings.max_summary_tokens}). Bind an output limit to the "
                "summarizing model (model.bind(max_tokens=...)), raise max_tokens, or shorten the "
                "system message. The summary written so far is in this error's `result`.",
                tokens=size,
                budget=settings.max_tokens,
                result=result,
            )
        # the summary came out longer than the room kept for it: fold the next unit in too
        need = done + 1
        forced = True


def _result(
    settings: _Settings,
    system: list[BaseMessage],
    summary: str | None,
    kept: Sequence[Unit],
    summarized_ids: set[str],
    last_id: str | None,
) -> SummarizationResult:
    return SummarizationResult(
        messages=_output(settings, system, summary, kept),
        running_summary=RunningSummary(str(summary), summarized_ids, last_id),
    )


def _due(settings: _Settings, units: list[Unit], pending: list[AnyMessage]) -> bool:
    """Whether to summarize: the new messages passed the threshold, or the output the budget."""
    tc = settings.token_counter
    total = tc(pending)
    if total <= settings.threshold:
        return False  # the new messages are part of it
    if total > max(settings.threshold, settings.max_tokens):
        return True
    return tc([m for unit in units for m in unit.messages]) > settings.threshold


def _settings(
    max_tokens: Any,
    max_tokens_before_summary: Any,
    max_summary_tokens: Any,
    token_counter: Any,
    initial_prompt: Any,
    existing_prompt: Any,
    final_prompt: Any,
) -> _Settings:
    _check_positive("max_tokens", max_tokens)
    _check_positive("max_summary_tokens", max_summary_tokens)
    if max_tokens_before_summary is not None:
        _check_positive("max_tokens_before_summary", max_tokens_before_summary)
    if max_summary_tokens >= max_tokens:
        raise ConfigurationError(
            f"max_summary_tokens={max_summary_tokens} is not below max_tokens={max_tokens}: the "
            "summary must leave room for recent messages. Lower max_summary_tokens or raise "
            "max_tokens."
        )
    if not callable(token_counter):
        raise ConfigurationError(
            f"token_counter={token_counter!r} is not callable: pass a function that takes a list "
            "of messages and returns a token count, such as count_tokens_approximately."
        )
    for name, prompt in (
        ("initial_summary_prompt", initial_prompt),
        ("existing_summary_prompt", existing_prompt),
        ("final_prompt", final_prompt),
    ):
        if not isinstance(prompt, ChatPromptTemplate):
            raise ConfigurationError(
                f"{name}={prompt!r} is not a ChatPromptTemplate: build one with "
                "ChatPromptTemplate.from_messages([...]) using the variables documented for it."
            )
    return _Settings(
        max_tokens=max_tokens,
        threshold=max_tokens if max_tokens_before_summary is None else max_tokens_before_summary,
        max_summary_tokens=max_summary_tokens,
        token_counter=token_counter,
        initial_prompt=initial_prompt,
        existing_prompt=existing_prompt,
        final_prompt=final_prompt,
    )


def _check_positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigurationError(
            f"{name}={value!r} is not a positive whole number of tokens: pass an int above 0."
        )


def _coerce_summary(value: Any) -> RunningSummary | None:
    if value is None or isinstance(value, RunningSummary):
        return value
    if isinstance(value, dict) and "summary" in value:
        return RunningSummary(
            summary=str(value["summary"]),
            summarized_message_ids=set(value.get("summarized_message_ids") or ()),
            last_summarized_message_id=value.get("last_summarized_message_id"),
        )
    raise InvalidInputError(
        f"running_summary={value!r} is not a RunningSummary: pass the running_summary returned by "
        "the previous call, or None to start."
    )


def _output(
    settings: _Settings, system: list[BaseMessage], summary: str | None, units: Sequence[Unit]
) -> list[AnyMessage]:
    recent = [m for unit in units for m in unit.messages]
    if summary is None:
        return [*system, *recent]  # type: ignore[list-item]
    built = settings.final_prompt.format_messages(
        system_message=system, summary=summary, messages=recent
    )
    for index, message in enumerate(built):
        if message.id is None:
            message.id = f"{SUMMARY_ID_PREFIX}{index}"
    return built  # type: ignore[return-value]


def _request(settings: _Settings, texts: Sequence[str], summary: str | None) -> list[BaseMessage]:
    transcript = transcript_message(texts)
    if summary is None:
        return settings.initial_prompt.format_messages(messages=[transcript])
    return settings.existing_prompt.format_messages(messages=[transcript], existing_summary=summary)


def _pack_chunk(
    settings: _Settings, units: list[Unit], start: int, stop: int, summary: str | None
) -> int:
    """End of the largest run of units from ``start`` whose request fits ``max_tokens``."""
    tc = settings.token_counter
    budget = settings.max_tokens

    def fits(end: int) -> bool:
        return tc(_request(settings, [u.text for u in units[start:end]], summary)) <= budget

    # estimate from the transcript length (about 4 characters a token), then check exactly
    room = budget - tc(_request(settings, [], summary))
    end, chars = start, 0
    while end < stop:
        chars += len(units[end].text) + 2
        if chars // 4 > room:
            break
        end += 1
    return _largest_fitting(fits, start, stop, end)


def _largest_fitting(fits: Callable[[int], bool], low: int, high: int, hint: int) -> int:
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


def _splittable(unit: Unit) -> bool:
    (message,) = unit.messages if len(unit.messages) == 1 else (None,)
    return message is not None and not (isinstance(message, AIMessage) and message.tool_calls)


def _read_in_parts(
    settings: _Settings, model: ModelRef, unit: Unit, summary: str | None
) -> Flow[str]:
    """Send one message too long for a request in consecutive parts; return the new summary."""
    tc = settings.token_counter
    text = unit.text
    start = parts = 0
    while start < len(text):
        fits = partial(_part_fits, settings, text, start, summary)
        if not fits(min(start + _MIN_PART_CHARS, len(text))):
            raise _NoRoom(summary, parts)
        room = settings.max_tokens - tc(_part_request(settings, text, start, start, summary))
        end = _largest_fitting(fits, start + 1, len(text), start + room * 4)
        if end < len(text):  # end the part at a space when there is one in its second half
            space = text.rfind(" ", start + (end - start) // 2, end)
            end = space if space > start else end
        request = _part_request(settings, text, start, end, summary)
        response = yield ModelCall(model.get(), request, _NO_STREAM)
        summary = _summary_text(response)
        start = end
        parts += 1
    assert summary is not None
    return summary


class _NoRoom(Exception):
    """The summary leaves no room for a part of a long message; what was read so far."""

    def __init__(self, summary: str | None, parts: int) -> None:
        super().__init__()
        self.summary = summary
        self.parts = parts


def _part_request(
    settings: _Settings, text: str, start: int, end: int, summary: str | None
) -> list[BaseMessage]:
    before = PART_CONTINUED if start else ""
    after = PART_CUT if end < len(text) else ""
    return _request(settings, [before + text[start:end] + after], summary)


def _part_fits(settings: _Settings, text: str, start: int, summary: str | None, end: int) -> bool:
    request = _part_request(settings, text, start, end, summary)
    return settings.token_counter(request) <= settings.max_tokens


def _suffix_tokens(units: list[Unit], start: int) -> int:
    return sum(unit.tokens for unit in units[start:])


def _summary_text(response: Any) -> str:
    text = content_text(getattr(response, "content", response)).strip()
    if not text:
        raise ModelOutputError(
            "the summarizing model returned an empty summary; the messages it was sent would be "
            "lost. Check the model and the summary prompts (they must ask for a summary).",
            attempts=1,
            problems=["empty summary"],
        )
    return text


def _unsummarizable(
    settings: _Settings, unit: Unit, summary: str | None, partial: SummarizationResult | None
) -> TokenBudgetError:
    tc = settings.token_counter
    size = tc(_request(settings, [unit.text], summary))
    summary_tokens = tc(_output(settings, [], summary, [])) if summary is not None else 0
    note = (
        f" The current summary alone takes {summary_tokens} tokens, over "
        f"max_summary_tokens={settings.max_summary_tokens}: bind an output limit to the model "
        "(model.bind(max_tokens=...))."
        if summary_tokens > settings.max_summary_tokens
        else ""
    )
    why = (
        " (a tool call is read together with its results, never split)"
        if not _splittable(unit)
        else " (even a short part of it leaves no room)"
    )
    return TokenBudgetError(
        f"message id={unit.first_id!r} takes {unit.tokens} tokens"
        f"{' with its tool results' if len(unit.messages) > 1 else ''}: the request to summarize "
        f"it would take {size} tokens, over max_tokens={settings.max_tokens}{why}, and it does "
        f"not fit the output either.{note} Raise max_tokens, or shorten that message (for "
        "example truncate long tool output)."
        + (" The summary written so far is in this error's `result`." if partial else ""),
        tokens=size,
        budget=settings.max_tokens,
        message_id=unit.first_id,
        result=partial,
    )


from langmem.short_term._node import SummarizationNode  # noqa: E402  (it builds on the above)
