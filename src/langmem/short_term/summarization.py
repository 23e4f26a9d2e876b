"""Running summaries that keep a conversation inside a token budget.

Core types:

- :func:`summarize_messages` / :func:`asummarize_messages`: one call per turn; returns the
  messages to send to the model (system message, summary, recent messages) and the updated
  :class:`RunningSummary` to pass back next turn.
- :class:`SummarizationNode`: the same as a LangGraph node (or ``pre_model_hook``).
- :class:`RunningSummary`, :class:`SummarizationResult`: the state carried between turns;
  :class:`BudgetOverrun`: what a result reports when the budget could not be kept.

What to summarize is chosen as upstream langmem chooses it, with the caller's ``token_counter``
and nothing else: walking from the oldest new message, the cutoff is the first message at which
the tokens so far reach ``max_tokens_before_summary`` while the rest fits ``max_tokens`` minus
``max_summary_tokens`` and the system message. On top of that, for any conversation:

- an AI message with tool calls is never separated from its tool results, in the output or in
  what the summarizing model is sent (the cutoff moves to the end of the group);
- no message is dropped unseen: each one is in the output or was read by the summarizing model,
  in requests that fit ``max_tokens`` (a backlog in several, a long message in consecutive
  parts). Only a message too long even for that (more than 16 requests, or a budget with no room
  for any part) is read as a bounded head and tail, and the summary says how much was skipped;
- the call always returns on valid input. When the budget cannot be met (the newest messages
  alone do not fit, the summary came out longer than ``max_summary_tokens``, a message was read
  only in part), the result says so in :attr:`SummarizationResult.overrun` and one
  :class:`TokenBudgetWarning` is issued; ``strict=True`` raises
  :class:`~langmem.errors.TokenBudgetError` instead. The current turn is then kept verbatim, and
  the next call starts afresh from the running summary (an overrun never carries over).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseLanguageModel, LanguageModelLike
from langchain_core.messages import AnyMessage, BaseMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.prompts import ChatPromptTemplate

from langmem._flow import Flow, run_async, run_sync
from langmem._models import ModelRef
from langmem.errors import ConfigurationError, InvalidInputError, TokenBudgetError
from langmem.short_term import _plan, _reading
from langmem.short_term._plan import SUMMARY_ID_PREFIX, TokenCounter, Unit
from langmem.short_term._prompts import (
    DEFAULT_EXISTING_SUMMARY_PROMPT,
    DEFAULT_FINAL_SUMMARY_PROMPT,
    DEFAULT_INITIAL_SUMMARY_PROMPT,
)

__all__ = [
    "DEFAULT_EXISTING_SUMMARY_PROMPT",
    "DEFAULT_FINAL_SUMMARY_PROMPT",
    "DEFAULT_INITIAL_SUMMARY_PROMPT",
    "BudgetOverrun",
    "RunningSummary",
    "SummarizationNode",
    "SummarizationResult",
    "TokenBudgetWarning",
    "TokenCounter",
    "asummarize_messages",
    "summarize_messages",
]


class TokenBudgetWarning(RuntimeWarning):
    """A summarization result does not keep to its budget (see ``result.overrun``)."""


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

    last_summarized_position: int | None = None
    """Place of that message in the whole conversation (0 is the first message). Messages
    without an id get ids from their place, so this says where new messages start when only
    recent history is passed. ``None`` in summaries written before it existed."""


@dataclass
class BudgetOverrun:
    """Why a result does not keep to the budget (the call still returned a usable result)."""

    tokens: int
    """Tokens of the returned messages, with the caller's ``token_counter``."""

    budget: int
    """``max_tokens``."""

    problems: list[str] = field(default_factory=list)
    """What could not be kept to, one sentence each (also in the warning)."""


@dataclass
class SummarizationResult:
    """What one summarization call returns."""

    messages: list[AnyMessage]
    """Messages to send to the model: system message, summary message (if any), recent ones."""

    running_summary: RunningSummary | None = None
    """The summary to pass back next time; ``None`` when nothing was ever summarized."""

    overrun: BudgetOverrun | None = None
    """Set when the budget could not be kept to this time (also warned); ``None`` otherwise."""


@dataclass(frozen=True)
class _Settings:
    max_tokens: int
    threshold: int
    max_summary_tokens: int
    token_counter: TokenCounter
    initial_prompt: ChatPromptTemplate
    existing_prompt: ChatPromptTemplate
    final_prompt: ChatPromptTemplate
    strict: bool = False


