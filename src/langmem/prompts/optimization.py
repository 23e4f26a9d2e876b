"""Factories for prompt optimizers, and the optimizer of several prompts at once."""

from __future__ import annotations

import typing
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import Runnable, RunnableConfig

from langmem._flow import Flow
from langmem._models import ModelRef
from langmem.errors import ConfigurationError
from langmem.prompts import _prompts
from langmem.prompts._base import FlowRunnable, PromptOptimizerBase
from langmem.prompts._engine import Check, answer, bad_arguments, in_parallel, logger, model_config
from langmem.prompts._inputs import PromptSpec, read_multi_input, render_trajectories
from langmem.prompts.gradient import GradientOptimizerConfig, GradientPromptOptimizer
from langmem.prompts.metaprompt import MetaPromptOptimizer, MetapromptOptimizerConfig
from langmem.prompts.stateless import PromptMemoryMultiple
from langmem.prompts.types import (
    AnnotatedTrajectory,
    MultiPromptOptimizerInput,
    OptimizerInput,
    Prompt,
)

__all__ = ["MultiPromptOptimizer", "create_multi_prompt_optimizer", "create_prompt_optimizer"]

KINDS = ("gradient", "metaprompt", "prompt_memory")


def create_prompt_optimizer(
    model: str | BaseChatModel,
    /,
    *,
    kind: typing.Literal["gradient", "metaprompt", "prompt_memory"] = "gradient",
    config: GradientOptimizerConfig | MetapromptOptimizerConfig | None = None,
) -> Runnable[OptimizerInput, str]:
    """Create an optimizer that improves a prompt from trajectories and their feedback.

    Kinds, by model calls:

    - ``"prompt_memory"``: one call that reads every trajectory and answers with the new prompt.
    - ``"metaprompt"``: reflection calls, then the new prompt; stops as soon as the model gives
      it (after ``min_reflection_steps``). 2 to 5 calls with the defaults.
    - ``"gradient"`` (default): hypotheses about what goes wrong, recommendations, then a
      separate call that applies only the clearly necessary edits. 3 calls with the defaults
      (2 when no change is warranted); more with higher ``min_reflection_steps``.

    Every kind keeps the template variables (``{name}``) of the original prompt, returns the
    original prompt when no change is warranted, and retries malformed model output a bounded
    number of times before keeping the original. Use ``invoke``, ``ainvoke`` or
    ``await optimizer(trajectories, prompt)``.

    Args:
        model: a chat model or a ``"provider:model"`` string.
        kind: the strategy, see above.
        config: ``max_reflection_steps``, ``min_reflection_steps`` and the templates of the kind
            (``metaprompt``; for gradient also ``gradient_prompt``). Not used by prompt_memory.

    Returns:
        A runnable from ``{"trajectories": ..., "prompt": ...}`` to the new prompt text.

    Example:
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> model = ScriptedChatModel(responses=[ai_tool_calls(
        ...     ("submit_prompt", {"changed": True, "new_prompt": "Help {user}. Show code."}))])
        >>> optimizer = create_prompt_optimizer(model, kind="prompt_memory")
        >>> conversation = [{"role": "user", "content": "How do I loop in bash?"},
        ...                 {"role": "assistant", "content": "Use a for loop."}]
        >>> optimizer.invoke({"trajectories": [(conversation, "show code")],
        ...                   "prompt": "Help {user}."})
        'Help {user}. Show code.'
    """
    if kind == "gradient":
        return GradientPromptOptimizer(model, typing.cast(GradientOptimizerConfig, config))
    if kind == "metaprompt":
        return MetaPromptOptimizer(model, typing.cast(MetapromptOptimizerConfig, config))
    if kind == "prompt_memory":
        return PromptMemoryMultiple(model)
    raise ConfigurationError(
        f"kind={kind!r} is not an optimizer kind: use one of {', '.join(map(repr, KINDS))}."
    )


