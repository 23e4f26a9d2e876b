"""invoke, ainvoke and ``await optimizer(...)``: one implementation, same results and traffic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from langmem import create_multi_prompt_optimizer, create_prompt_optimizer
from langmem.testing import RecordedRequest, ScriptedChatModel
from tests.prompts._helpers import (
    BETTER,
    PROMPT,
    TRAJECTORIES,
    eager,
    recommend,
    reflect,
    render,
    select,
    submit,
)

PROMPTS = [
    {"name": "a", "prompt": "Answer {q}.", "when_to_update": "Answers are wrong."},
    {"name": "b", "prompt": PROMPT},
    {"name": "c", "prompt": "Be brief."},
]

# kind, config, scripted replies: adversarial steps included (a dropped variable, a text reply)
SINGLE: list[tuple[str, Any, list[Any]]] = [
    ("prompt_memory", None, [submit("Help with code."), submit(BETTER)]),
    ("metaprompt", None, [reflect(), reflect(), submit(BETTER)]),
    (
        "metaprompt",
        {"min_reflection_steps": 2, "max_reflection_steps": 3},
        [reflect(), reflect(), submit(BETTER)],
    ),
    ("gradient", None, [reflect(), "no tool", recommend(), submit(BETTER)]),
    ("gradient", None, [reflect(), recommend(warranted=False)]),
]


def _traffic(model: ScriptedChatModel) -> list[str]:
    return [render([r]) for r in model.requests]


async def _three_ways(
    build: Callable[[ScriptedChatModel], Any], script: Callable[[], ScriptedChatModel], payload: Any
) -> list[tuple[Any, list[str]]]:
    runs = []
    for mode in ("invoke", "ainvoke", "call"):
        model = script()
        optimizer = build(model)
        if mode == "invoke":
            out = optimizer.invoke(payload)
        elif mode == "ainvoke":
            out = await optimizer.ainvoke(payload)
        else:
            out = await optimizer(*payload.values())
        runs.append((out, _traffic(model)))
    return runs


@pytest.mark.parametrize(("kind", "config", "replies"), SINGLE)
async def test_single_prompt_parity(kind: str, config: Any, replies: list[Any]) -> None:
    runs = await _three_ways(
        lambda m: create_prompt_optimizer(m, kind=kind, config=config),  # type: ignore[call-overload]
        lambda: ScriptedChatModel(responses=list(replies)),
        {"trajectories": TRAJECTORIES, "prompt": PROMPT},
    )
    assert runs[0] == runs[1] == runs[2]
    assert runs[0][1], "no traffic recorded"


def _multi_reply(request: RecordedRequest) -> Any:
    if "select_prompts" in request.tool_names:
        return select("a", "b", "c")
    text = request.text()
    return eager("Answer {q} with sources." if "Answer {q}." in text else BETTER)(request)


@pytest.mark.parametrize("kind", ["prompt_memory", "metaprompt", "gradient"])
async def test_multi_prompt_parity(kind: str) -> None:
    runs = await _three_ways(
        lambda m: create_multi_prompt_optimizer(m, kind=kind),  # type: ignore[arg-type]
        lambda: ScriptedChatModel(default=_multi_reply),
        {"trajectories": TRAJECTORIES, "prompts": PROMPTS},
    )
    outputs = [out for out, _ in runs]
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0][0]["prompt"] == "Answer {q} with sources."
    # prompts are optimized concurrently, so calls may interleave: compare as multisets
    traffic = [sorted(t) for _, t in runs]
    assert traffic[0] == traffic[1] == traffic[2]