# warnings point at the caller of summarize_messages (_reported, the flow, run_sync, the function)
_STACKLEVEL = 5

_UNALIGNED = (
    "summarize_messages: messages without ids do not line up with the running summary (the "
    "first ones hold other content than the messages it covers at those places), so they were "
    "all treated as new and may be summarized again. Pass either the whole conversation, or "
    "what the previous call returned followed by the new messages; or give messages ids."
)


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
    strict: bool = False,
) -> SummarizationResult:
    """Fit a conversation into ``max_tokens`` by summarizing its older messages.

    Nothing is summarized, and no model is called, until the messages not yet summarized reach
    ``max_tokens_before_summary`` tokens. Then the oldest of them are summarized (extending
    ``running_summary``) so that the rest fits ``max_tokens`` minus ``max_summary_tokens`` and
    the system message, the same messages upstream langmem would summarize; the output is the
    system message, one summary message and the rest.

    Args:
        messages: The conversation: LangChain messages or ``{"role", "content"}`` dicts. Pass
            the whole conversation, or what the previous call returned followed by the new
            messages. Messages without an id get one from their place in the conversation.
        running_summary: The summary returned by the previous call, or ``None``.
        model: The summarizing chat model (or a ``"provider:model"`` string). It is called as
            ``model.invoke(messages)``, like upstream; a runnable still gets the run's config.
        max_tokens: Most tokens the output may hold once it summarizes; also the most tokens
            sent to the summarizing model in one request.
        max_tokens_before_summary: Summarize once the messages not yet summarized reach this
            many tokens; defaults to ``max_tokens``.
        max_summary_tokens: Room kept for the summary in the output (0 or more, below
            ``max_tokens``). It does not limit the model: bind one, e.g.
            ``model.bind(max_tokens=max_summary_tokens)``.
        token_counter: Counts the tokens of a list of messages (``len`` counts messages); a
            chat model counts with its ``get_num_tokens_from_messages``, as in ``trim_messages``.
        initial_summary_prompt: Prompt for the first summary (variable ``messages``).
        existing_summary_prompt: Prompt to extend a summary (``messages``, ``existing_summary``).
        final_prompt: Builds the output (``system_message``, ``summary``, ``messages``).
        strict: Raise :class:`~langmem.errors.TokenBudgetError` when the budget cannot be kept,
            instead of returning a result with ``overrun`` set and a warning.

    Returns:
        The messages to send to the model, the running summary to keep, and ``overrun`` when
        the budget could not be kept.

    Raises:
        ConfigurationError: a budget is not a whole number of tokens, or
            ``max_summary_tokens >= max_tokens``.
        InvalidInputError: a message cannot be understood, or a new message reuses an id the
            running summary covers (the message says which).
        TokenBudgetError: only with ``strict=True``.

    Example:
        >>> from langmem.testing import ScriptedChatModel
        >>> model = ScriptedChatModel(default="Bob asked about tea.")
        >>> chat = [{"role": "user", "content": "Tell me about tea. " * 20},
        ...         {"role": "assistant", "content": "Tea is a drink. " * 20},
        ...         {"role": "user", "content": "And coffee?"}]
        >>> result = summarize_messages(chat, running_summary=None, model=model, max_tokens=200,
        ...                             max_tokens_before_summary=150, max_summary_tokens=30)
        >>> [m.type for m in result.messages], result.running_summary.summary
        (['system', 'human'], 'Bob asked about tea.')
    """
    settings = _settings(
        max_tokens,
        max_tokens_before_summary,
        max_summary_tokens,
        token_counter,
        initial_summary_prompt,
        existing_summary_prompt,
        final_prompt,
        strict,
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
    strict: bool = False,
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
        strict,
    )
    return await run_async(_summarize(messages, running_summary, ModelRef(model), settings))


