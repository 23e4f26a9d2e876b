"""An optimization is one traced run; its model calls are child runs of it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from langmem import create_multi_prompt_optimizer, create_prompt_optimizer
from langmem.testing import ScriptedChatModel
from tests.prompts._helpers import BETTER, PROMPT, TRAJECTORIES, eager, select


class _Runs(BaseCallbackHandler):
    def __init__(self) -> None:
        self.chains: dict[UUID, str] = {}
        self.model_parents: list[UUID | None] = []

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self.chains[run_id] = kw.get("name") or ""

    def on_chat_model_start(
        self,
        serialized: Any,
        messages: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kw: Any,
    ) -> None:
        self.model_parents.append(parent_run_id)


async def test_model_calls_are_children_of_the_optimizer_run() -> None:
    for mode in ("sync", "async"):
        runs = _Runs()
        optimizer = create_prompt_optimizer(ScriptedChatModel(default=eager()), kind="gradient")
        payload = {"trajectories": TRAJECTORIES, "prompt": PROMPT}
        config: Any = {"callbacks": [runs], "tags": ["nightly"]}
        if mode == "sync":
            out = optimizer.invoke(payload, config)  # type: ignore[arg-type]
        else:
            out = await optimizer.ainvoke(payload, config)  # type: ignore[arg-type]
        assert out == BETTER
        (root,) = [rid for rid, name in runs.chains.items() if name == "GradientPromptOptimizer"]
        assert runs.model_parents == [root, root, root]


def test_multi_prompt_run_traces_parallel_calls() -> None:
    runs = _Runs()
    model = ScriptedChatModel(
        default=lambda r: select("a", "b") if "select_prompts" in r.tool_names else eager()(r)
    )
    prompts = [
        {"name": "a", "prompt": PROMPT, "when_to_update": "x"},
        {"name": "b", "prompt": PROMPT + " B."},
    ]
    create_multi_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": TRAJECTORIES, "prompts": prompts},  # type: ignore[typeddict-item]
        {"callbacks": [runs]},
    )
    assert "MultiPromptOptimizer" in runs.chains.values()
    assert len(runs.model_parents) == 3 and None not in runs.model_parents
