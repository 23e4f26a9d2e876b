"""Improve system prompts from conversations and feedback, offline.

A scripted chat model stands in for a real one (swap in e.g. "anthropic:claude-3-5-sonnet-latest"),
so this runs without network or API keys:

    python examples/prompt_optimization.py
"""

from __future__ import annotations

import asyncio

from langchain_core.messages import AIMessage

from langmem import Prompt, create_multi_prompt_optimizer, create_prompt_optimizer
from langmem.testing import RecordedRequest, ScriptedChatModel, ai_tool_calls

conversation = [
    {"role": "user", "content": "How do I loop over files in bash?"},
    {"role": "assistant", "content": "Loops repeat commands for each item."},
    {"role": "user", "content": "Can you show me?"},
    {"role": "assistant", "content": "You would use a for loop."},
]
trajectories = [(conversation, {"score": 0, "comment": "Never showed any code."})]
prompt = "You are a coding assistant for {company}. Be concise."
improved = prompt + " Always include a short, runnable code example."


def scripted_reply(request: RecordedRequest) -> AIMessage:
    """Behave like a model: reflect when asked to, then recommend, then submit the new prompt."""
    offered = request.tool_names
    if "select_prompts" in offered:
        return ai_tool_calls(("select_prompts", {"names": ["coder"]}))
    if "submit_prompt" in offered:
        return ai_tool_calls(("submit_prompt", {"changed": True, "new_prompt": improved}))
    if "recommend" in offered:
        return ai_tool_calls(
            (
                "recommend",
                {
                    "warrants_adjustment": True,
                    "hypotheses": "Nothing in the prompt asks for code examples.",
                    "recommendations": "Require a short runnable example for code questions.",
                },
            )
        )
    return ai_tool_calls(("reflect", {"thought": "The user asked twice for code and got none."}))


async def main() -> None:
    # 1. One prompt, with the default "gradient" strategy (hypotheses, recommendation, update).
    model = ScriptedChatModel(default=scripted_reply)
    optimizer = create_prompt_optimizer(model, kind="gradient")
    better = await optimizer(trajectories, prompt)
    print(f"gradient ({model.calls} model calls):\n  {better}")
    assert "{company}" in better  # template variables always survive

    # 2. Several prompts: only the one the feedback concerns is optimized.
    model = ScriptedChatModel(default=scripted_reply)
    multi = create_multi_prompt_optimizer(model, kind="metaprompt")
    prompts = [
        Prompt(
            name="router",
            prompt="Send each question to the right expert.",
            when_to_update="Questions reach the wrong expert.",
        ),
        Prompt(
            name="coder",
            prompt=prompt,
            update_instructions="Make minimal changes.",
            when_to_update="Answers about code miss what the user asked for.",
        ),
    ]
    updated = await multi.ainvoke({"trajectories": trajectories, "prompts": prompts})
    print(f"multi-prompt metaprompt ({model.calls} model calls):")
    for before, after in zip(prompts, updated):
        status = "updated" if after["prompt"] != before["prompt"] else "unchanged"
        print(f"  {after['name']} ({status}): {after['prompt']}")


if __name__ == "__main__":
    asyncio.run(main())
