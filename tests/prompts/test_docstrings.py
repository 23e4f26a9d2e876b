"""The examples in the prompt-optimization docstrings run offline and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "langmem._templates",
    "langmem.prompts.gradient",
    "langmem.prompts.metaprompt",
    "langmem.prompts.optimization",
    "langmem.prompts.stateless",
    "langmem.prompts.types",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
