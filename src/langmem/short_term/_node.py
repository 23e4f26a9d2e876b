"""SummarizationNode: running summaries as a LangGraph node or ``pre_model_hook``."""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from typing import Any

from langchain_core.language_models import LanguageModelLike
from langchain_core.messages import RemoveMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableConfig
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from pydantic import BaseModel

from langmem._flow import run_async, run_sync
from langmem._models import ModelRef
from langmem.errors import InvalidInputError
from langmem.short_term import summarization as _s
from langmem.short_term._plan import TokenCounter
from langmem.short_term._prompts import (
    DEFAULT_EXISTING_SUMMARY_PROMPT,
    DEFAULT_FINAL_SUMMARY_PROMPT,
    DEFAULT_INITIAL_SUMMARY_PROMPT,
)

try:  # where LangGraph keeps it since 0.4; the public alias is slated for removal
    from langgraph._internal._runnable import RunnableCallable
except ImportError:  # pragma: no cover - older LangGraph
    from langgraph.utils.runnable import RunnableCallable  # type: ignore[no-redef,attr-defined]


_KEPT_THREADS = 256


def _thread_of(config: RunnableConfig | None) -> str | None:
    thread = ((config or {}).get("configurable") or {}).get("thread_id")
    return None if thread is None else str(thread)


