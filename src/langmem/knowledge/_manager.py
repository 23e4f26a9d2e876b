"""The memory manager: a model reads a conversation and edits a list of memories through tools.

:func:`extraction_flow` is the loop shared by :class:`MemoryManager` and the store manager. It
yields model calls (see :mod:`langmem._flow`), so sync and async runs send the same requests.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig

from langmem import _flow
from langmem._conversation import as_message, get_conversation
from langmem._models import ModelRef
from langmem.errors import ConfigurationError, InvalidInputError, ModelOutputError
from langmem.knowledge import _prompts
from langmem.knowledge._kinds import build_kinds
from langmem.knowledge._session import Permissions, Session
from langmem.knowledge._types import ExtractedMemory, Memory, MemoryState

__all__ = ["MemoryManager", "create_memory_manager", "extraction_flow"]

logger = logging.getLogger("langmem")

MAX_CORRECTIONS = 2
"""How many times per step a model may be asked to fix calls that could not be applied."""


def extraction_flow(
    model: Any,
    session: Session,
    *,
    instructions: str,
    messages: Sequence[Any] | None,
    max_steps: int,
    config: RunnableConfig | None,
) -> _flow.Flow[Session]:
    """Let the model edit ``session`` for up to ``max_steps`` rounds; returns the session.

    A reply without tool calls ends the run. Calls that cannot be applied are sent back with the
    reason, up to :data:`MAX_CORRECTIONS` times per round; after that :class:`ModelOutputError`
    is raised (the caller's memories are never modified in place, so nothing is lost).
    """
    tools = session.tools(with_done=max_steps > 1)
    offered = [tool["function"]["name"] for tool in tools]
    bound = model.bind_tools(tools)
    transcript: list[BaseMessage] = [
        SystemMessage(f"{instructions}\n\n{session.rules(max_steps)}"),
        HumanMessage(_request_text(session, messages)),
    ]
    calls = 0
    for step in range(max_steps):
        corrections = 0
        ai = _as_ai_message((yield _flow.ModelCall(bound, list(transcript), config)))
        calls += 1
        outcome = session.apply(ai, offered)
        done = outcome.done
        while outcome.problems:
            if corrections >= MAX_CORRECTIONS:
                problems = "; ".join(p.rstrip(".") for p in outcome.problems)
                raise ModelOutputError(
                    f"The model's tool calls were still invalid after {corrections} "
                    f"correction(s): {problems}. No memory was changed; "
                    "retry, or use a model that follows tool schemas more reliably.",
                    attempts=calls,
                    problems=outcome.problems,
                )
            corrections += 1
            transcript += [ai, *outcome.tool_messages]
            ai = _as_ai_message((yield _flow.ModelCall(bound, list(transcript), config)))
            calls += 1
            if not ai.tool_calls and not ai.invalid_tool_calls:
                logger.warning(
                    "langmem: the model declined to correct %d tool call(s); they were dropped: %s",
                    len(outcome.problems),
                    "; ".join(outcome.problems),
                )
                break
            outcome = session.apply(ai, offered)
            done = done or outcome.done
        if done or not (ai.tool_calls or ai.invalid_tool_calls) or step == max_steps - 1:
            break
        transcript += [ai, *outcome.tool_messages]
    return session


def _request_text(session: Session, messages: Sequence[Any] | None) -> str:
    memories = session.render()
    if messages is None:
        return memories
    conversation = session.quoted_text(get_conversation(list(messages)))
    return f"{memories}\n\n<conversation>\n{conversation}\n</conversation>"


def _as_ai_message(reply: Any) -> AIMessage:
    if isinstance(reply, AIMessage):
        return reply
    if isinstance(reply, str):
        return AIMessage(content=reply)
    raise ModelOutputError(
        f"the model returned {type(reply).__name__}, not a chat message: pass a chat model "
        "(BaseChatModel) that supports tool calling.",
        attempts=1,
    )


def check_messages(messages: Any) -> list[Any]:
    """Accept a list of messages: LangChain messages, role/content dicts, (role, content) pairs
    or strings (user messages), as LangChain accepts them; pairs and strings are converted."""
    if isinstance(messages, (str, dict)) or not isinstance(messages, Sequence):
        raise InvalidInputError(
            f"messages={messages!r} is not a list of messages: pass e.g. "
            "[{'role': 'user', 'content': 'I like tea'}]."
        )
    return [as_message(message) for message in messages]


def check_steps(max_steps: Any) -> int:
    if max_steps is None:
        return 1
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise InvalidInputError(f"max_steps={max_steps!r} must be an int >= 1 (default 1).")
    return max_steps


def check_instructions(instructions: Any, *, where: str = "instructions") -> str:
    """``instructions`` as the model will read them: ``None`` means langmem's default (it was
    sent to the model as the text "None")."""
    if instructions is None:
        return _prompts.EXTRACTION_INSTRUCTIONS
    if not isinstance(instructions, str):
        raise ConfigurationError(
            f"{where}={instructions!r} ({type(instructions).__name__}) is not text: pass what to "
            "remember and how as one string, or None for langmem's default guidance."
        )
    return instructions


class MemoryManager(Runnable[MemoryState, list[ExtractedMemory]]):
    """Extracts, updates and deletes memories from a conversation (see
    :func:`create_memory_manager`)."""

    def __init__(
        self,
        model: str | Any,
        *,
        schemas: Sequence[Any] = (Memory,),
        instructions: str | None = _prompts.EXTRACTION_INSTRUCTIONS,
        enable_inserts: bool = True,
        enable_updates: bool = True,
        enable_deletes: bool = False,
    ):
        self._model = ModelRef(model)
        self.kinds = build_kinds(schemas)
        self.schemas = tuple(kind.schema for kind in self.kinds.values())
        self.instructions = check_instructions(instructions)
        self.permissions = Permissions(enable_inserts, enable_updates, enable_deletes)
        self.permissions.check()

    @property
    def model(self) -> Any:
        """The chat model (a ``"provider:model"`` string is resolved on first access)."""
        return self._model.get()

    @property
    def enable_inserts(self) -> bool:
        return self.permissions.inserts

    @property
    def enable_updates(self) -> bool:
        return self.permissions.updates

    @property
    def enable_deletes(self) -> bool:
        return self.permissions.deletes

    def _flow(
        self, input: MemoryState, config: RunnableConfig | None
    ) -> _flow.Flow[list[ExtractedMemory]]:
        if not isinstance(input, dict) or "messages" not in input:
            raise InvalidInputError(
                f"input={input!r} has no 'messages': pass {{'messages': [...], "
                "'existing': [...], 'max_steps': 1}."
            )
        messages = check_messages(input["messages"])
        steps = check_steps(input.get("max_steps"))
        session = Session(self.kinds, self.permissions)
        session.add_existing(input.get("existing"))
        yield from extraction_flow(
            self._model.get(),
            session,
            instructions=self.instructions,
            messages=messages,
            max_steps=steps,
            config=config,
        )
        return session.extracted()

    def invoke(
        self, input: MemoryState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[ExtractedMemory]:
        return _flow.run_sync(self._flow(input, config))

    async def ainvoke(
        self, input: MemoryState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[ExtractedMemory]:
        return await _flow.run_async(self._flow(input, config))

    async def __call__(
        self,
        messages: Sequence[Any],
        existing: Sequence[ExtractedMemory] | None = None,
    ) -> list[ExtractedMemory]:
        state: MemoryState = {"messages": list(messages), "max_steps": 1}
        if existing is not None:
            state["existing"] = list(existing)  # type: ignore[typeddict-item]
        return await self.ainvoke(state)


def create_memory_manager(
    model: str | Any,
    /,
    *,
    schemas: Sequence[Any] = (Memory,),
    instructions: str | None = _prompts.EXTRACTION_INSTRUCTIONS,
    enable_inserts: bool = True,
    enable_updates: bool = True,
    enable_deletes: bool = False,
) -> MemoryManager:
    """Create a runnable that turns conversations into memories and keeps them current.

    The model sees the current memories under short ids (``m1``, ``m2``...) and changes them
    through tool calls: one insert tool per schema, ``update_memory`` (only the changed fields)
    and ``delete_memory``. Invalid calls are sent back to the model for correction.

    Args:
        model: a chat model, or a ``"provider:model"`` string resolved on first use.
        schemas: pydantic models a memory may follow (default: :class:`Memory`, free text).
        instructions: what to remember and how; replaces the default guidance (None: the
            default).
        enable_inserts: allow new memories.
        enable_updates: allow changes to existing memories.
        enable_deletes: allow deletions (returned as ``ExtractedMemory(id, RemoveDoc(...))``).

    Returns:
        A :class:`MemoryManager`. Input ``{"messages": [...], "existing": [...],
        "max_steps": 1}``; output ``list[ExtractedMemory]``: the existing memories (updated in
        place, or marked removed) followed by the new ones.

    Example:
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> model = ScriptedChatModel(responses=[
        ...     ai_tool_calls(("Memory", {"content": "Prefers green tea"}))])
        >>> manager = create_memory_manager(model)
        >>> out = manager.invoke({"messages": [{"role": "user", "content": "I love green tea"}]})
        >>> out[0].content.content
        'Prefers green tea'
    """
    return MemoryManager(
        model,
        schemas=schemas,
        instructions=instructions,
        enable_inserts=enable_inserts,
        enable_updates=enable_updates,
        enable_deletes=enable_deletes,
    )