def _summarize(
    messages: Any, running_summary: Any, model: ModelRef, settings: _Settings
) -> Flow[SummarizationResult]:
    previous = _coerce_summary(running_summary)
    tc = settings.token_counter
    parsed = _plan.parse(
        messages,
        set(previous.summarized_message_ids) if previous else set(),
        previous.summary if previous else None,
        previous.last_summarized_message_id if previous else None,
        previous.last_summarized_position if previous else None,
    )
    system, units = parsed.system, parsed.units
    if parsed.unaligned:
        warnings.warn(_UNALIGNED, RuntimeWarning, stacklevel=_STACKLEVEL - 1)
    summary = previous.summary if previous else None
    pending = SummarizationResult(_output(settings, system, summary, units), previous)
    if not units:
        return pending

    # where to cut, exactly as upstream langmem does with the same counter
    flat = [m for unit in units for m in unit.messages]
    counts = [tc([m]) for m in flat]
    room = settings.max_tokens - settings.max_summary_tokens
    if parsed.head_system is not None:
        room -= tc([parsed.head_system])
    split = _plan.choose_split(counts, tc(flat), units, settings.threshold, room)

    if split == 0:  # under the threshold: nothing to do (the output may exceed max_tokens)
        return pending
    if split is None:  # no cutoff leaves a rest that fits: summarize up to the current turn
        split = _plan.fallback_split(units)
    elif split == len(units) and (units[-1].has_human or tc(units[-1].messages) <= room):
        # the threshold was reached only by the newest message: keep it (when it fits, and
        # always when it is the question), so the model has a turn to answer
        split -= 1
    problems: list[str] = []
    kept = flat[len(flat) - sum(len(u.messages) for u in units[split:]) :]
    kept_over = bool(kept) and tc(kept) > room
    if kept_over:
        problems.append(
            f"the newest messages (from id={units[split].first_id!r}) take {tc(kept)} tokens, "
            f"more than the {room} left by max_tokens={settings.max_tokens} once the system "
            f"message and max_summary_tokens={settings.max_summary_tokens} are counted; they "
            "are kept verbatim (the current turn is never summarized away)"
        )
        if settings.strict:
            raise TokenBudgetError(
                f"{problems[0]}. Raise max_tokens, lower max_summary_tokens, or shorten those "
                "messages (for example truncate long tool output).",
                tokens=tc(kept),
                budget=max(room, 0),
                message_id=units[split].first_id,
            )
    if split == 0:
        return _reported(settings, pending, problems)

    reader = _reading.Reader(
        model, settings.max_tokens, tc, settings.initial_prompt, settings.existing_prompt
    )
    skipped: list[_reading.Skipped] = []
    summary = yield from _reading.read_units(reader, units[:split], summary, skipped)
    assert summary is not None
    if skipped:
        summary = "\n".join([summary, *(s.note() for s in skipped)])
        problems.append(
            f"{len(skipped)} message(s) too long for max_tokens={settings.max_tokens} were read "
            f"in part ({sum(s.skipped for s in skipped)} characters not read, from "
            f"{', '.join(s.message_id for s in skipped[:3])}{'...' if len(skipped) > 3 else ''}"
            "; the summary says so)"
        )
    if reader.oversized:
        problems.append(
            f"{len(reader.oversized)} request(s) to the summarizing model took up to "
            f"{max(reader.oversized)} tokens, over max_tokens={settings.max_tokens}: the prompt "
            "with the summary so far leaves no room for any part of a message (raise "
            "max_tokens; if the summary is long, bind an output limit to the summarizing "
            "model: model.bind(max_tokens=...))"
        )
    covered = set(previous.summarized_message_ids) if previous else set()
    for unit in units[:split]:
        covered.update(str(m.id) for m in unit.messages)
    last = units[split - 1]
    result = SummarizationResult(
        messages=_output(settings, system, summary, units[split:]),
        running_summary=RunningSummary(
            summary=summary,
            summarized_message_ids=covered,
            last_summarized_message_id=str(last.messages[-1].id),
            last_summarized_position=max(p for u in units[:split] for p in u.positions),
        ),
    )
    if (skipped or reader.oversized) and settings.strict:
        raise TokenBudgetError(
            f"{problems[-1]} (strict=True). Raise max_tokens or shorten that message. The "
            "summary written so far is in this error's `result`.",
            tokens=max(reader.oversized or [skipped[0].total]),
            budget=settings.max_tokens,
            message_id=skipped[0].message_id if skipped else None,
            result=result,
        )
    size = tc(result.messages)
    if size > settings.max_tokens and not kept_over:
        summary_tokens = tc(_output(settings, [], summary, []))
        problems.append(
            f"the output takes {size} tokens, over max_tokens={settings.max_tokens}: the summary "
            f"message takes {summary_tokens} (max_summary_tokens={settings.max_summary_tokens}; "
            "bind an output limit to the summarizing model, model.bind(max_tokens=...)) and the "
            f"messages kept verbatim {tc(kept)}"
        )
        if settings.strict:
            raise TokenBudgetError(
                problems[0] + ". The summary written so far is in this error's `result`.",
                tokens=size,
                budget=settings.max_tokens,
                result=result,
            )
    return _reported(settings, result, problems)


