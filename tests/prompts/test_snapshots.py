"""Snapshots of exactly what the optimizers send: messages, tool schemas and tool choices.

After a deliberate wording change, regenerate with
``LANGMEM_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/prompts/test_snapshots.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from langmem import Prompt, create_multi_prompt_optimizer, create_prompt_optimizer
from langmem.testing import ScriptedChatModel
from tests.prompts._helpers import (
    BETTER,
    CONVERSATION,
    PROMPT,
    recommend,
    reflect,
    render,
    select,
    submit,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
TRAJECTORIES: list[Any] = [
    (CONVERSATION, {"score": 0, "comment": "no code example"}),
    ([{"role": "user", "content": "thanks!"}], "User was happy."),
]
PROMPT_WITH_GUIDANCE = Prompt(
    name="coder", prompt=PROMPT, update_instructions="Keep it short.", when_to_update="Code errors."
)


def _check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("LANGMEM_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing snapshot {path.name}: run with LANGMEM_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed"


@pytest.mark.parametrize(
    ("kind", "replies"),
    [
        ("prompt_memory", [submit("Help with code."), submit(BETTER)]),
        ("metaprompt", [reflect(), submit(BETTER)]),
        ("gradient", [reflect(), recommend(), submit(BETTER)]),
    ],
)
def test_single_prompt_requests(kind: str, replies: list[Any]) -> None:
    model = ScriptedChatModel(responses=replies)
    optimizer = create_prompt_optimizer(model, kind=kind)  # type: ignore[call-overload]
    assert (
        optimizer.invoke({"trajectories": TRAJECTORIES, "prompt": PROMPT_WITH_GUIDANCE}) == BETTER
    )
    _check(kind, render(model.requests))


def test_prompt_selection_request() -> None:
    model = ScriptedChatModel(responses=[select()])
    prompts = [PROMPT_WITH_GUIDANCE, Prompt(name="style", prompt="Be friendly.")]
    create_multi_prompt_optimizer(model).invoke({"trajectories": TRAJECTORIES, "prompts": prompts})
    _check("select_prompts", render(model.requests))
