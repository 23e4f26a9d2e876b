"""A scripted chat model: replays queued replies and records every request it receives."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

from langmem.errors import ConfigurationError

Reply = Union[  # noqa: UP007 - string forward reference needs typing.Union
    AIMessage, str, Callable[["RecordedRequest"], AIMessage | str]
]


class ScriptExhaustedError(AssertionError):
    """The scripted model was called more times than replies were queued."""


@dataclass
class RecordedRequest:
    """One call to the scripted model, as the model saw it.

    Attributes:
        messages: the messages sent, in order.
        tools: the bound tools, as OpenAI-style tool schemas (dicts), in bind order.
        tool_choice: the tool choice that was bound, if any.
        kwargs: every other keyword the call carried (``stop`` included).
    """

    messages: list[BaseMessage]
    tools: list[dict[str, Any]] = field(default_factory=list)
    tool_choice: Any = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def tool_names(self) -> list[str]:
        """Names of the bound tools."""
        return [t.get("function", t).get("name", "") for t in self.tools]

    def text(self) -> str:
        """Everything the model was sent as one string: message texts, then tool schemas."""
        import json

        parts = []
        for message in self.messages:
            content = message.content
            parts.append(content if isinstance(content, str) else json.dumps(content))
            calls = getattr(message, "tool_calls", None)
            if calls:
                parts.append(json.dumps([{"name": c["name"], "args": c["args"]} for c in calls]))
        parts.extend(json.dumps(tool, separators=(",", ":")) for tool in self.tools)
        return "\n".join(parts)

    def approx_tokens(self) -> int:
        """Request size in tokens, at about 4 characters per token."""
        return (len(self.text()) + 3) // 4


class ScriptedChatModel(BaseChatModel):
    """A chat model for tests that replies from a script and records what it was sent.

    Each call takes the next queued reply: an ``AIMessage`` (tool calls included), a string
    (becomes an ``AIMessage``), or a callable that receives the :class:`RecordedRequest` and
    returns either. When the queue is empty, ``default`` answers if set; otherwise the call fails
    with :class:`ScriptExhaustedError`, so a test notices an unexpected extra call.

    ``bind_tools`` and ``with_structured_output`` work as with a provider model; the recorded
    requests show the bound tool schemas. Sync and async calls share the same queue and log.

    Example:
        >>> model = ScriptedChatModel(responses=["hello"])
        >>> model.invoke("hi").content
        'hello'
        >>> model.requests[0].messages[0].content
        'hi'
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    responses: list[Any] = Field(default_factory=list)
    default: Any = None
    requests: list[RecordedRequest] = Field(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _counter: Any = PrivateAttr(default_factory=itertools.count)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def calls(self) -> int:
        """How many times the model was called."""
        return len(self.requests)

    def queue(self, *replies: Reply) -> ScriptedChatModel:
        """Append replies to the script; returns the model for chaining."""
        with self._lock:
            self.responses.extend(replies)
        return self

    @property
    def pending(self) -> int:
        """Replies still queued."""
        return len(self.responses)

    def reset(self) -> None:
        """Forget recorded requests (the queue is kept)."""
        with self._lock:
            self.requests.clear()

    def get_num_tokens(self, text: str) -> int:
        """About 4 characters a token, as :meth:`RecordedRequest.approx_tokens` counts (the
        base class needs the ``transformers`` package). So code written for a provider model,
        such as ``token_counter=model.get_num_tokens_from_messages`` (upstream's summarization
        guide), runs with this double.

        Example:
            >>> ScriptedChatModel().get_num_tokens("12345678")
            2
        """
        if self.custom_get_token_ids is not None:
            return len(self.custom_get_token_ids(text))
        return (len(text) + 3) // 4

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: Any = None,
        **kwargs: Any,
    ) -> Runnable[Any, AIMessage]:
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _next_reply(
        self, messages: list[BaseMessage], stop: Any, kwargs: dict[str, Any]
    ) -> AIMessage:
        extra = {k: v for k, v in kwargs.items() if k not in ("tools", "tool_choice")}
        if stop is not None:
            extra["stop"] = stop
        request = RecordedRequest(
            messages=list(messages),
            tools=list(kwargs.get("tools") or []),
            tool_choice=kwargs.get("tool_choice"),
            kwargs=extra,
        )
        with self._lock:
            self.requests.append(request)
            if self.responses:
                reply = self.responses.pop(0)
            elif self.default is not None:
                reply = self.default
            else:
                raise ScriptExhaustedError(
                    f"ScriptedChatModel got call #{len(self.requests)} but no reply is queued: "
                    "queue one with responses=[...] or .queue(...), or set default=..."
                )
            number = next(self._counter)
        if callable(reply) and not isinstance(reply, BaseMessage):
            reply = reply(request)
        if isinstance(reply, str):
            reply = AIMessage(content=reply)
        if not isinstance(reply, AIMessage):
            raise TypeError(f"scripted reply {reply!r} is not an AIMessage or a string")
        reply = reply.model_copy(deep=True)
        if reply.id is None:
            reply.id = f"scripted-{number}"
        return reply

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(
            generations=[ChatGeneration(message=self._next_reply(messages, stop, kwargs))]
        )

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(
            generations=[ChatGeneration(message=self._next_reply(messages, stop, kwargs))]
        )


def tool_call(
    name: str, args: dict[str, Any] | None = None, *, id: str | None = None
) -> dict[str, Any]:
    """A tool call dict for a scripted ``AIMessage``."""
    return {
        "name": name,
        "args": dict(args or {}),
        "id": id or f"call_{uuid.uuid4().hex[:12]}",
        "type": "tool_call",
    }


def ai_tool_calls(
    *calls: dict[str, Any] | tuple[str, dict[str, Any]], content: str = ""
) -> AIMessage:
    """An ``AIMessage`` carrying the given tool calls (``tool_call`` dicts or ``(name, args)``)."""
    built = []
    for call in calls:
        if isinstance(call, dict):
            built.append(call)
            continue
        shaped = isinstance(call, (tuple, list)) and len(call) == 2 and isinstance(call[0], str)
        if not shaped or not isinstance(call[1], dict):
            raise ConfigurationError(
                f"ai_tool_calls got {call!r}: each call is a (name, args) pair with args a dict, "
                "such as ('manage_memory', {'content': 'likes tea'}), or a tool_call(...) dict. "
                "(Malformed arguments a model might send go in the args dict.)"
            )
        built.append(tool_call(call[0], call[1]))
    return AIMessage(content=content, tool_calls=built)


def requests_text(requests: Iterable[RecordedRequest]) -> str:
    """All recorded requests rendered as text, for snapshot tests."""
    return "\n---\n".join(r.text() for r in requests)