class MultiPromptOptimizer(FlowRunnable[list[Prompt]]):
    """Improve the prompts of a multi-prompt application from shared trajectories.

    One call decides which prompts the feedback concerns (reading each prompt's
    ``when_to_update`` and ``update_instructions``); only those are optimized, concurrently, with
    the chosen kind. Every prompt comes back, in the input's order and shape; a prompt that did
    not need to change is returned as given, without a model call spent on it. With a single
    prompt and no ``when_to_update`` the selection call is skipped.

    Example:
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> model = ScriptedChatModel(responses=[
        ...     ai_tool_calls(("select_prompts", {"names": ["tone"]})),
        ...     ai_tool_calls(("submit_prompt", {"changed": True, "new_prompt": "Be kind."}))])
        >>> optimizer = MultiPromptOptimizer(model, kind="prompt_memory")
        >>> prompts = [{"name": "search", "prompt": "Search well."},
        ...            {"name": "tone", "prompt": "Be curt."}]
        >>> [p["prompt"] for p in optimizer.invoke(
        ...     {"trajectories": "user: thanks! assistant: whatever.", "prompts": prompts})]
        ['Search well.', 'Be kind.']
    """

    def __init__(
        self,
        model: str | BaseChatModel,
        /,
        *,
        kind: typing.Literal["gradient", "prompt_memory", "metaprompt"] = "gradient",
        config: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.kind = kind
        self.config = config
        optimizer = create_prompt_optimizer(model, kind=kind, config=config)  # type: ignore[arg-type]
        self._optimizer = typing.cast(PromptOptimizerBase, optimizer)
        self._model: ModelRef = self._optimizer._model  # one resolution of a model string

    def _flow(self, input: Any, config: RunnableConfig | None) -> Flow[list[Any]]:
        trajectories, specs = read_multi_input(input)
        text = render_trajectories(trajectories)
        if not text or not specs:
            return [spec.given for spec in specs]
        if len(specs) == 1 and specs[0].when_to_update is None:
            chosen = {specs[0].name}
        else:
            chosen = yield from self._select(text, specs, model_config(config))
        selected = [spec for spec in specs if spec.name in chosen]
        outcomes = yield from in_parallel(
            [self._optimizer._optimize_spec(text, spec, config) for spec in selected]
        )
        changed = {s.name: o.text for s, o in zip(selected, outcomes) if o.changed}
        return [
            spec.with_text(changed[spec.name]) if spec.name in changed else spec.given
            for spec in specs
        ]

    def _select(self, trajectories: str, specs: list[PromptSpec], config: Any) -> Flow[set[str]]:
        names = [spec.name for spec in specs]
        listing = "\n\n".join(
            _prompts.prompt_listing(s.name, s.text, s.when_to_update or "", s.update_instructions)
            for s in specs
        )
        task = _prompts.SELECT_PROMPTS_PROMPT.format(trajectories=trajectories, prompts=listing)
        chosen, reason = yield from answer(
            self._model, config, task, _prompts.select_prompts_tool(names), _check_names(names)
        )
        if chosen is None:
            logger.warning("multi-prompt optimizer kept every prompt unchanged: %s", reason)
            return set()
        return typing.cast(set[str], chosen)

    async def __call__(
        self,
        trajectories: typing.Sequence[AnnotatedTrajectory] | str,
        prompts: list[Prompt],
    ) -> list[Prompt]:
        """``await optimizer(trajectories, prompts)``, the same as :meth:`ainvoke`."""
        return await self.ainvoke({"trajectories": trajectories, "prompts": prompts})


def _check_names(names: list[str]) -> Check:
    def check(args: dict[str, Any]) -> tuple[Any, str | None]:
        chosen = args.get("names")
        if isinstance(chosen, str):
            chosen = [chosen]
        if not isinstance(chosen, list) or not all(isinstance(n, str) for n in chosen):
            problem = "names must be a list of prompt names"
            return None, bad_arguments(_prompts.SELECT_PROMPTS, problem)
        unknown = [n for n in chosen if n not in names]
        if unknown:
            return None, _prompts.FIX_UNKNOWN_PROMPTS.format(
                names=", ".join(unknown), choices=", ".join(names), tool=_prompts.SELECT_PROMPTS
            )
        return set(chosen), None

    return check


def create_multi_prompt_optimizer(
    model: str | BaseChatModel,
    /,
    *,
    kind: typing.Literal["gradient", "prompt_memory", "metaprompt"] = "gradient",
    config: dict[str, Any] | None = None,
) -> Runnable[MultiPromptOptimizerInput, list[Prompt]]:
    """Create an optimizer for the several prompts of one application.

    It first decides which prompts the trajectories and feedback concern, using each prompt's
    ``when_to_update`` and ``update_instructions``, then optimizes only those with ``kind`` (see
    :func:`create_prompt_optimizer`), concurrently. All prompts come back in the input's order.

    Args:
        model: a chat model or a ``"provider:model"`` string.
        kind: the strategy used for each prompt that needs a change.
        config: the config of that strategy.

    Returns:
        A :class:`MultiPromptOptimizer`.

    Example:
        >>> from langmem.testing import ScriptedChatModel, ai_tool_calls
        >>> model = ScriptedChatModel(responses=[ai_tool_calls(("select_prompts", {"names": []}))])
        >>> optimizer = create_multi_prompt_optimizer(model, kind="metaprompt")
        >>> prompts = [{"name": "a", "prompt": "A."}, {"name": "b", "prompt": "B."}]
        >>> optimizer.invoke({"trajectories": "user: great, thanks", "prompts": prompts}) == prompts
        True
    """
    return MultiPromptOptimizer(model, kind=kind, config=config)
