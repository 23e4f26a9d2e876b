"""Test doubles for code that uses langmem: no network, no API keys, fully deterministic.

- :class:`ScriptedChatModel`: replays queued replies, records every request and bound tool.
- :func:`ai_tool_calls`, :func:`tool_call`: build scripted replies that call tools.
- :class:`HashingEmbeddings`: deterministic embeddings for stores in tests.
- :func:`store_contract`, :class:`StoreUnderTest`, :func:`run_store_contract`: the checks a
  ``BaseStore`` must pass for langmem (filters, pagination, namespaces, TTL, stale vectors,
  multi-process visibility).
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
from langmem.testing._store_contract import (
    ContractCheck,
    StoreUnderTest,
    run_store_contract,
    store_contract,
)

__all__ = [
    "ContractCheck",
    "HashingEmbeddings",
    "RecordedRequest",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "StoreUnderTest",
    "ai_tool_calls",
    "requests_text",
    "run_store_contract",
    "store_contract",
    "tool_call",
]
