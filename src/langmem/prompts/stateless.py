"""The ``prompt_memory`` optimizer: one model call that learns from trajectories and feedback."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from langmem._flow import Flow
from langmem.prompts import _prompts
from langmem.prompts._base import PromptOptimizerBase, fill
from langmem.prompts._engine import Outcome, propose_prompt
from langmem.prompts._inputs import PromptSpec

__all__ = ["MultipleMemoryInput", "PromptMemoryMultiple"]

# Used when no model is given, as upstream does; resolved only when the optimizer first runs.
DEFAULT_MODEL = "anthropic:claude-3-5-sonnet-latest"


class MultipleMemoryInput(TypedDict, total=False):
    """Input of :class:`PromptMemoryMultiple`."""

    trajectories: str | list[tuple[Any, str]]
    """``(messages, feedback)`` pairs (any shape the optimizers accept), or rendered text."""
    prompt: dict[str, Any] | str
    """The prompt text, or a Prompt dict (its ``update_instructions`` are used)."""


class PromptMemoryMultiple(PromptOptimizerBase):
    """Improve a prompt in a single model call (``kind="prompt_memory"``).

    The model sees the prompt, every trajectory with its feedback and the update instructions,
    and answers once: keep the prompt, or a complete new one. "Keep" returns the original prompt
    (never an empty string); template variables of the original are always kept.

    Example:
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> model = ScriptedChatModel(responses=[ai_tool_calls(
        ...     ("submit_prompt", {"changed": True, "new_prompt": "Be brief. Use lists."}))])
        >>> PromptMemoryMultiple(model).invoke(
        ...     {"trajectories": [([{"role": "user", "content": "hi"}], "use lists")],
        ...      "prompt": "Be brief."})
        'Be brief. Use lists.'
    """

    kind = "prompt_memory"

    def __init__(self, model: str | Any | None = None) -> None:
        super().__init__(DEFAULT_MODEL if model is None else model)

    def _optimize(self, trajectories: str, prompt: PromptSpec, config: Any) -> Flow[Outcome]:
        task = fill(
            _prompts.PROMPT_MEMORY_PROMPT,
            True,
            prompt.update_instructions,
            prompt=prompt.text,
            trajectories=trajectories,
        )
        return (yield from propose_prompt(self._model, config, task, prompt.text))
