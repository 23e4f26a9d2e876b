"""Public helpers (kept where upstream langmem has them).

- :class:`NamespaceTemplate`: ``("memories", "{langgraph_user_id}")`` filled from config.
- :func:`dumps`: compact JSON for memories, store items and pydantic values.
- :func:`get_conversation`, :func:`format_sessions`, :func:`get_dialated_windows`: render
  messages as plain text for prompts.
- :func:`get_var_healer`, :func:`get_prompt_extraction_schema`: keep a prompt's ``{variables}``
  when a model rewrites it.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import uuid
from collections.abc import Sequence
from typing import Any

from langmem import errors
from langmem._conversation import format_sessions, get_conversation, get_dialated_windows
from langmem._namespace import NamespaceTemplate
from langmem._templates import get_prompt_extraction_schema, get_var_healer

__all__ = [
    "NamespaceTemplate",
    "dumps",
    "errors",
    "format_sessions",
    "get_conversation",
    "get_dialated_windows",
    "get_prompt_extraction_schema",
    "get_var_healer",
]


def _default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, (_dt.datetime, _dt.date)):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj, key=str)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if hasattr(obj, "dict") and callable(obj.dict):  # langgraph Item / SearchItem
        return obj.dict()
    if isinstance(obj, Sequence):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def dumps(obj: Any) -> str:
    """Serialize ``obj`` to compact JSON (pydantic models, datetimes, UUIDs and store items too).

    Example:
        >>> dumps({"content": "likes tea", "n": 1})
        '{"content":"likes tea","n":1}'
    """
    return json.dumps(obj, default=_default, separators=(",", ":"), ensure_ascii=False)
