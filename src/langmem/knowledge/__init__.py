"""Long-term memory: hot-path memory tools (and, as they land, extraction and search)."""

from langmem.knowledge._guards import GuardReport, Guards
from langmem.knowledge._trust import configure_trust
from langmem.knowledge.extraction import (
    MemoryPhase,
    create_memory_manager,
    create_memory_searcher,
    create_memory_store_manager,
    create_thread_extractor,
)
from langmem.knowledge.history import History
from langmem.knowledge.tools import create_manage_memory_tool, create_search_memory_tool

__all__ = [
    "GuardReport",
    "Guards",
    "History",
    "MemoryPhase",
    "configure_trust",
    "create_manage_memory_tool",
    "create_memory_manager",
    "create_memory_searcher",
    "create_memory_store_manager",
    "create_search_memory_tool",
    "create_thread_extractor",
]
