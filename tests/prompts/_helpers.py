"""Scripted replies and request renderings shared by the prompt-optimization tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage

from langmem.testing import RecordedRequest, ai_tool_calls

CONVERSATION = [
    {"role": "user", "content": "How do I loop over files in bash?"},
    {"role": "assistant", "content": "Loops repeat commands."},
]
TRAJECTORIES: list[Any] = [(CONVERSATION, {"score": 0, "comment": "no code example"})]
PROMPT = "You help {user} with code for {company}."
BETTER = "You help {user} with code for {company}. Always include a runnable example."


def submit(new_prompt: str | None = None, changed: bool = True) -> AIMessage:
    args: dict[str, Any] = {"changed": changed}
    if new_prompt is not None:
        args["new_prompt"] = new_prompt
    return ai_tool_calls(("submit_prompt", args))


def reflect(thought: str = "The reply had no code.") -> AIMessage:
    return ai_tool_calls(("reflect", {"thought": thought}))


def recommend(warranted: bool = True) -> AIMessage:
    args: dict[str, Any] = {"warrants_adjustment": warranted}
    if warranted:
        args |= {"hypotheses": "No rule asks for code.", "recommendations": "Require an example."}
    return ai_tool_calls(("recommend", args))


def select(*names: str) -> AIMessage:
    return ai_tool_calls(("select_prompts", {"names": list(names)}))


def eager(new_prompt: str = BETTER) -> Callable[[RecordedRequest], AIMessage]:
    """Answer every request with the most final tool it offers."""

    def reply(request: RecordedRequest) -> AIMessage:
        offered = request.tool_names
        if "submit_prompt" in offered:
            return submit(new_prompt)
        if "recommend" in offered:
            return recommend()
        return reflect()

    return reply


def render(requests: list[RecordedRequest]) -> str:
    """Requests as stable text for snapshots: tool choice, tools, then each message."""
    blocks = []
    for number, request in enumerate(requests, start=1):
        lines = [f"=== request {number} · tool_choice={request.tool_choice!r}"]
        for tool in request.tools:
            lines.append("--- tool")
            lines.append(json.dumps(tool["function"], indent=1, sort_keys=True))
        for message in request.messages:
            lines.append(f"--- {message.type}")
            content = message.content if isinstance(message.content, str) else str(message.content)
            lines.append(content)
            for call in getattr(message, "tool_calls", None) or []:
                lines.append(
                    f"[tool call {call['name']} {json.dumps(call['args'], sort_keys=True)}]"
                )
        blocks.append("\n".join(lines))
    return "\n".join(blocks) + "\n"
