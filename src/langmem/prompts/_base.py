"""What the single-prompt optimizers share: input handling, the sync/async spine, config checks."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForChainRun, CallbackManagerForChainRun
from langchain_core.runnables import Runnable, RunnableConfig

from langmem._flow import Flow, run_async, run_sync
from langmem._models import ModelLike, ModelRef
from langmem.errors import ConfigurationError
from langmem.prompts._engine import Outcome, logger, model_config
from langmem.prompts._inputs import PromptSpec, read_single_input, render_trajectories
from langmem.prompts._prompts import update_instructions_section
from langmem.prompts.types import Prompt

OutputT = TypeVar("OutputT")

DEFAULT_MAX_REFLECTION_STEPS = 5
DEFAULT_MIN_REFLECTION_STEPS = 1


class FlowRunnable(Runnable[Any, OutputT], abc.ABC):
    """``invoke``/``ainvoke`` drive :meth:`_flow` as one traced run (model calls are children)."""

    @abc.abstractmethod
    def _flow(self, input: Any, config: RunnableConfig | None) -> Flow[OutputT]:
        """The whole operation, as a flow of effects."""

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> OutputT:
        """Run the optimization and return its result."""
        return self._call_with_config(self._run_sync, input, config)

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> OutputT:
        """Async twin of :meth:`invoke`: the same steps and the same model requests."""
        return await self._acall_with_config(self._run_async, input, config)

    def _run_sync(
        self, input: Any, run_manager: CallbackManagerForChainRun, config: RunnableConfig
    ) -> OutputT:
        return run_sync(self._flow(input, config))

    async def _run_async(
        self, input: Any, run_manager: AsyncCallbackManagerForChainRun, config: RunnableConfig
    ) -> OutputT:
        return await run_async(self._flow(input, config))


class PromptOptimizerBase(FlowRunnable[str]):
    """A single-prompt optimizer: ``invoke``/``ainvoke``/``await optimizer(trajectories, prompt)``.

    Subclasses write :meth:`_optimize` once, as a flow; both entry points drive it.
    """

    kind: str = ""

    def __init__(self, model: ModelLike) -> None:
        self.model = model
        self._model = ModelRef(model)

    @abc.abstractmethod
    def _optimize(self, trajectories: str, prompt: PromptSpec, config: Any) -> Flow[Outcome]:
        """Optimize ``prompt`` given rendered (non-empty) ``trajectories``."""

    def _flow(self, input: Any, config: RunnableConfig | None) -> Flow[str]:
        trajectories, spec = read_single_input(input)
        outcome = yield from self._optimize_spec(render_trajectories(trajectories), spec, config)
        return outcome.text

    def _optimize_spec(
        self, trajectories: str, spec: PromptSpec, config: RunnableConfig | None
    ) -> Flow[Outcome]:
        """The optimization of one prompt as a flow (empty ``trajectories``: no model call)."""
        if not trajectories:
            return Outcome(spec.text, changed=False)
        outcome = yield from self._optimize(trajectories, spec, model_config(config))
        if outcome.reason:
            logger.warning(
                "%s optimizer kept prompt %r unchanged: %s", self.kind, spec.name, outcome.reason
            )
        return outcome

    async def __call__(self, trajectories: Any, prompt: str | Prompt) -> str:
        """``await optimizer(trajectories, prompt)``, the same as :meth:`ainvoke`."""
        return await self.ainvoke({"trajectories": trajectories, "prompt": prompt})


def read_config(
    config: Mapping[str, Any] | None,
    *,
    owner: str,
    templates: Mapping[str, tuple[str, tuple[str, ...]]],
    steps: bool,
) -> dict[str, Any]:
    """Check an optimizer config and fill its defaults.

    ``templates`` maps a config key to its default text and the placeholders it may use.
    """
    given = dict(config or {})
    known = set(templates) | ({"max_reflection_steps", "min_reflection_steps"} if steps else set())
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigurationError(
            f"{owner} config has unknown key(s) {unknown}: the keys it reads are "
            f"{sorted(known)}. Remove or rename them."
        )
    result: dict[str, Any] = {}
    for key, (default, placeholders) in templates.items():
        text = given.get(key, default)
        check_template(text, key=key, owner=owner, placeholders=placeholders)
        result[key] = text
    if steps:
        result["max_reflection_steps"] = _steps(
            given, "max_reflection_steps", DEFAULT_MAX_REFLECTION_STEPS, 1, owner
        )
        result["min_reflection_steps"] = _steps(
            given, "min_reflection_steps", DEFAULT_MIN_REFLECTION_STEPS, 0, owner
        )
    return result


def check_template(text: Any, *, key: str, owner: str, placeholders: tuple[str, ...]) -> None:
    """Refuse a template that is not a string or uses a placeholder the optimizer cannot fill."""
    allowed = ", ".join("{" + p + "}" for p in placeholders)
    if not isinstance(text, str) or not text.strip():
        raise ConfigurationError(
            f"{owner} config[{key!r}]={text!r} is not usable: pass a non-empty template string "
            f"that may use {allowed}."
        )
    try:
        text.format(**dict.fromkeys(placeholders, ""))
    except (KeyError, IndexError) as exc:
        raise ConfigurationError(
            f"{owner} config[{key!r}] uses the placeholder {{{exc.args[0]}}}, which is not "
            f"filled: the available placeholders are {allowed}. Write literal braces as {{{{ }}}}."
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"{owner} config[{key!r}] is not a valid format template ({exc}): write literal "
            "braces as {{ }}."
        ) from exc


def _steps(given: dict[str, Any], key: str, default: int, least: int, owner: str) -> int:
    value = given.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigurationError(
            f"{owner} config[{key!r}]={value!r} is not usable: pass an integer >= {least}."
        )
    return value


def fill(template: str, is_default: bool, instructions: str, **values: str) -> str:
    """Fill a task template: default templates get a tagged instructions block, custom ones the
    raw text (as upstream passes it)."""
    block = update_instructions_section(instructions) if is_default else instructions
    return template.format(update_instructions=block, **values)
