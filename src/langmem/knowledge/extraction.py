"""Long-term memory extraction (upstream's module path; the code lives in one module per concept).

- :func:`create_memory_manager` / :class:`MemoryManager`: conversation + memories -> new memories.
- :func:`create_memory_store_manager` / :class:`MemoryStoreManager`: the same, kept in a store.
- :func:`create_memory_searcher`: a model writes queries, the store finds memories.
- :func:`create_thread_extractor`: one structured summary of a conversation.
"""

from langmem.knowledge._manager import MemoryManager, create_memory_manager
from langmem.knowledge._searcher import MemorySearcher, create_memory_searcher
from langmem.knowledge._store_manager import MemoryStoreManager, create_memory_store_manager
from langmem.knowledge._thread import ThreadExtractor, create_thread_extractor
from langmem.knowledge._types import (
    Done,
    ExtractedMemory,
    Item,
    Memory,
    MemoryPhase,
    MemoryState,
    MemoryStoreManagerInput,
    MessagesState,
    RemoveDoc,
    SearchItem,
    SummarizeThread,
)

__all__ = [
    "Done",
    "ExtractedMemory",
    "Item",
    "Memory",
    "MemoryManager",
    "MemoryPhase",
    "MemorySearcher",
    "MemoryState",
    "MemoryStoreManager",
    "MemoryStoreManagerInput",
    "MessagesState",
    "RemoveDoc",
    "SearchItem",
    "SummarizeThread",
    "ThreadExtractor",
    "create_memory_manager",
    "create_memory_searcher",
    "create_memory_store_manager",
    "create_thread_extractor",
]
