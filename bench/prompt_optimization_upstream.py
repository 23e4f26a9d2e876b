"""Prompt-optimization scenario shared by both sides of ``bench/prompt_optimization.py``.

Run by itself (with upstream langmem 0.0.30's Python) it measures upstream and prints one JSON
object on its last line. Imported, it gives the scenario data and the scripted replies, so our
side runs the very same conversations, prompts and model behaviour. Standard library only at
import time.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

TRAJECTORIES: list[tuple[list[dict[str, str]], Any]] = [
    (
        [
            {"role": "user", "content": "How do I write a bash loop over files?"},
            {
                "role": "assistant",
                "content": "Bash loops let you repeat commands. There are for loops, while "
                "loops and until loops, each useful in different situations.",
            },
            {"role": "user", "content": "Can you just show me the code?"},
            {"role": "assistant", "content": "Sure, you would use a for loop over a glob."},
        ],
        {"score": 0, "comment": "Never showed a code example."},
    ),
    (
        [
            {"role": "user", "content": "What's the difference between a list and a tuple?"},
            {
                "role": "assistant",
                "content": "Lists are mutable and tuples are immutable. Use tuples for fixed "
                "records and lists for collections that change.",
            },
        ],
        "Good answer, but an example would have made it clearer.",
    ),
    (
        [
            {"role": "user", "content": "Why does my regex `a+?` match only one a?"},
            {
                "role": "assistant",
                "content": "Because `+?` is a lazy quantifier: it matches as few characters as "
                "possible. Use `a+` for a greedy match.",
            },
        ],
        {"score": 1},
    ),
]

PROMPT = "You are a coding assistant for {company}. Answer questions from {user_name} concisely."
NEW_PROMPT = (
    "You are a coding assistant for {company}. Answer questions from {user_name} concisely. "
    "Always include a short, runnable code example when the question is about code."
)

PROMPTS: list[dict[str, Any]] = [
    {
        "name": "router",
        "prompt": "Route the question of {user_name} to the right specialist.",
        "when_to_update": "When questions reach the wrong specialist.",
    },
    {
        "name": "coder",
        "prompt": PROMPT,
        "update_instructions": "Make minimal changes.",
        "when_to_update": "When answers about code lack what the user asked for.",
    },
    {
        "name": "style",
        "prompt": "Write in a friendly, plain style.",
        "when_to_update": "When users complain about tone.",
    },
]


def new_text(request_text: str) -> str:
    """The improved version of whichever scenario prompt the request is about."""
    for prompt in PROMPTS:
        other = prompt["prompt"] != PROMPT and PROMPT not in request_text
        if other and prompt["prompt"] in request_text:
            return prompt["prompt"] + " Include a code example when code is discussed."
    return NEW_PROMPT


# tool name -> arguments the scripted model answers with (upstream's and ours)
def reply_args(tool: str, request_text: str) -> dict[str, Any]:
    names = [p["name"] for p in PROMPTS]
    hypotheses = "Answers about code lack code examples; nothing in the prompt asks for one."
    recommendations = "Add one sentence requiring a short runnable example for code questions."
    table: dict[str, dict[str, Any]] = {
        # upstream
        "OptimizedPromptOutput": {
            "analysis": hypotheses,
            "improved_prompt": new_text(request_text),
        },
        "think": {"thought": hypotheses},
        "recommend": {
            "warrants_adjustment": True,
            "hypotheses": hypotheses,
            "full_recommendations": recommendations,
            "recommendations": recommendations,
        },
        "Classify": {"reasoning": "All three prompts are involved.", "which": names},
        "GeneralResponse": {
            "logic": hypotheses,
            "update_prompt": True,
            "new_prompt": new_text(request_text),
        },
        # ours
        "submit_prompt": {"changed": True, "new_prompt": new_text(request_text)},
        "reflect": {"thought": hypotheses},
        "select_prompts": {"names": names},
    }
    return table[tool]


# preference when several tools are offered: the final answer as early as allowed
PREFERENCE = [
    "Classify",
    "select_prompts",
    "GeneralResponse",
    "OptimizedPromptOutput",
    "submit_prompt",
    "recommend",
    "think",
    "reflect",
]


def make_reply(scripted: Any) -> Any:
    """A scripted reply: call the most final tool offered, with the scenario's arguments."""

    def reply(request: Any) -> Any:
        offered = set(request.tool_names)
        tool = next(name for name in PREFERENCE if name in offered)
        return scripted.ai_tool_calls((tool, reply_args(tool, request.text())))

    return reply


def measure(requests: list[Any]) -> dict[str, int]:
    return {
        "calls": len(requests),
        "chars": sum(len(r.text()) for r in requests),
        "tokens": sum(r.approx_tokens() for r in requests),
    }


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _upstream import load_scripted_model

    from langmem import create_multi_prompt_optimizer, create_prompt_optimizer

    scripted = load_scripted_model()
    results: dict[str, Any] = {}
    for kind in ("prompt_memory", "metaprompt", "gradient"):
        model = scripted.ScriptedChatModel(default=make_reply(scripted))
        optimizer = create_prompt_optimizer(model, kind=kind)
        out = asyncio.run(optimizer.ainvoke({"trajectories": TRAJECTORIES, "prompt": PROMPT}))
        results[f"single/{kind}"] = {**measure(model.requests), "ok": out == NEW_PROMPT}
        model = scripted.ScriptedChatModel(default=make_reply(scripted))
        multi = create_multi_prompt_optimizer(model, kind=kind)
        outs = asyncio.run(multi.ainvoke({"trajectories": TRAJECTORIES, "prompts": PROMPTS}))
        results[f"multi/{kind}"] = {
            **measure(model.requests),
            "ok": [o["name"] for o in outs] == [p["name"] for p in PROMPTS]
            and all(o["prompt"] for o in outs),
        }
    # "no change needed": does the prompt survive?
    model = scripted.ScriptedChatModel(
        default=lambda r: scripted.ai_tool_calls(
            ("GeneralResponse", {"logic": "fine", "update_prompt": False, "new_prompt": ""})
        )
    )
    kept = create_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": TRAJECTORIES, "prompt": PROMPT}
    )
    results["no_change/prompt_memory"] = {**measure(model.requests), "ok": kept == PROMPT}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
