"""Data types of memory extraction: inputs, outputs, default schemas and store items.

- :class:`Memory`: the default memory schema (one free-text ``content`` field).
- :class:`ExtractedMemory`: ``(id, content)``, what a memory manager returns.
- :class:`RemoveDoc`: the content of an :class:`ExtractedMemory` whose memory was deleted.
- :class:`MemoryState`, :class:`MessagesState`, :class:`MemoryStoreManagerInput`: runnable inputs.
- :class:`MemoryPhase`: an extra consolidation pass of a store manager.
- :class:`Item`, :class:`SearchItem`: store items whose ``value`` may be a pydantic model.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from langchain_core.messages import AnyMessage
from langgraph.store.base import Item as BaseItem
from langgraph.store.base import SearchItem as BaseSearchItem
from pydantic import BaseModel, Field
from typing_extensions import NotRequired, TypedDict

__all__ = [
    "Done",
    "ExtractedMemory",
    "Item",
    "Memory",
    "MemoryPhase",
    "MemoryState",
    "MemoryStoreManagerInput",
    "MessagesState",
    "RemoveDoc",
    "SearchItem",
    "SummarizeThread",
]


class Memory(BaseModel):
    """The default memory: one self-contained piece of knowledge, in prose.

    Example:
        >>> Memory(content="Prefers green tea").content
        'Prefers green tea'
    """

    content: str = Field(description="One self-contained fact, preference or note, in prose.")


class SummarizeThread(BaseModel):
    """The default result of a thread extractor: a title and a summary of the conversation."""

    title: str
    summary: str


class Done(BaseModel):
    """Signals that the model has finished changing memories (multi-step extraction)."""


class RemoveDoc(BaseModel):
    """Marks a deleted memory: the ``content`` of its :class:`ExtractedMemory`.

    The name and field match the removal marker upstream langmem returns, so code that checks
    ``content.__repr_name__() == "RemoveDoc"`` or reads ``content.json_doc_id`` keeps working.

    Example:
        >>> RemoveDoc(json_doc_id="m-1").json_doc_id
        'm-1'
    """

    json_doc_id: str


class ExtractedMemory(NamedTuple):
    """A memory returned by a memory manager.

    Example:
        >>> ExtractedMemory("id-1", Memory(content="Likes tea")).id
        'id-1'
    """

    id: str
    """The memory's id: the caller's id for an existing memory, a new UUID4 for a new one."""
    content: Any
    """The memory: a schema instance (or the caller's own value when unchanged), or a
    :class:`RemoveDoc` when the memory was deleted."""


class MessagesState(TypedDict):
    """Input holding a conversation."""

    messages: list[AnyMessage]
    """LangChain messages or ``{"role": ..., "content": ...}`` dicts."""


class MemoryState(MessagesState):
    """Input of a memory manager."""

    existing: NotRequired[list[tuple[str, BaseModel]]]
    """Current memories: strings, ``(id, content)`` or ``(id, kind, content)`` tuples,
    :class:`ExtractedMemory` values; content may be a pydantic model, a dict or a string."""
    max_steps: int
    """How many rounds of changes the model may make (default 1)."""


class MemoryStoreManagerInput(TypedDict):
    """Input of a memory store manager."""

    messages: list[AnyMessage]
    """The conversation to learn from."""
    max_steps: int
    """How many rounds of changes the model may make (default 1)."""


class MemoryPhase(TypedDict, total=False):
    """An extra pass over the memories after extraction, e.g. to consolidate them.

    Example:
        >>> MemoryPhase(instructions="Merge duplicates.", enable_deletes=True)["enable_deletes"]
        True
    """

    instructions: str
    """What this pass should do."""
    include_messages: bool
    """Show the conversation again in this pass (default ``False``)."""
    enable_inserts: bool
    """Allow new memories in this pass (default ``True``)."""
    enable_deletes: bool
    """Allow deletions in this pass (default ``True``)."""


class Item(BaseItem):
    """A store item whose ``value`` may be a schema instance (dumped to JSON by ``dict()``)."""

    value: BaseModel | dict[str, Any]  # type: ignore[assignment]

    def dict(self) -> dict[str, Any]:
        result = super().dict()
        if isinstance(self.value, BaseModel):
            result["value"] = self.value.model_dump(mode="json")
        return result


class SearchItem(BaseSearchItem):
    """A search result whose ``value`` may be a schema instance (dumped by ``dict()``)."""

    value: BaseModel | dict[str, Any]  # type: ignore[assignment]

    def dict(self) -> dict[str, Any]:
        result = super().dict()
        if isinstance(self.value, BaseModel):
            result["value"] = self.value.model_dump(mode="json")
        return result
