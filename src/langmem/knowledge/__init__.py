"""Long-term memory: hot-path memory tools (and, as they land, extraction and search)."""

from langmem.knowledge.tools import create_manage_memory_tool, create_search_memory_tool

__all__ = ["create_manage_memory_tool", "create_search_memory_tool"]
