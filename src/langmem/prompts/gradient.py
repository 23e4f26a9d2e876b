"""The ``gradient`` optimizer: find what goes wrong, recommend changes, then apply only those."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

from langmem._flow import Flow
from langmem._models import ModelLike
from langmem.prompts import _prompts
from langmem.prompts._base import PromptOptimizerBase, fill, read_config
from langmem.prompts._engine import Outcome, answer, bad_arguments, propose_prompt
from langmem.prompts._inputs import PromptSpec
from langmem.prompts.types import OptimizerInput, Prompt

__all__ = ["GradientOptimizerConfig", "GradientOptimizerInput", "GradientPromptOptimizer"]


class GradientOptimizerConfig(TypedDict, total=False):
    """Configuration of :class:`GradientPromptOptimizer`."""

    gradient_prompt: str
    """The diagnosis prompt; may use ``{prompt}``, ``{trajectories}``, ``{update_instructions}``
    and ``{feedback}``."""
    metaprompt: str
    """The prompt that applies the recommendations; may use ``{current_prompt}``,
    ``{hypotheses}``, ``{recommendations}`` and ``{update_instructions}``."""
    max_reflection_steps: int
    """Most model calls of the diagnosis, the recommendation included (default 5)."""
    min_reflection_steps: int
    """Hypothesis calls before a recommendation is accepted (default 1)."""


class GradientOptimizerInput(TypedDict, total=False):
    """Input of :class:`GradientPromptOptimizer` (the same as ``OptimizerInput``)."""

    trajectories: OptimizerInput | str
    prompt: str | Prompt


class GradientPromptOptimizer(PromptOptimizerBase):
    """Improve a prompt in separate steps (``kind="gradient"``).

    1. Diagnosis: the model forms hypotheses about what goes wrong (``min_reflection_steps``
       reflection calls), then recommends changes or concludes that none are warranted.
    2. Update: a separate call sees only the prompt, the hypotheses and the recommendations, and
       applies the clearly necessary edits.

    With the defaults: 3 calls when a change is warranted, 2 when not.

    Example:
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> model = ScriptedChatModel(responses=[
        ...     ai_tool_calls(("reflect", {"thought": "Replies lack code."})),
        ...     ai_tool_calls(("recommend", {"warrants_adjustment": True,
        ...                                  "hypotheses": "No rule asks for code.",
        ...                                  "recommendations": "Ask for a code example."})),
        ...     ai_tool_calls(("submit_prompt", {"changed": True,
        ...                                      "new_prompt": "Help. Include a code example."}))])
        >>> GradientPromptOptimizer(model).invoke(
        ...     {"trajectories": "user: bash? assistant: prose", "prompt": "Help."})
        'Help. Include a code example.'
    """

    kind = "gradient"

    def __init__(self, model: ModelLike, config: GradientOptimizerConfig | None = None) -> None:
        super().__init__(model)
        self._config = read_config(
            config,
            owner="gradient optimizer",
            templates={
                "gradient_prompt": (
                    _prompts.GRADIENT_PROMPT,
                    ("prompt", "trajectories", "update_instructions", "feedback"),
                ),
                "metaprompt": (
                    _prompts.GRADIENT_METAPROMPT,
                    ("current_prompt", "hypotheses", "recommendations", "update_instructions"),
                ),
            },
            steps=True,
        )
        self.config = GradientOptimizerConfig(**self._config)  # type: ignore[typeddict-item]

    def _optimize(self, trajectories: str, prompt: PromptSpec, config: Any) -> Flow[Outcome]:
        diagnose = self._config["gradient_prompt"]
        task = fill(
            diagnose,
            diagnose is _prompts.GRADIENT_PROMPT,
            prompt.update_instructions,
            prompt=prompt.text,
            trajectories=trajectories,
            feedback="",
        )
        verdict, reason = yield from answer(
            self._model,
            config,
            task,
            _prompts.recommend_tool(),
            _check_recommendation,
            min_steps=self._config["min_reflection_steps"],
            max_steps=self._config["max_reflection_steps"],
        )
        if verdict is None:
            return Outcome(prompt.text, changed=False, reason=reason)
        warranted, hypotheses, recommendations = verdict
        if not warranted:
            return Outcome(prompt.text, changed=False)
        apply = self._config["metaprompt"]
        update = fill(
            apply,
            apply is _prompts.GRADIENT_METAPROMPT,
            prompt.update_instructions,
            current_prompt=prompt.text,
            hypotheses=hypotheses,
            recommendations=recommendations,
        )
        return (yield from propose_prompt(self._model, config, update, prompt.text))


def _check_recommendation(args: dict[str, Any]) -> tuple[Any, str | None]:
    warranted = args.get("warrants_adjustment")
    if isinstance(warranted, str) and warranted.lower() in ("true", "false"):
        warranted = warranted.lower() == "true"
    if not isinstance(warranted, bool):
        return None, bad_arguments(_prompts.RECOMMEND, "warrants_adjustment must be true or false")
    hypotheses, recommendations = args.get("hypotheses"), args.get("recommendations")
    if warranted and not (_text(hypotheses) or _text(recommendations)):
        return None, bad_arguments(
            _prompts.RECOMMEND, "a warranted adjustment needs hypotheses and recommendations"
        )
    return (warranted, _text(hypotheses), _text(recommendations)), None


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""
