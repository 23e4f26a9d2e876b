"""The thread extractor: one structured summary (a pydantic model) of a whole conversation."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel

from langmem import _flow
from langmem._conversation import get_conversation
from langmem._models import ModelRef
from langmem.errors import ModelOutputError
from langmem.knowledge import _prompts
from langmem.knowledge._guards import quote
from langmem.knowledge._kinds import KindError, build_kinds
from langmem.knowledge._manager import MAX_CORRECTIONS, check_messages
from langmem.knowledge._types import MessagesState, SummarizeThread

__all__ = ["ThreadExtractor", "create_thread_extractor"]


class ThreadExtractor(Runnable[MessagesState, BaseModel]):
    """Summarizes a conversation into one schema instance (see :func:`create_thread_extractor`)."""

    def __init__(self, model: Any, schema: Any, instructions: str) -> None:
        self.model = ModelRef(model)
        (self.kind,) = build_kinds([schema if schema is not None else SummarizeThread]).values()
        self.instructions = instructions

    def _flow(self, input: MessagesState, config: RunnableConfig | None) -> _flow.Flow[Any]:
        messages = check_messages(input["messages"] if isinstance(input, dict) else input)
        name = self.kind.name
        bound = self.model.get().bind_tools([self.kind.tool()], tool_choice=name)
        conversation = quote(get_conversation(messages))[0]  # it cannot close its section
        request = _prompts.THREAD_REQUEST.format(tool=name, conversation=conversation)
        transcript: list[BaseMessage] = [
            SystemMessage(self.instructions),
            HumanMessage(request),
        ]
        problems: list[str] = []
        for _ in range(MAX_CORRECTIONS + 1):
            reply = yield _flow.ModelCall(bound, list(transcript), config)
            ai = reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply))
            calls = [c for c in ai.tool_calls if c["name"] == name]
            if calls:
                try:
                    return self.kind.validate(calls[0]["args"])
                except KindError as exc:
                    problems = [str(exc)]
            elif ai.invalid_tool_calls:
                problems = [_prompts.ERR_BAD_JSON.format(detail="could not parse")]
            else:
                problems = [f"call {name} with the summary."]
            transcript.append(ai)
            error = _prompts.RESULT_ERROR.format(problem=problems[0])
            ids = [c.get("id") for c in [*ai.tool_calls, *ai.invalid_tool_calls]]
            if ids:
                transcript += [
                    ToolMessage(error, tool_call_id=i or "", status="error") for i in ids
                ]
            else:
                transcript.append(HumanMessage(error))
        raise ModelOutputError(
            f"The model gave no valid {name} after {MAX_CORRECTIONS + 1} attempts: "
            f"{'; '.join(problems)}. Retry, or use a model that supports tool calling.",
            attempts=MAX_CORRECTIONS + 1,
            problems=problems,
        )

    def invoke(
        self, input: MessagesState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        return _flow.run_sync(self._flow(input, config))

    async def ainvoke(
        self, input: MessagesState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> Any:
        return await _flow.run_async(self._flow(input, config))


def create_thread_extractor(
    model: str,
    /,
    schema: BaseModel | type | None = None,
    instructions: str = _prompts.THREAD_INSTRUCTIONS,
) -> ThreadExtractor:
    """Create a runnable that summarizes a conversation into one structured object.

    Args:
        model: a chat model or a ``"provider:model"`` string.
        schema: the pydantic model to fill (default :class:`SummarizeThread`: title, summary).
        instructions: the system prompt.

    Returns:
        A runnable: input ``{"messages": [...]}``, output an instance of ``schema``.

    Example:
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> model = ScriptedChatModel(responses=[ai_tool_calls(
        ...     ("SummarizeThread", {"title": "Password reset", "summary": "User is locked out"}))])
        >>> summarizer = create_thread_extractor(model)
        >>> summarizer.invoke({"messages": [{"role": "user", "content": "I can't log in"}]}).title
        'Password reset'
    """
    return ThreadExtractor(model, schema, instructions)
