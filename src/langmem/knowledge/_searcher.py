"""The memory searcher: a model writes search queries for a conversation; the store answers."""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from langgraph.store.base import SearchItem, SearchOp

from langmem import _flow
from langmem._conversation import get_conversation
from langmem._models import ModelRef
from langmem._namespace import NamespaceTemplate
from langmem._store_context import resolve_store
from langmem.knowledge import _prompts
from langmem.knowledge._guards import quote
from langmem.knowledge._manager import check_messages
from langmem.knowledge._retrieval import query_flow, top
from langmem.knowledge._types import MessagesState

__all__ = ["MemorySearcher", "create_memory_searcher"]

_LIMIT = 10


class MemorySearcher(Runnable[MessagesState, list[SearchItem]]):
    """Finds the memories relevant to a conversation (see :func:`create_memory_searcher`)."""

    def __init__(self, model: Any, prompt: str, namespace: tuple[str, ...]) -> None:
        self.model = ModelRef(model)
        self.prompt = prompt
        self.namespace = NamespaceTemplate(namespace)

    def _flow(self, input: MessagesState, config: RunnableConfig) -> _flow.Flow[list[SearchItem]]:
        messages = check_messages(input["messages"] if isinstance(input, dict) else input)
        store = resolve_store(None, what="memory searcher")
        namespace = self.namespace(config)
        request = (
            f"<conversation>\n{quote(get_conversation(messages))[0]}\n</conversation>\n\n"
            f"{_prompts.SEARCHER_REQUEST}"
        )
        queries = yield from query_flow(self.model.get(), self.prompt, request, config)
        if not queries:
            return []
        ops = [SearchOp(namespace, None, _LIMIT, 0, query) for query in queries]
        results = yield _flow.StoreBatch(store, ops)
        return top(results)

    def invoke(
        self, input: MessagesState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[SearchItem]:
        return _flow.run_sync(self._flow(input, ensure_config(config)))

    async def ainvoke(
        self, input: MessagesState, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[SearchItem]:
        return await _flow.run_async(self._flow(input, ensure_config(config)))


def create_memory_searcher(
    model: str | Any,
    prompt: str = _prompts.SEARCHER_PROMPT,
    *,
    namespace: tuple[str, ...] = ("memories", "{langgraph_user_id}"),
) -> MemorySearcher:
    """Create a runnable that finds the stored memories relevant to a conversation.

    The model writes one search query per distinct aspect of the conversation (one call);
    every query runs in one store batch on the LangGraph run's store; results are merged
    (best score per memory) and sorted by relevance.

    Args:
        model: the chat model writing the queries, or a ``"provider:model"`` string.
        prompt: the system prompt for writing queries.
        namespace: where to search; ``{key}`` labels are filled from the config.

    Returns:
        A runnable: input ``{"messages": [...]}``, output ``list[SearchItem]``.

    Example:
        >>> from langgraph.func import entrypoint
        >>> from langgraph.store.memory import InMemoryStore
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> store = InMemoryStore()
        >>> store.put(("memories", "u1"), "k", {"content": "Likes sushi"})
        >>> model = ScriptedChatModel(
        ...     responses=[ai_tool_calls(("search_memory", {"queries": ["food"]}))])
        >>> searcher = create_memory_searcher(model)
        >>> @entrypoint(store=store)
        ... def find(messages: list) -> list:
        ...     return [i.value["content"] for i in searcher.invoke({"messages": messages})]
        >>> find.invoke([{"role": "user", "content": "What do I eat?"}],
        ...             {"configurable": {"langgraph_user_id": "u1"}})
        ['Likes sushi']
    """
    return MemorySearcher(model, prompt, namespace)
