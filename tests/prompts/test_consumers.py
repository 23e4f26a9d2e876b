"""Real consumers: a provider client serializing our tools, and the manual's usage patterns."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from langmem import Prompt, create_multi_prompt_optimizer, create_prompt_optimizer
from langmem.prompts.types import AnnotatedTrajectory
from langmem.testing import ScriptedChatModel
from tests.prompts._helpers import eager, select

NEW = "You are a coding assistant. Always include a short code example."


class _StubOpenAI(BaseHTTPRequestHandler):
    """Chat completions that always call the one tool the request forces (or the first one)."""

    requests: list[dict[str, Any]] = []  # noqa: RUF012 - replaced per server in the fixture

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        choice = body.get("tool_choice")
        names = [t["function"]["name"] for t in body["tools"]]
        name = choice["function"]["name"] if isinstance(choice, dict) else names[-1]
        args = {
            "submit_prompt": {"changed": True, "new_prompt": NEW},
            "recommend": {"warrants_adjustment": True, "hypotheses": "h", "recommendations": "r"},
            "reflect": {"thought": "t"},
        }[name]
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": f"call_{len(self.requests)}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
            ],
        }
        payload = json.dumps(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def openai_stub() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    handler = type("Handler", (_StubOpenAI,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler.requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.enable_socket
def test_gradient_optimizer_through_a_real_openai_client(
    openai_stub: tuple[str, list[dict[str, Any]]],
) -> None:
    from langchain_openai import ChatOpenAI

    url, requests = openai_stub
    model = ChatOpenAI(model="gpt-4o-mini", base_url=url, api_key="sk-test", max_retries=0)
    optimizer = create_prompt_optimizer(model, kind="gradient")
    conversation = [
        {"role": "user", "content": "How do I write a bash script?"},
        {"role": "assistant", "content": "Let me explain bash scripting..."},
    ]
    out = optimizer.invoke(
        {"trajectories": [(conversation, "Include a code example")], "prompt": "You code."}
    )
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
