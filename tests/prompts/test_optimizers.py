"""The three single-prompt optimizers: model calls, results and safety rules."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langmem import Prompt, create_prompt_optimizer
from langmem.errors import ConfigurationError
from langmem.prompts.gradient import GradientPromptOptimizer
from langmem.prompts.metaprompt import MetaPromptOptimizer
from langmem.prompts.stateless import PromptMemoryMultiple
from langmem.testing import ScriptedChatModel, ai_tool_calls
from tests.prompts._helpers import (
    BETTER,
    PROMPT,
    TRAJECTORIES,
    eager,
    recommend,
    reflect,
    submit,
)

INPUT: dict[str, Any] = {"trajectories": TRAJECTORIES, "prompt": PROMPT}


def _run(kind: str, replies: list[Any], config: Any = None, **input: Any) -> tuple[str, Any]:
    model = ScriptedChatModel(responses=replies)
    out = create_prompt_optimizer(model, kind=kind, config=config).invoke({**INPUT, **input})  # type: ignore[arg-type]
    assert model.pending == 0, "the optimizer made fewer calls than scripted"
    return out, model


def test_factory_returns_the_runtime_classes() -> None:
    model = ScriptedChatModel()
    assert isinstance(create_prompt_optimizer(model), GradientPromptOptimizer)
    assert isinstance(create_prompt_optimizer(model, kind="metaprompt"), MetaPromptOptimizer)
    assert isinstance(create_prompt_optimizer(model, kind="prompt_memory"), PromptMemoryMultiple)
    with pytest.raises(ConfigurationError, match="'gradient', 'metaprompt', 'prompt_memory'"):
        create_prompt_optimizer(model, kind="sgd")  # type: ignore[call-overload]


# --- prompt_memory: exactly one call -------------------------------------------------------------


def test_prompt_memory_makes_one_call_and_returns_the_new_prompt() -> None:
    out, model = _run("prompt_memory", [submit(BETTER)])
    assert out == BETTER and model.calls == 1
    request = model.requests[0]
    assert request.tool_names == ["submit_prompt"] and request.tool_choice == "submit_prompt"
    sent = request.messages[0].content
    assert PROMPT in sent and "How do I loop over files in bash?" in sent
    assert "score: 0; comment: no code example" in sent


@pytest.mark.parametrize(
    "reply",
    [
        submit(changed=False),
        submit("", changed=True),
        submit("   "),
        submit(PROMPT),
        submit(PROMPT + "\n"),
    ],
    ids=["declined", "empty", "blank", "same", "same-with-newline"],
)
def test_no_change_returns_the_original_prompt_never_empty(reply: AIMessage) -> None:
    out, _ = _run("prompt_memory", [reply])
    assert out == PROMPT


def test_update_instructions_of_a_prompt_reach_the_model() -> None:
    prompt = Prompt(name="coder", prompt=PROMPT, update_instructions="Keep it under 50 words.")
    out, model = _run("prompt_memory", [submit(BETTER)], prompt=prompt)
    assert out == BETTER
    assert "<update_instructions>\nKeep it under 50 words.\n</update_instructions>" in (
        model.requests[0].messages[0].content
    )


def test_no_trajectories_means_no_model_call() -> None:
    for kind in ("prompt_memory", "metaprompt", "gradient"):
        for empty in ([], "", "   "):
            out, model = _run(kind, [], trajectories=empty)
            assert out == PROMPT and model.calls == 0


# --- metaprompt: 2-5 calls with the defaults, stops at the final prompt -------------------------


def test_metaprompt_stops_as_soon_as_the_model_gives_its_prompt() -> None:
    out, model = _run("metaprompt", [reflect(), submit(BETTER)])
    assert out == BETTER and model.calls == 2
    # the first call may only reflect; the second may answer
    assert [r.tool_names for r in model.requests] == [
        ["reflect"],
        ["reflect", "submit_prompt"],
    ]
    assert [r.tool_choice for r in model.requests] == ["reflect", "any"]
    # the reflection is acknowledged as a tool result in the same conversation
    second = model.requests[1].messages
    assert isinstance(second[1], AIMessage) and isinstance(second[2], ToolMessage)


def test_metaprompt_forces_the_answer_at_max_reflection_steps() -> None:
    out, model = _run("metaprompt", [reflect()] * 4 + [submit(BETTER)])
    assert out == BETTER and model.calls == 5  # the default maximum
    assert model.requests[-1].tool_names == ["submit_prompt"]
    assert model.requests[-1].tool_choice == "submit_prompt"


@pytest.mark.parametrize(("low", "high", "calls"), [(1, 3, 2), (2, 5, 3), (0, 4, 1), (4, 2, 2)])
def test_metaprompt_reflection_bounds(low: int, high: int, calls: int) -> None:
    config = {"min_reflection_steps": low, "max_reflection_steps": high}
    model = ScriptedChatModel(default=eager())
    out = create_prompt_optimizer(model, kind="metaprompt", config=config).invoke(INPUT)  # type: ignore[arg-type]
    assert out == BETTER and model.calls == calls
    offered = [r.tool_names for r in model.requests]
    assert all(names == ["reflect"] for names in offered[: calls - 1])


def test_metaprompt_custom_template_is_used() -> None:
    config = {"metaprompt": "Fix {prompt} given {trajectories}; notes: {update_instructions}."}
    out, model = _run("metaprompt", [reflect(), submit(BETTER)], config=config)
    assert out == BETTER
    sent = model.requests[0].messages[0].content
    assert sent.startswith(f"Fix {PROMPT} given <trajectory id=1>") and sent.endswith("notes: .")


# --- gradient: hypotheses, recommendation, separate update --------------------------------------


def test_gradient_three_separate_steps() -> None:
    out, model = _run("gradient", [reflect(), recommend(), submit(BETTER)])
    assert out == BETTER and model.calls == 3
    assert [r.tool_names for r in model.requests] == [
        ["reflect"],
        ["reflect", "recommend"],
        ["submit_prompt"],
    ]
    update = model.requests[2].messages
    assert len(update) == 1  # a fresh conversation: prompt, hypotheses and recommendations only
    assert "No rule asks for code." in update[0].content
    assert "Require an example." in update[0].content
    assert "How do I loop" not in update[0].content


def test_gradient_without_warranted_adjustment_keeps_the_prompt_in_two_calls() -> None:
    out, model = _run("gradient", [reflect(), recommend(warranted=False)])
    assert out == PROMPT and model.calls == 2


def test_gradient_with_the_manuals_config_stays_in_4_to_10_calls() -> None:
    config = {"max_reflection_steps": 5, "min_reflection_steps": 2}
    model = ScriptedChatModel(default=eager())
    create_prompt_optimizer(model, kind="gradient", config=config).invoke(INPUT)  # type: ignore[arg-type]
    assert model.calls == 4
    slow = ScriptedChatModel(responses=[reflect()] * 4 + [recommend(), submit(BETTER)])
    out = create_prompt_optimizer(slow, kind="gradient", config=config).invoke(INPUT)  # type: ignore[arg-type]
    assert out == BETTER and 4 <= slow.calls <= 10 and slow.calls == 6


def test_gradient_custom_templates_are_used() -> None:
    config = {
        "gradient_prompt": "Diagnose {prompt} from {trajectories}{feedback}",
        "metaprompt": "Apply {recommendations} ({hypotheses}) to {current_prompt}",
    }
    out, model = _run("gradient", [reflect(), recommend(), submit(BETTER)], config=config)
    assert out == BETTER
    assert model.requests[0].messages[0].content.startswith(f"Diagnose {PROMPT} from <trajectory")
    assert model.requests[2].messages[0].content == (
        f"Apply Require an example. (No rule asks for code.) to {PROMPT}"
    )


# --- template variables: never lost, even by adversarial models --------------------------------


def test_dropped_variable_is_sent_back_and_the_fixed_prompt_accepted() -> None:
    dropped = "You help with code for {company}. Include examples."
    out, model = _run("prompt_memory", [submit(dropped), submit(BETTER)])
    assert out == BETTER and model.calls == 2
    feedback = model.requests[1].messages[-1]
    assert isinstance(feedback, ToolMessage) and "{user}" in feedback.content
    assert "{company}" not in feedback.content


@pytest.mark.parametrize(
    "bad",
    [
        "You help {username} with code for {company}.",  # renamed
        "You help {{user}} with code for {company}.",  # escaped into a literal
        "You help users with code.",  # both dropped
    ],
)
def test_a_model_that_keeps_losing_variables_gets_the_original_back(
    bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="langmem.prompts"):
        out, model = _run("prompt_memory", [submit(bad)] * 3)
    assert out == PROMPT and model.calls == 3  # one answer + two corrections, then stop
    assert "kept prompt" in caplog.text and "{user}" in caplog.text


def test_gradient_update_step_also_protects_variables() -> None:
    out, model = _run(
        "gradient", [reflect(), recommend(), submit("Help with code."), submit(BETTER)]
    )
    assert out == BETTER and model.calls == 4


def test_new_braces_are_escaped_so_format_still_works() -> None:
    out, _ = _run("prompt_memory", [submit(PROMPT + ' Reply as {"code": ...} for {lang}.')])
    assert out == PROMPT + ' Reply as {{"code": ...}} for {{lang}}.'
    assert out.format(user="Ann", company="Acme").endswith('Reply as {"code": ...} for {lang}.')


def test_prompt_that_is_not_a_template_is_not_escaped() -> None:
    raw = 'Answer as JSON: {"answer": "..."}'
    new = 'Answer briefly, as JSON: {"answer": "..."}'
    out, _ = _run("prompt_memory", [submit(new)], prompt=raw)
    assert out == new


# --- malformed model output: retried within a bound, never a crash ------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        AIMessage(content="Here is the prompt: be nicer."),  # no tool call
        ai_tool_calls(("reflect", {"thought": "hm"})),  # a tool that is not offered
        ai_tool_calls(("submit_prompt", {"changed": True, "new_prompt": 42})),  # wrong type
        AIMessage(
            content="",
            invalid_tool_calls=[
                {"name": "submit_prompt", "args": "{oops", "id": "c1", "error": "bad JSON"}
            ],
        ),
    ],
    ids=["text", "unknown-tool", "wrong-type", "invalid-json"],
)
def test_malformed_reply_is_corrected(bad: AIMessage) -> None:
    out, model = _run("prompt_memory", [bad, submit(BETTER)])
    assert out == BETTER and model.calls == 2
    last = model.requests[1].messages[-1]
    assert isinstance(last, (ToolMessage, HumanMessage))
    assert "submit_prompt" in str(last.content)


def test_endless_garbage_gives_the_original_prompt_back(caplog: pytest.LogCaptureFixture) -> None:
    for kind in ("prompt_memory", "metaprompt", "gradient"):
        model = ScriptedChatModel(default=AIMessage(content="no tools for you"))
        with caplog.at_level(logging.WARNING, logger="langmem.prompts"):
            out = create_prompt_optimizer(model, kind=kind).invoke(INPUT)  # type: ignore[call-overload]
        assert out == PROMPT
        assert model.calls <= 5 + 2  # max_reflection_steps plus the correction bound
    assert "no usable answer" in caplog.text


def test_the_log_counts_the_corrections_that_were_sent(caplog: pytest.LogCaptureFixture) -> None:
    model = ScriptedChatModel(default=AIMessage(content="no tools for you"))
    with caplog.at_level(logging.WARNING, logger="langmem.prompts"):
        create_prompt_optimizer(model, kind="prompt_memory").invoke(INPUT)  # type: ignore[call-overload]
    asked = [m for m in model.requests[-1].messages if isinstance(m, HumanMessage)][1:]
    # before: "after 3 corrections" when 2 had been sent
    assert model.calls == 3 and len(asked) == 2
    assert "no usable answer in 3 replies, 2 of them to corrections" in caplog.text


def test_gradient_recommendation_needs_a_boolean() -> None:
    bad = ai_tool_calls(("recommend", {"warrants_adjustment": "maybe"}))
    out, model = _run("gradient", [reflect(), bad, recommend(), submit(BETTER)])
    assert out == BETTER and model.calls == 4


# --- configuration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "config", "message"),
    [
        ("metaprompt", {"max_steps": 3}, "unknown key"),
        ("metaprompt", {"max_reflection_steps": 0}, "integer >= 1"),
        ("gradient", {"min_reflection_steps": -1}, "integer >= 0"),
        ("gradient", {"min_reflection_steps": True}, "integer >= 0"),
        ("metaprompt", {"metaprompt": "Improve {prompt} for {audience}"}, "{audience}"),
        ("gradient", {"metaprompt": "Fix {prompt}"}, "{current_prompt}"),
        ("gradient", {"gradient_prompt": "Broken {"}, "valid format template"),
        ("metaprompt", {"metaprompt": ""}, "non-empty"),
    ],
)
def test_bad_config_is_refused_when_built(kind: str, config: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("{", r"\{")):
        create_prompt_optimizer(ScriptedChatModel(), kind=kind, config=config)  # type: ignore[call-overload]


def test_model_strings_resolve_lazily() -> None:
    optimizer = create_prompt_optimizer("openai:gpt-4o-mini", kind="metaprompt")
    assert optimizer.model == "openai:gpt-4o-mini"  # type: ignore[attr-defined]
    assert isinstance(PromptMemoryMultiple().model, str)  # upstream's default model, unresolved


# --- edits instead of a full prompt ------------------------------------------------------------


def _edits(*pairs: tuple[str, str], changed: bool = True) -> AIMessage:
    edits = [{"find": f, "replace": r} for f, r in pairs]
    return ai_tool_calls(("submit_prompt", {"changed": changed, "edits": edits}))


def test_edits_are_applied_to_the_current_prompt() -> None:
    reply = _edits(("for {company}.", "for {company}. Always include a runnable example."))
    out, model = _run("prompt_memory", [reply])
    assert out == BETTER and model.calls == 1
    schema = model.requests[0].tools[0]["function"]["parameters"]["properties"]["edits"]
    assert schema["items"]["required"] == ["find", "replace"]


def test_gradient_update_can_answer_with_edits() -> None:
    edit = _edits(("You help {user}", "You patiently help {user}"), ("code", "code {lang}"))
    out, _ = _run("gradient", [reflect(), recommend(), edit])
    assert out == "You patiently help {user} with code {{lang}} for {company}."


@pytest.mark.parametrize(
    ("bad", "feedback"),
    [
        (_edits(("You assist", "You help")), "does not occur"),
        (_edits(("o", "0")), "occurs 4 times"),
        (ai_tool_calls(("submit_prompt", {"changed": True, "edits": "swap"})), "list of {find"),
        (ai_tool_calls(("submit_prompt", {"changed": True, "edits": [{"find": 1}]})), "list of"),
        (_edits(("You help {user} ", "You help ")), "{user}"),  # an edit that drops a variable
    ],
)
def test_unusable_edits_are_sent_back(bad: AIMessage, feedback: str) -> None:
    out, model = _run("prompt_memory", [bad, submit(BETTER)])
    assert out == BETTER and model.calls == 2
    assert feedback in model.requests[1].messages[-1].content


def test_edits_that_change_nothing_keep_the_original() -> None:
    out, _ = _run("prompt_memory", [_edits(("{user}", "{user}"))])
    assert out == PROMPT
    out, _ = _run("prompt_memory", [_edits(("{user}", "someone"), changed=False)])
    assert out == PROMPT


def test_a_usable_answer_is_taken_even_next_to_a_stray_call() -> None:
    reply = ai_tool_calls(
        ("search_web", {"q": "x"}),
        ("submit_prompt", {"changed": True, "new_prompt": "Help at {company}, no code."}),
        ("submit_prompt", {"changed": True, "new_prompt": BETTER}),
    )
    out, model = _run("prompt_memory", [reply])
    assert out == BETTER and model.calls == 1  # the first submission lost {user}: the second counts
