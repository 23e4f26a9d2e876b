"""The ``metaprompt`` optimizer: reflection steps, then the new prompt in the same conversation."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from langmem._flow import Flow
from langmem._models import ModelLike
from langmem.prompts import _prompts
from langmem.prompts._base import PromptOptimizerBase, fill, read_config
from langmem.prompts._engine import Outcome, propose_prompt
from langmem.prompts._inputs import PromptSpec

__all__ = ["MetaPromptOptimizer", "MetapromptOptimizerConfig"]


class MetapromptOptimizerConfig(TypedDict, total=False):
    """Configuration of :class:`MetaPromptOptimizer`."""

    metaprompt: str
    """The task prompt; may use ``{prompt}``, ``{trajectories}`` and ``{update_instructions}``."""
    max_reflection_steps: int
    """Most model calls for one optimization, the final answer included (default 5)."""
    min_reflection_steps: int
    """Reflection calls before a final answer is accepted (default 1)."""


class MetaPromptOptimizer(PromptOptimizerBase):
    """Improve a prompt by reflecting on trajectories, then answering (``kind="metaprompt"``).

    The first ``min_reflection_steps`` calls let the model only reflect; from then on it may give
    its final prompt, and the loop stops as soon as it does. The call number
    ``max_reflection_steps`` requires the final prompt. With the defaults that is 2 to 5 calls.

    Example:
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> model = ScriptedChatModel(responses=[
        ...     ai_tool_calls(("reflect", {"thought": "The user wanted code."})),
        ...     ai_tool_calls(("submit_prompt", {"changed": True,
        ...                                      "new_prompt": "Answer with code."}))])
        >>> MetaPromptOptimizer(model).invoke(
        ...     {"trajectories": "user: how? assistant: somehow", "prompt": "Answer."})
        'Answer with code.'
        >>> model.calls
        2
    """

    kind = "metaprompt"

    def __init__(self, model: ModelLike, config: MetapromptOptimizerConfig | None = None) -> None:
        super().__init__(model)
        self._config = read_config(
            config,
            owner="metaprompt optimizer",
            templates={
                "metaprompt": (
                    _prompts.METAPROMPT_PROMPT,
                    ("prompt", "trajectories", "update_instructions"),
                )
            },
            steps=True,
        )
        self.config = MetapromptOptimizerConfig(**self._config)  # type: ignore[typeddict-item]

    def _optimize(self, trajectories: str, prompt: PromptSpec, config: Any) -> Flow[Outcome]:
        template = self._config["metaprompt"]
        task = fill(
            template,
            template is _prompts.METAPROMPT_PROMPT,
            prompt.update_instructions,
            prompt=prompt.text,
            trajectories=trajectories,
        )
        return (
            yield from propose_prompt(
                self._model,
                config,
                task,
                prompt.text,
                min_steps=self._config["min_reflection_steps"],
                max_steps=self._config["max_reflection_steps"],
            )
        )
