"""Template variables in prompts: find them, keep them, and escape every other brace.

A prompt such as ``"Greet {user_name} warmly."`` is a Python format template: ``{user_name}`` is
filled at run time, ``{{`` and ``}}`` are literal braces. When a model rewrites such a prompt it
may drop or rename a variable, or add stray braces that would break ``str.format``. The helpers
here detect both: :func:`template_variables` lists the variables of a text, :func:`heal_prompt`
keeps known variables, escapes other braces and reports variables that went missing.

Public (re-exported from :mod:`langmem.utils` under upstream's names):

- :func:`get_var_healer`: a function that checks and repairs a rewritten prompt.
- :func:`get_prompt_extraction_schema`: a pydantic model for "give me the improved prompt" whose
  validation refuses a prompt that lost a variable of the original.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, Field, model_validator

from langmem.errors import TemplateVariableError

# One token per brace construct, scanned left to right like str.format does: an escaped brace
# pair, a variable (an identifier, optionally with attribute access), or a lone brace.
_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\}|[{}]")
# Markers some applications wrap around the editable part of a prompt; never part of a result.
_TO_OPTIMIZE = re.compile(r"<TO_OPTIMIZE[^>]*>|</TO_OPTIMIZE>")

__all__ = [
    "get_prompt_extraction_schema",
    "get_var_healer",
    "heal_prompt",
    "is_clean_template",
    "missing_variables",
    "template_variables",
]


def template_variables(text: str) -> list[str]:
    """The ``{name}`` variables of ``text``, in order of first appearance (``{{x}}`` is literal).

    Example:
        >>> template_variables("Hi {name}, you have {count} {{unread}} messages from {name}.")
        ['name', 'count']
    """
    seen: dict[str, None] = {}
    for match in _TOKEN.finditer(text):
        if match.group(1):
            seen.setdefault(match.group(1), None)
    return list(seen)


def is_clean_template(text: str) -> bool:
    """Whether every brace in ``text`` is part of a variable or an escaped pair.

    A prompt with lone braces (for example a raw JSON example) is not a format template, so a
    rewrite of it should not have its braces escaped.
    """
    return all(m.group(0) in ("{{", "}}") or m.group(1) for m in _TOKEN.finditer(text))


def missing_variables(original: str | Iterable[str], candidate: str) -> list[str]:
    """Variables of ``original`` (a prompt, or the names themselves) that ``candidate`` lacks."""
    required = template_variables(original) if isinstance(original, str) else list(original)
    present = set(template_variables(candidate))
    return [name for name in required if name not in present]


def heal_prompt(text: str, variables: Iterable[str], *, escape_braces: bool = True) -> str:
    """Keep ``variables`` as they are and (with ``escape_braces``) double every other brace.

    ``<TO_OPTIMIZE>`` markers are removed. Already escaped pairs stay as they are.

    Example:
        >>> heal_prompt('Answer {question} as JSON like {"a": 1}. {extra}', ["question"])
        'Answer {question} as JSON like {{"a": 1}}. {{extra}}'
    """
    keep = set(variables)
    text = _TO_OPTIMIZE.sub("", text)

    def repair(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}") or not escape_braces:
            return token
        name = match.group(1)
        if name is not None:
            return token if name in keep else "{{" + name + "}}"
        return token * 2

    return _TOKEN.sub(repair, text)


def get_var_healer(vars: set[str] | str, all_required: bool = False) -> Callable[[str], str]:
    """A function that repairs a rewritten prompt so that it still works as a format template.

    The returned function keeps the given variables, escapes every other brace (so ``.format``
    cannot fail on them) and removes ``<TO_OPTIMIZE>`` markers. With ``all_required=True`` it
    raises :class:`~langmem.errors.TemplateVariableError` (a ``ValueError``) when a variable is
    missing from the text it is given.

    Args:
        vars: the variable names to keep, or a prompt whose variables are taken.
        all_required: refuse a text that lacks any of the variables.

    Example:
        >>> heal = get_var_healer("Summarize {document} for {audience}.")
        >>> heal("For {audience}: summarize {document} in {n} bullets.")
        'For {audience}: summarize {document} in {{n}} bullets.'
    """
    names = template_variables(vars) if isinstance(vars, str) else sorted(vars)

    def heal(text: str) -> str:
        if all_required:
            missing = missing_variables(names, text)
            if missing:
                raise TemplateVariableError(missing)
        return heal_prompt(text, names)

    return heal


def get_prompt_extraction_schema(original_prompt: str) -> type[BaseModel]:
    """A pydantic model for an improved version of ``original_prompt``.

    Fields: ``analysis`` (the reasoning) and ``improved_prompt`` (the full new prompt, or
    ``None``). Validation refuses an ``improved_prompt`` that lost a template variable of the
    original, and escapes any other brace when the original is a clean format template.

    Example:
        >>> Schema = get_prompt_extraction_schema("Greet {name}.")
        >>> out = Schema(analysis="warmer", improved_prompt="Greet {name} warmly {today}.")
        >>> out.improved_prompt
        'Greet {name} warmly {{today}}.'
    """
    from langmem.prompts._prompts import prompt_field_description

    variables = template_variables(original_prompt)
    escape = is_clean_template(original_prompt)

    class OptimizedPromptOutput(BaseModel):
        analysis: str = Field(description="What goes wrong with the current prompt and why.")
        improved_prompt: str | None = Field(
            default=None, description=prompt_field_description(variables)
        )

        @model_validator(mode="before")
        @classmethod
        def _keep_variables(cls, data: Any) -> Any:
            if isinstance(data, dict) and isinstance(data.get("improved_prompt"), str):
                text = data["improved_prompt"]
                missing = missing_variables(variables, text)
                if missing:
                    raise TemplateVariableError(missing)
                data = {
                    **data,
                    "improved_prompt": heal_prompt(text, variables, escape_braces=escape),
                }
            return data

    OptimizedPromptOutput.__doc__ = "The full improved prompt, with the reasoning behind it."
    return OptimizedPromptOutput
