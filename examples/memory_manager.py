"""Extract structured memories from a conversation and keep them current, offline.

A scripted chat model stands in for a real one (swap in e.g. "anthropic:claude-3-5-sonnet-latest"),
so this runs without network or API keys:

    python examples/memory_manager.py
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

from langmem import create_memory_manager
from langmem.testing import ScriptedChatModel, ai_tool_calls


class PreferenceMemory(BaseModel):
    """A preference the user stated or showed."""

    category: str
    preference: str
    context: str


# What a real model would answer: first it records a preference, then (a later conversation) it
# patches only the field that changed, referring to the memory by its short id "m1".
model = ScriptedChatModel(
    responses=[
        ai_tool_calls(
            (
                "PreferenceMemory",
                {"category": "ui", "preference": "dark mode", "context": "in all apps"},
            )
        ),
        ai_tool_calls(("update_memory", {"id": "m1", "patch": {"preference": "light mode"}})),
    ]
)
manager = create_memory_manager(model, schemas=[PreferenceMemory], enable_deletes=True)


async def main() -> None:
    conversation = [
        {"role": "user", "content": "I prefer dark mode in all my apps"},
        {"role": "assistant", "content": "I'll remember that preference"},
    ]
    memories = await manager(conversation)
    for memory in memories:
        print("extracted:", memory.id[:8], memory.content)

    conversation = [
        {"role": "user", "content": "Actually I changed my mind, dark mode hurts my eyes"},
        {"role": "assistant", "content": "I'll update your preference"},
    ]
    updated = await manager.ainvoke({"messages": conversation, "existing": memories})
    for memory in updated:
        print("updated:  ", memory.id[:8], memory.content)
    assert updated[0].id == memories[0].id and updated[0].content.preference == "light mode"

    # What the model was sent: the memory under a short id, and compact tool schemas.
    request = model.requests[1]
    print(f"\nrequest 2: ~{request.approx_tokens()} tokens, tools {request.tool_names}")
    print(request.messages[1].content)


if __name__ == "__main__":
    asyncio.run(main())
