"""Data shapes of prompt optimization (the same as upstream langmem's).

- :class:`Prompt`: a named prompt, with optional guidance on when and how to change it.
- :class:`AnnotatedTrajectory`: a conversation and the feedback it received.
- :class:`OptimizerInput`: what a single-prompt optimizer takes.
- :class:`MultiPromptOptimizerInput`: what a multi-prompt optimizer takes.
"""

from __future__ import annotations

import typing

from langchain_core.messages import AnyMessage
from typing_extensions import Required, TypedDict

__all__ = ["AnnotatedTrajectory", "MultiPromptOptimizerInput", "OptimizerInput", "Prompt"]


class Prompt(TypedDict, total=False):
    """A named prompt to optimize, with optional guidance for the optimizer.

    Example:
        >>> Prompt(name="support", prompt="You answer billing questions.")["name"]
        'support'
    """

    name: Required[str]
    """Identifies the prompt (unique within a multi-prompt optimization)."""
    prompt: Required[str]
    """The prompt text; ``{variables}`` in it are kept by every optimization."""
    update_instructions: str | None
    """How to change this prompt (for example "make minimal changes")."""
    when_to_update: str | None
    """When this prompt is the one to change (used to pick prompts among several)."""


class AnnotatedTrajectory(typing.NamedTuple):
    """A conversation (messages, or rendered text) with the feedback it received.

    Example:
        >>> t = AnnotatedTrajectory([{"role": "user", "content": "hi"}], {"score": 0})
        >>> t.feedback
        {'score': 0}
    """

    messages: typing.Sequence[AnyMessage]
    """The conversation: LangChain messages or ``{"role", "content"}`` dicts."""
    feedback: dict[str, str | int | bool] | str | None = None
    """What users or developers said about it: text, a dict of scores and comments, or none."""


class OptimizerInput(TypedDict):
    """Input of a single-prompt optimizer.

    Example:
        >>> OptimizerInput(trajectories="user: hi", prompt="Be brief.")["prompt"]
        'Be brief.'
    """

    trajectories: typing.Sequence[AnnotatedTrajectory] | str
    """Conversations with feedback (also ``(messages, feedback)`` pairs or dicts), or text."""
    prompt: str | Prompt
    """The prompt to improve."""


class MultiPromptOptimizerInput(TypedDict):
    """Input of a multi-prompt optimizer.

    Example:
        >>> MultiPromptOptimizerInput(trajectories="", prompts=[])["prompts"]
        []
    """

    trajectories: typing.Sequence[AnnotatedTrajectory] | str
    """Conversations with feedback (also ``(messages, feedback)`` pairs or dicts), or text."""
    prompts: list[Prompt]
    """The prompts of the application; they come back in this order."""