def _reported(
    settings: _Settings, result: SummarizationResult, problems: list[str]
) -> SummarizationResult:
    if not problems:
        return result
    tc = settings.token_counter
    result.overrun = BudgetOverrun(
        tokens=tc(result.messages), budget=settings.max_tokens, problems=problems
    )
    warnings.warn(
        "summarize_messages could not keep to the budget: " + "; ".join(problems) + ".",
        TokenBudgetWarning,
        stacklevel=_STACKLEVEL,
    )
    return result


def _settings(
    max_tokens: Any,
    max_tokens_before_summary: Any,
    max_summary_tokens: Any,
    token_counter: Any,
    initial_prompt: Any,
    existing_prompt: Any,
    final_prompt: Any,
    strict: Any = False,
) -> _Settings:
    max_tokens = _check_tokens("max_tokens", max_tokens, least=1)
    max_summary_tokens = _check_tokens("max_summary_tokens", max_summary_tokens, least=0)
    if max_tokens_before_summary is not None:
        max_tokens_before_summary = _check_tokens(
            "max_tokens_before_summary", max_tokens_before_summary, least=0
        )
    if max_summary_tokens >= max_tokens:
        raise ConfigurationError(
            f"max_summary_tokens={max_summary_tokens} is not below max_tokens={max_tokens}: the "
            "summary must leave room for recent messages. Lower max_summary_tokens or raise "
            "max_tokens."
        )
    if isinstance(token_counter, BaseLanguageModel):
        # as LangChain's trim_messages: a model counts with its own tokenizer
        token_counter = token_counter.get_num_tokens_from_messages
    if not callable(token_counter):
        raise ConfigurationError(
            f"token_counter={token_counter!r} is not callable: pass a function that takes a list "
            "of messages and returns a token count, such as count_tokens_approximately or len, "
            "or a chat model (its get_num_tokens_from_messages counts)."
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
        token_counter=_checked_counter(token_counter),
        initial_prompt=initial_prompt,
        existing_prompt=existing_prompt,
        final_prompt=final_prompt,
        strict=bool(strict),
    )


def _checked_counter(token_counter: TokenCounter) -> TokenCounter:
    """``token_counter``, refusing a count that is not a number of tokens (None, negative, NaN, inf)
    with an error naming the counter and its answer instead of a TypeError deep inside."""

    def count(messages: Iterable[Any]) -> int:
        tokens = token_counter(messages)
        number = not isinstance(tokens, bool) and isinstance(tokens, numbers.Real)
        if not number or not 0 <= tokens < math.inf:
            raise ConfigurationError(
                f"token_counter={token_counter!r} returned {tokens!r}: a token counter must "
                "return a finite number of tokens, 0 or more, for a list of messages. Fix the "
                "counter (count_tokens_approximately and len are valid counters)."
            )
        return tokens  # type: ignore[return-value]

    return count


def _check_tokens(name: str, value: Any, least: int) -> int:
    """``value`` as an int: a whole number (``2000``, ``2000.0``, a numpy integer) of at least
    ``least``."""
    whole = isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or value < least:
        raise ConfigurationError(
            f"{name}={value!r} is not a whole number of tokens of at least {least}: pass an int "
            f"of {least} or more."
        )
    return int(value)


def _coerce_summary(value: Any) -> RunningSummary | None:
    if value is None or isinstance(value, RunningSummary):
        return value
    if isinstance(value, dict) and "summary" in value:
        return RunningSummary(
            summary=str(value["summary"]),
            summarized_message_ids=set(value.get("summarized_message_ids") or ()),
            last_summarized_message_id=value.get("last_summarized_message_id"),
            last_summarized_position=value.get("last_summarized_position"),
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


from langmem.short_term._node import SummarizationNode  # noqa: E402  (it builds on the above)
