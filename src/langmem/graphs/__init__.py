"""Deployable LangGraph graphs (see ``langgraph.json`` at the repository root).

- ``langmem.graphs.semantic:graph``: memory extraction into the server's store, in the
  authenticated user's namespace.
- ``langmem.graphs.prompts:optimize_prompts``: prompt optimization from trajectories.
- ``langmem.graphs.auth:auth``: authentication, and every store access scoped to the user.

The graph names are *factories*: the LangGraph server calls them with the run's config, so
importing these modules builds nothing (no model, no store). Build a graph yourself with
:func:`langmem.graphs.semantic.build_memory_graph` or
:func:`langmem.graphs.prompts.build_prompt_graph`.
"""

from __future__ import annotations

__all__: list[str] = []
