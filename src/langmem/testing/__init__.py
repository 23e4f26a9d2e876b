"""Test doubles for code that uses langmem: no network, no API keys, fully deterministic.

- :class:`ScriptedChatModel`: replays queued replies, records every request and bound tool.
- :func:`ai_tool_calls`, :func:`tool_call`: build scripted replies that call tools.
- :class:`HashingEmbeddings`: deterministic embeddings for stores in tests.
"""

from langmem.embeddings._hashing import HashingEmbeddings
from langmem.testing._scripted_model import (
    RecordedRequest,
    ScriptedChatModel,
    ScriptExhaustedError,
    ai_tool_calls,
    requests_text,
    tool_call,
)

__all__ = [
    "HashingEmbeddings",
    "RecordedRequest",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "ai_tool_calls",
    "requests_text",
    "tool_call",
]
