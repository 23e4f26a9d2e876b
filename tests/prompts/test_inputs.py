"""Every input shape upstream accepts: trajectories, feedback and prompts."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from langmem.errors import InvalidInputError
from langmem.prompts.optimization import create_prompt_optimizer
from langmem.prompts.types import AnnotatedTrajectory, OptimizerInput, Prompt
from langmem.testing import ScriptedChatModel
from tests.prompts._helpers import BETTER, CONVERSATION, PROMPT, submit

LC_CONVERSATION = [
    HumanMessage("How do I loop over files in bash?"),
    AIMessage("Loops repeat commands."),
]
RENDERED = "user: How do I loop over files in bash?\nassistant: Loops repeat commands."


def _sent(trajectories: Any, prompt: Any = PROMPT) -> str:
    model = ScriptedChatModel(responses=[submit(BETTER)])
    out = create_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": trajectories, "prompt": prompt}
    )
    assert out == BETTER
    text = model.requests[0].messages[0].content
    assert isinstance(text, str)
    return text


@pytest.mark.parametrize(
    "trajectories",
    [
        [(CONVERSATION, "needs code")],
        [(LC_CONVERSATION, "needs code")],
        [AnnotatedTrajectory(CONVERSATION, "needs code")],  # type: ignore[arg-type]
        [{"messages": CONVERSATION, "feedback": "needs code"}],
        (CONVERSATION, "needs code"),
        {"messages": LC_CONVERSATION, "feedback": "needs code"},
        [[CONVERSATION, "needs code"]],
    ],
    ids=["pair", "langchain", "annotated", "dict", "bare-pair", "bare-dict", "list-pair"],
)
def test_trajectory_shapes_render_the_same(trajectories: Any) -> None:
    expected = f"<trajectory id=1>\n{RENDERED}\n<feedback>needs code</feedback>\n</trajectory>"
    assert expected in _sent(trajectories)


def test_feedback_as_dict_text_or_none() -> None:
    text = _sent(
        [
            (CONVERSATION, {"score": 0, "comment": "too vague", "tags": ["code"]}),
            (CONVERSATION, None),
            AnnotatedTrajectory(LC_CONVERSATION),  # type: ignore[arg-type]
            CONVERSATION,
        ]
    )
    assert '<feedback>score: 0; comment: too vague; tags: ["code"]</feedback>' in text
    assert text.count("<feedback>") == 1
    assert text.count("<trajectory id=") == 4


def test_a_bare_score_is_feedback() -> None:
    # before: a (conversation, 0.5) pair was refused as "not a conversation"
    assert "<feedback>0.5</feedback>" in _sent([(CONVERSATION, 0.5)])


@pytest.mark.parametrize("score", [True, False, float("nan"), float("inf")])
def test_a_bare_score_that_is_a_bool_or_not_finite_is_refused(score: Any) -> None:
    # before: True rendered as <feedback>true</feedback>, NaN as <feedback>NaN</feedback>
    model = ScriptedChatModel(responses=[submit(BETTER)])
    payload = {"trajectories": [(CONVERSATION, score)], "prompt": PROMPT}
    with pytest.raises(
        InvalidInputError,
        match=rf"the feedback {score!r} \({type(score).__name__}\) of trajectory 1 is not usable"
        r".*a finite number \(not a bool\)",
    ):
        create_prompt_optimizer(model, kind="prompt_memory").invoke(payload)
    assert model.calls == 0


def test_when_to_update_that_is_not_text_is_refused_before_any_model_call() -> None:
    from langmem import create_multi_prompt_optimizer

    model = ScriptedChatModel()
    prompts = [{"name": "a", "prompt": "A", "when_to_update": ["x"]}, {"name": "b", "prompt": "B"}]
    # before: AttributeError: 'list' object has no attribute 'strip'
    with pytest.raises(InvalidInputError, match=r"prompt 'a' has when_to_update=\['x'\]"):
        create_multi_prompt_optimizer(model).invoke({"trajectories": "u: hi", "prompts": prompts})
    assert model.calls == 0


def test_a_bare_message_list_is_one_trajectory() -> None:
    text = _sent(CONVERSATION)
    assert f"<trajectory id=1>\n{RENDERED}\n</trajectory>" in text


def test_string_trajectories_are_used_as_given() -> None:
    assert "<trajectories>\nuser: hi\nassistant: bye\n</trajectories>" in _sent(
        "user: hi\nassistant: bye"
    )
    assert "conversation A" in _sent([("conversation A", "bad")])


def test_prompt_as_dict_and_typed_input() -> None:
    prompt = Prompt(name="coder", prompt=PROMPT, when_to_update="never")
    model = ScriptedChatModel(responses=[submit(BETTER)])
    payload = OptimizerInput(trajectories=[(CONVERSATION, "x")], prompt=prompt)  # type: ignore[typeddict-item]
    assert create_prompt_optimizer(model, kind="prompt_memory").invoke(payload) == BETTER


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"prompt": PROMPT}, "'trajectories' and 'prompt'"),
        ({"trajectories": [], "prompt": {"name": "x"}}, "no 'prompt' text"),
        ({"trajectories": [], "prompt": 42}, "neither a string nor a Prompt"),
        ({"trajectories": [42], "prompt": PROMPT}, "not a conversation"),
        ({"trajectories": 42, "prompt": PROMPT}, "not usable"),
        ("just text", "'trajectories' and 'prompt'"),
        # before: said "is not a conversation" about a good conversation
        (
            {"trajectories": [(CONVERSATION, ["a", "b"])], "prompt": PROMPT},
            r"the feedback \['a', 'b'\] \(list\) of trajectory 1 is not usable",
        ),
        # before: accepted and silently ignored
        (
            {"trajectories": [], "prompt": {"name": "a", "prompt": "A", "update_instructions": 5}},
            r"prompt 'a' has update_instructions=5 \(int\): it must be text",
        ),
        (
            {"trajectories": [], "prompt": {"name": 5, "prompt": "A"}},
            r"prompt name 5 \(int\) is not a string",
        ),
    ],
)
def test_unusable_input_is_refused_clearly(payload: Any, message: str) -> None:
    model = ScriptedChatModel()
    with pytest.raises(InvalidInputError, match=message):
        create_prompt_optimizer(model).invoke(payload)
    assert model.calls == 0
