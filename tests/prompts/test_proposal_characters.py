"""A proposed prompt with a NUL or a lone surrogate (a model's JSON may escape either) comes back
without them: before, the optimizer returned a prompt no file, store or provider can take."""

from __future__ import annotations

import pytest

from langmem import create_multi_prompt_optimizer, create_prompt_optimizer
from langmem.testing import ScriptedChatModel
from tests.prompts._helpers import PROMPT, TRAJECTORIES, recommend, select, submit

ODD = "You help {user} with code for {company}.\x00 Always \ud800include an example."
CLEAN = "You help {user} with code for {company}. Always ?include an example."


@pytest.mark.parametrize("kind", ["prompt_memory", "metaprompt", "gradient"])
def test_a_proposal_with_stray_characters_is_cleaned(kind: str) -> None:
    replies = {"gradient": [recommend(), submit(ODD)]}.get(kind, [submit(ODD)])
    model = ScriptedChatModel(responses=replies)
    config = None if kind == "prompt_memory" else {"min_reflection_steps": 0}
    optimizer = create_prompt_optimizer(model, kind=kind, config=config)  # type: ignore[arg-type]
    result = optimizer.invoke({"trajectories": TRAJECTORIES, "prompt": PROMPT})
    assert result == CLEAN
    result.encode("utf-8")


async def test_multi_prompt_async_cleans_too() -> None:
    model = ScriptedChatModel(responses=[select("code"), submit(ODD)])
    optimizer = create_multi_prompt_optimizer(model, kind="prompt_memory")
    prompts = [{"name": "code", "prompt": PROMPT}, {"name": "other", "prompt": "Be short."}]
    result = await optimizer.ainvoke({"trajectories": TRAJECTORIES, "prompts": prompts})
    assert [p["prompt"] for p in result] == [CLEAN, "Be short."]
