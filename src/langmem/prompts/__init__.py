"""Prompt optimization: better system prompts from trajectories and feedback.

- :func:`create_prompt_optimizer`: improve one prompt (kinds ``gradient``, ``metaprompt``,
  ``prompt_memory``).
- :func:`create_multi_prompt_optimizer`: improve the prompts the feedback concerns, among several.

Types live in :mod:`langmem.prompts.types` (``Prompt``, ``AnnotatedTrajectory``, ...).
"""

from langmem.prompts.optimization import create_multi_prompt_optimizer, create_prompt_optimizer

__all__ = ["create_multi_prompt_optimizer", "create_prompt_optimizer"]