class SummarizationNode(RunnableCallable):
    """A LangGraph node that keeps the messages it passes on within ``max_tokens``.

    It reads ``state[input_messages_key]`` and ``state["context"]["running_summary"]`` and returns
    ``{output_messages_key: messages, "context": {..., "running_summary": RunningSummary}}``
    (``context`` only once there is a summary). When the input and output keys are the same, the
    update replaces the whole list: ``RemoveMessage(REMOVE_ALL_MESSAGES)`` first, then the new
    messages. Parameters are those of :func:`~langmem.short_term.summarize_messages`; when the
    budget cannot be kept the node still returns (one ``TokenBudgetWarning``), unless
    ``strict=True``.

    The graph state needs a ``context: dict[str, Any]`` key to carry the summary between turns
    (with ``create_react_agent``, a subclass of ``AgentState`` as ``state_schema`` and
    ``output_messages_key="llm_input_messages"``). Without it, the node warns once and reuses
    the last summary of each thread kept in memory.

    Example:
        >>> from langmem.testing import ScriptedChatModel
        >>> node = SummarizationNode(
        ...     model=ScriptedChatModel(), max_tokens=100, max_summary_tokens=20
        ... )
        >>> update = node.invoke({"messages": [{"role": "user", "content": "hi"}]})
        >>> [m.content for m in update["summarized_messages"]]
        ['hi']
    """

    def __init__(
        self,
        *,
        model: LanguageModelLike,
        max_tokens: int,
        max_tokens_before_summary: int | None = None,
        max_summary_tokens: int = 256,
        token_counter: TokenCounter = count_tokens_approximately,
        initial_summary_prompt: ChatPromptTemplate = DEFAULT_INITIAL_SUMMARY_PROMPT,
        existing_summary_prompt: ChatPromptTemplate = DEFAULT_EXISTING_SUMMARY_PROMPT,
        final_prompt: ChatPromptTemplate = DEFAULT_FINAL_SUMMARY_PROMPT,
        input_messages_key: str = "messages",
        output_messages_key: str = "summarized_messages",
        name: str = "summarization",
        strict: bool = False,
    ) -> None:
        self._settings = _s._settings(
            max_tokens,
            max_tokens_before_summary,
            max_summary_tokens,
            token_counter,
            initial_summary_prompt,
            existing_summary_prompt,
            final_prompt,
            strict,
        )
        self._model = ModelRef(model)
        # the last summary per thread, in case the graph state cannot carry it (no "context")
        self._kept: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._warned = False
        super().__init__(self._func, self._afunc, name=name, trace=False)
        self.model = model
        self.max_tokens = max_tokens
        self.max_tokens_before_summary = max_tokens_before_summary
        self.max_summary_tokens = max_summary_tokens
        self.token_counter = token_counter
        self.initial_summary_prompt = initial_summary_prompt
        self.existing_summary_prompt = existing_summary_prompt
        self.final_prompt = final_prompt
        self.input_messages_key = input_messages_key
        self.output_messages_key = output_messages_key
        self.strict = strict

    def _func(self, input: Any, config: RunnableConfig) -> dict[str, Any]:
        messages, context = self._parse_input(input)
        summary = self._previous_summary(context, config)
        flow = _s._summarize(messages, summary, self._model, self._settings)
        return self._state_update(context, run_sync(flow), config)

    async def _afunc(self, input: Any, config: RunnableConfig) -> dict[str, Any]:
        messages, context = self._parse_input(input)
        summary = self._previous_summary(context, config)
        flow = _s._summarize(messages, summary, self._model, self._settings)
        return self._state_update(context, await run_async(flow), config)

    def _previous_summary(self, context: dict[str, Any], config: RunnableConfig) -> Any:
        if "running_summary" in context:
            return context["running_summary"]
        thread = _thread_of(config)
        with self._lock:
            kept = self._kept.get(thread) if thread is not None else None
        if kept is None:
            return None
        # a summary written for this thread last time did not come back: the graph state has
        # no "context" channel. Use the copy kept here, and say how to fix it.
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"{self.name}: the running summary written on the previous turn of thread "
                f"{thread!r} was not in the state this turn, so the graph state has no "
                "'context' key and LangGraph dropped it. Add `context: dict[str, Any]` to the "
                "state schema (for create_react_agent: a subclass of AgentState passed as "
                "state_schema). Until then this node reuses a copy kept in memory, which a "
                "restart loses (the whole history would be summarized again).",
                RuntimeWarning,
                stacklevel=2,
            )
        return kept

    def _parse_input(self, state: Any) -> tuple[Any, dict[str, Any]]:
        key = self.input_messages_key
        if isinstance(state, dict):
            messages = state.get(key)
            context = state.get("context")
            present = sorted(map(str, state))
        elif isinstance(state, BaseModel):
            messages = getattr(state, key, None)
            context = getattr(state, "context", None)
            present = sorted(type(state).model_fields)
        else:
            raise InvalidInputError(
                f"{self.name} got state of type {type(state).__name__}: pass a dict or a "
                f"pydantic model with a {key!r} field."
            )
        if messages is None and key in present:
            raise InvalidInputError(
                f"{self.name} found {key!r} in the state set to None: put the conversation's "
                f"messages there (a list, [] for none yet), or set input_messages_key to the key "
                "holding them."
            )
        if messages is None:
            raise InvalidInputError(
                f"{self.name} found no {key!r} in the state (keys: {present}): add it to the "
                f"state, or set input_messages_key to the key holding the messages."
            )
        if context is None:
            context = {}
        if not isinstance(context, dict):
            raise InvalidInputError(
                f"state['context'] is {type(context).__name__}, not a dict: declare it as "
                "`context: dict[str, Any]` in the graph state."
            )
        return messages, context

    def _state_update(
        self, context: dict[str, Any], result: _s.SummarizationResult, config: RunnableConfig
    ) -> dict[str, Any]:
        update: dict[str, Any] = {self.output_messages_key: result.messages}
        thread = _thread_of(config)
        if result.running_summary is not None and thread is not None:
            with self._lock:
                self._kept[thread] = result.running_summary
                self._kept.move_to_end(thread)
                while len(self._kept) > _KEPT_THREADS:
                    self._kept.popitem(last=False)
        if result.running_summary is not None:
            update["context"] = {**context, "running_summary": result.running_summary}
            if self.input_messages_key == self.output_messages_key:
                update[self.output_messages_key] = [
                    RemoveMessage(id=REMOVE_ALL_MESSAGES),
                    *result.messages,
                ]
        return update
