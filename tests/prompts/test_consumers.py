"""Real consumers: a provider client serializing our tools, and the manual's usage patterns."""

from __future__ import annotations

from typing import Any

import pytest

from langmem import Prompt, create_multi_prompt_optimizer, create_prompt_optimizer
from langmem.prompts.types import AnnotatedTrajectory
from langmem.testing import ScriptedChatModel
from tests._openai_stub import OpenAIStub, assistant_tool_calls
from tests.prompts._helpers import eager, select

NEW = "You are a coding assistant. Always include a short code example."


def _answer_forced_tool(body: dict[str, Any], number: int) -> dict[str, Any]:
    """Call the one tool the request forces (or the last one offered)."""
    choice = body.get("tool_choice")
    names = [t["function"]["name"] for t in body["tools"]]
    name = choice["function"]["name"] if isinstance(choice, dict) else names[-1]
    args = {
        "submit_prompt": {"changed": True, "new_prompt": NEW},
        "recommend": {"warrants_adjustment": True, "hypotheses": "h", "recommendations": "r"},
        "reflect": {"thought": "t"},
    }[name]
    return assistant_tool_calls((name, args))


@pytest.mark.enable_socket
def test_gradient_optimizer_through_a_real_openai_client() -> None:
    conversation = [
        {"role": "user", "content": "How do I write a bash script?"},
        {"role": "assistant", "content": "Let me explain bash scripting..."},
    ]
    with OpenAIStub(_answer_forced_tool) as stub:
        optimizer = create_prompt_optimizer(stub.chat_model(), kind="gradient")
        out = optimizer.invoke(
            {"trajectories": [(conversation, "Include a code example")], "prompt": "You code."}
        )
    requests = stub.requests
    assert out == NEW and len(requests) == 3
    assert requests[0]["tool_choice"] == {"type": "function", "function": {"name": "reflect"}}
    assert requests[1]["tool_choice"] == "required"  # "any" as OpenAI spells it
    assert [t["function"]["name"] for t in requests[1]["tools"]] == ["reflect", "recommend"]
    # the reflection went back as an assistant tool call and its tool result
    assert [m["role"] for m in requests[1]["messages"]] == ["user", "assistant", "tool"]
    submit = requests[2]["tools"][0]["function"]
    assert submit["name"] == "submit_prompt"
    assert submit["parameters"]["required"] == ["changed"]


async def test_the_manuals_usage_patterns() -> None:
    model = ScriptedChatModel(default=eager("You are a coding assistant with examples."))
    optimizer = create_prompt_optimizer(model)
    conversation = [
        {"role": "user", "content": "How do I write a bash script?"},
        {"role": "assistant", "content": "Let me explain bash scripting..."},
    ]
    trajectories = [(conversation, {"feedback": "Response should include a code example"})]
    better = await optimizer(trajectories, "You are a coding assistant")
    assert better == "You are a coding assistant with examples."

    trajectory = AnnotatedTrajectory(
        messages=[  # type: ignore[arg-type]
            {"role": "user", "content": "What pizza is good around here?"},
            {"role": "assistant", "content": "Try LangPizza™️"},
        ],
        feedback={"developer_feedback": "too pushy", "score": 0},
    )
    prompt = Prompt(
        name="extract_entities",
        prompt="Extract key entities from the text:",
        update_instructions="Make minimal changes, only address where errors have occurred.",
        when_to_update="If there seem to be errors in recall of named entities.",
    )
    multi_model = ScriptedChatModel(
        default=lambda r: (
            select("extract_entities")
            if "select_prompts" in r.tool_names
            else eager("Extract key entities, and no ads:")(r)
        )
    )
    multi = create_multi_prompt_optimizer(
        multi_model,
        kind="metaprompt",
        config={"max_reflection_steps": 3, "min_reflection_steps": 1},
    )
    out = await multi.ainvoke({"trajectories": [trajectory], "prompts": [prompt]})
    assert out == [{**prompt, "prompt": "Extract key entities, and no ads:"}]
    assert "developer_feedback: too pushy; score: 0" in multi_model.requests[0].text()
