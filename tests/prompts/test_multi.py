"""The multi-prompt optimizer: picks the prompts the feedback concerns and optimizes only those."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from langmem import create_multi_prompt_optimizer
from langmem.errors import InvalidInputError
from langmem.prompts.optimization import MultiPromptOptimizer
from langmem.testing import RecordedRequest, ScriptedChatModel
from langmem.testing import ai_tool_calls as calls
from tests.prompts._helpers import BETTER, PROMPT, TRAJECTORIES, eager, select, submit

PROMPTS: list[dict[str, Any]] = [
    {"name": "router", "prompt": "Route {question}.", "when_to_update": "Misrouted questions."},
    {
        "name": "coder",
        "prompt": PROMPT,
        "update_instructions": "Minimal edits only.",
        "when_to_update": "Answers about code are wrong or incomplete.",
    },
    {"name": "style", "prompt": "Be friendly."},
]


def _by_prompt(request: RecordedRequest) -> Any:
    """Reply by what the request is about (parallel calls may arrive in any order)."""
    text = request.text()
    if "select_prompts" in request.tool_names:
        return select("coder", "style")
    if "<current_prompt>\nBe friendly." in text:
        return submit("Be friendly and warm.")
    return submit(BETTER)


def test_factory_builds_the_runtime_class() -> None:
    optimizer = create_multi_prompt_optimizer(ScriptedChatModel(), kind="metaprompt")
    assert isinstance(optimizer, MultiPromptOptimizer) and optimizer.kind == "metaprompt"


@pytest.mark.parametrize("mode", ["invoke", "ainvoke", "call"])
async def test_only_selected_prompts_change_and_order_and_shape_are_kept(mode: str) -> None:
    model = ScriptedChatModel(default=_by_prompt)
    optimizer = create_multi_prompt_optimizer(model, kind="prompt_memory")
    payload = {"trajectories": TRAJECTORIES, "prompts": PROMPTS}
    if mode == "invoke":
        out = optimizer.invoke(payload)  # type: ignore[arg-type]
    elif mode == "ainvoke":
        out = await optimizer.ainvoke(payload)  # type: ignore[arg-type]
    else:
        out = await optimizer(TRAJECTORIES, PROMPTS)  # type: ignore[arg-type,operator]
    assert out == [
        PROMPTS[0],
        {**PROMPTS[1], "prompt": BETTER},
        {**PROMPTS[2], "prompt": "Be friendly and warm."},
    ]
    assert out[0] is PROMPTS[0]  # untouched: returned as given
    assert PROMPTS[1]["prompt"] == PROMPT  # the caller's dicts are not modified
    assert model.calls == 3  # selection + one per selected prompt; none for "router"
    assert not any("Route {question}." in r.text() for r in model.requests[1:])


def test_selection_sees_when_to_update_and_update_instructions() -> None:
    model = ScriptedChatModel(responses=[select()])
    out = create_multi_prompt_optimizer(model, kind="gradient").invoke(
        {"trajectories": TRAJECTORIES, "prompts": PROMPTS}  # type: ignore[typeddict-item]
    )
    assert out == PROMPTS and model.calls == 1
    request = model.requests[0]
    assert request.tool_names == ["select_prompts"] and request.tool_choice == "select_prompts"
    names = request.tools[0]["function"]["parameters"]["properties"]["names"]
    assert names["items"]["enum"] == ["router", "coder", "style"]
    text = request.messages[0].content
    assert "when_to_update: Answers about code are wrong or incomplete." in text
    assert "update_instructions: Minimal edits only." in text
    assert '<prompt name="style">\nBe friendly.\n</prompt>' in text


def test_one_prompt_without_when_to_update_skips_selection() -> None:
    model = ScriptedChatModel(responses=[submit(BETTER)])
    out = create_multi_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": TRAJECTORIES, "prompts": [{"name": "coder", "prompt": PROMPT}]}
    )
    assert out == [{"name": "coder", "prompt": BETTER}] and model.calls == 1


def test_one_prompt_with_when_to_update_is_selected_first() -> None:
    model = ScriptedChatModel(responses=[select()])
    prompts = [{"name": "coder", "prompt": PROMPT, "when_to_update": "on code errors"}]
    out = create_multi_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": TRAJECTORIES, "prompts": prompts}  # type: ignore[typeddict-item]
    )
    assert out == prompts and model.calls == 1


def test_unknown_names_are_corrected_and_garbage_keeps_everything(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = ScriptedChatModel(responses=[select("coders"), select("coder"), submit(BETTER)])
    optimizer = create_multi_prompt_optimizer(model, kind="prompt_memory")
    out = optimizer.invoke({"trajectories": TRAJECTORIES, "prompts": PROMPTS})  # type: ignore[typeddict-item]
    assert [p["prompt"] for p in out] == ["Route {question}.", BETTER, "Be friendly."]
    assert "Unknown prompt name(s) coders" in model.requests[1].messages[-1].content
    garbage = ScriptedChatModel(default=calls(("select_prompts", {"names": "nope"})))
    with caplog.at_level(logging.WARNING, logger="langmem.prompts"):
        out = create_multi_prompt_optimizer(garbage).invoke(
            {"trajectories": TRAJECTORIES, "prompts": PROMPTS}  # type: ignore[typeddict-item]
        )
    assert out == PROMPTS and garbage.calls == 3
    assert "kept every prompt unchanged" in caplog.text


def test_prompt_memory_multi_never_erases_prompts() -> None:
    model = ScriptedChatModel(
        default=lambda r: (
            select("router", "coder", "style")
            if "select_prompts" in r.tool_names
            else submit(changed=False)
        )
    )
    out = create_multi_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": TRAJECTORIES, "prompts": PROMPTS}  # type: ignore[typeddict-item]
    )
    assert out == PROMPTS and model.calls == 4


@pytest.mark.parametrize("kind", ["metaprompt", "gradient"])
def test_every_kind_runs_per_selected_prompt(kind: str) -> None:
    model = ScriptedChatModel(
        default=lambda r: (
            select("router", "coder", "style")
            if "select_prompts" in r.tool_names
            else eager("{question} " + BETTER if "Route {question}" in r.text() else BETTER)(r)
        )
    )
    out = create_multi_prompt_optimizer(model, kind=kind).invoke(  # type: ignore[arg-type]
        {"trajectories": TRAJECTORIES, "prompts": PROMPTS}  # type: ignore[typeddict-item]
    )
    assert [p["name"] for p in out] == ["router", "coder", "style"]
    assert out[0]["prompt"].startswith("{question}")  # its variable kept
    per_prompt = {"metaprompt": 2, "gradient": 3}[kind]
    assert model.calls == 1 + 3 * per_prompt


def test_plain_string_prompts_come_back_as_strings() -> None:
    model = ScriptedChatModel(responses=[select("prompt_1"), submit("B, better.")])
    out = create_multi_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": TRAJECTORIES, "prompts": ["A.", "B."]}  # type: ignore[list-item]
    )
    assert out == ["A.", "B, better."]


def test_no_trajectories_no_calls_and_bad_inputs_refused() -> None:
    model = ScriptedChatModel()
    optimizer = create_multi_prompt_optimizer(model)
    assert optimizer.invoke({"trajectories": [], "prompts": PROMPTS}) == PROMPTS  # type: ignore[typeddict-item]
    assert model.calls == 0
    with pytest.raises(InvalidInputError, match="more than once"):
        optimizer.invoke({"trajectories": "x", "prompts": [PROMPTS[0], PROMPTS[0]]})  # type: ignore[typeddict-item]
    with pytest.raises(InvalidInputError, match="not a list"):
        optimizer.invoke({"trajectories": "x", "prompts": PROMPTS[0]})  # type: ignore[typeddict-item]
    with pytest.raises(InvalidInputError, match="'prompts'"):
        optimizer.invoke({"trajectories": "x", "prompt": PROMPT})  # type: ignore[typeddict-item]
