"""The prompt optimization graph, deployed as ``langmem.graphs.prompts:optimize_prompts``.

Input: ``{"trajectories": [...], "prompt": "..."}`` (one prompt) or ``{"trajectories": [...],
"prompts": [Prompt, ...]}`` (several); output ``{"prompt": ...}`` or ``{"prompts": [...]}``.
Configurable values: ``model`` (default ``$LANGMEM_MODEL``, else
``anthropic:claude-3-5-sonnet-latest``) and ``kind`` (``gradient``, ``metaprompt``,
``prompt_memory``). A factory: nothing is built at import.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from langmem.errors import InvalidInputError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.pregel import Pregel

DEFAULT_MODEL = "anthropic:claude-3-5-sonnet-latest"


def build_prompt_graph(
    model: Any, *, kind: str = "gradient", config: dict[str, Any] | None = None
) -> Pregel[Any, Any, Any, Any]:
    """A graph that improves one prompt (``prompt``) or several (``prompts``)."""
    from langgraph.func import entrypoint

    from langmem.prompts.optimization import (
        create_multi_prompt_optimizer,
        create_prompt_optimizer,
    )

    @entrypoint()
    def optimize_prompts(state: dict[str, Any]) -> dict[str, Any]:
        trajectories = state.get("trajectories", [])
        if "prompts" in state:
            multi = create_multi_prompt_optimizer(model, kind=kind, config=config)  # type: ignore[arg-type]
            request: Any = {**state, "trajectories": trajectories}
            return {"prompts": multi.invoke(request)}
        if "prompt" in state:
            single = create_prompt_optimizer(model, kind=kind, config=config)  # type: ignore[arg-type]
            prompt = single.invoke({"trajectories": trajectories, "prompt": state["prompt"]})
            return {"prompt": prompt}
        raise InvalidInputError(
            f"input keys {sorted(state)} name no prompt: pass {{'trajectories': [...], "
            "'prompt': '...'}} or {'trajectories': [...], 'prompts': [{'name': ..., "
            "'prompt': ...}]}."
        )

    return optimize_prompts


def optimize_prompts(config: RunnableConfig) -> Pregel[Any, Any, Any, Any]:
    """The deployed optimization graph, built for the run's ``config``."""
    configurable = config.get("configurable") or {}
    return build_prompt_graph(
        configurable.get("model") or os.environ.get("LANGMEM_MODEL") or DEFAULT_MODEL,
        kind=str(configurable.get("kind", "gradient")),
    )
