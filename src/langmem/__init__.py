"""langmem: long-term memory, running summaries and self-improving prompts for LLM agents.

A drop-in for LangChain's LangMem (same imports, factories and input/output shapes) that is
persistent and offline by default. Public names are imported lazily, so ``import langmem`` stays
cheap and never loads a provider SDK.

Example:
    >>> import langmem
    >>> isinstance(langmem.__version__, str)
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from langmem._version import __version__  # noqa: F401 - re-exported via __all__

if TYPE_CHECKING:
    from langmem.knowledge import GuardReport, Guards, History, configure_trust  # noqa: F401
    from langmem.knowledge.extraction import (  # noqa: F401
        create_memory_manager,
        create_memory_searcher,
        create_memory_store_manager,
        create_thread_extractor,
    )
    from langmem.knowledge.tools import (  # noqa: F401
        create_manage_memory_tool,
        create_search_memory_tool,
    )
    from langmem.prompts.optimization import (  # noqa: F401
        create_multi_prompt_optimizer,
        create_prompt_optimizer,
    )
    from langmem.prompts.types import Prompt  # noqa: F401
    from langmem.reflection import ReflectionExecutor  # noqa: F401

# public name -> module that defines it (imported on first access)
_EXPORTS: dict[str, str] = {
    "GuardReport": "langmem.knowledge",
    "Guards": "langmem.knowledge",
    "History": "langmem.knowledge",
    "Prompt": "langmem.prompts.types",
    "ReflectionExecutor": "langmem.reflection",
    "configure_trust": "langmem.knowledge",
    "create_manage_memory_tool": "langmem.knowledge.tools",
    "create_memory_manager": "langmem.knowledge.extraction",
    "create_memory_searcher": "langmem.knowledge.extraction",
    "create_memory_store_manager": "langmem.knowledge.extraction",
    "create_multi_prompt_optimizer": "langmem.prompts.optimization",
    "create_prompt_optimizer": "langmem.prompts.optimization",
    "create_search_memory_tool": "langmem.knowledge.tools",
    "create_thread_extractor": "langmem.knowledge.extraction",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'langmem' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
