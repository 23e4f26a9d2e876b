"""Checks of model-chosen tool arguments that need the store: ids, structured updates, refusals.

Everything here turns a mistake the model made into a ``ToolException`` (a tool error message the
model reads and can act on) and leaves the store unchanged. Mistakes only the developer can fix
(``ConfigurationError``: no store, a namespace key missing, an index mismatch, an unusable file)
still raise.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from langchain_core.tools import ToolException

from langmem.errors import ConfigurationError

ERR_EMPTY_CONTENT = (
    "Action {action!r} needs non-empty content; got {content!r}. Give the memory's text. "
    "Nothing was changed."
)
ERR_STRUCTURED = (
    "Memory {id} holds structured content{kind} with fields {fields}. Give content as a JSON "
    "object of the fields to change, e.g. {example}. {problem}Nothing was changed."
)
ERR_STORE_REFUSED = (
    "The memory store refused these arguments: {problem} Change the arguments (for a filter, "
    "use plain values or $eq, $ne, $gt, $gte, $lt, $lte). Nothing was changed."
)


def check_content(action: str, content: Any) -> None:
    """Refuse empty or whitespace-only text content (NUL characters count as nothing: no
    store can search them, and PostgreSQL cannot hold them)."""
    if isinstance(content, str) and not content.replace("\x00", "").strip():
        raise ToolException(ERR_EMPTY_CONTENT.format(action=action, content=content))


def key_candidates(id: Any) -> list[str]:
    """The store keys an id shown to the model may stand for: as given (trimmed), then a UUID's
    canonical lower-case form (models sometimes change the case of UUIDs)."""
    text = str(id).strip()
    keys = [text]
    try:
        canonical = str(uuid.UUID(text))
    except ValueError:
        return keys
    if canonical != text:
        keys.append(canonical)
    return keys


def store_refusal(exc: BaseException) -> ToolException | None:
    """A tool error for a store exception caused by the model's arguments, else ``None``."""
    if isinstance(exc, ConfigurationError) or not isinstance(exc, (ValueError, TypeError)):
        return None
    problem = str(exc).strip() or type(exc).__name__
    if not problem.endswith("."):
        problem += "."
    return ToolException(ERR_STORE_REFUSED.format(problem=problem))


def updated_content(key: str, existing: dict[str, Any], new: Any) -> Any:
    """The content an update stores: ``new`` as given, unless the memory holds structured
    content (a dict, as a store manager with a schema writes it); then ``new`` must be an
    object (or JSON text of one) of that memory's fields, merged into it, keeping its shape."""
    old = existing.get("content")
    if not isinstance(old, dict):
        return new
    kind = existing.get("kind")
    fields = sorted(old)

    def refuse(problem: str) -> ToolException:
        example = json.dumps({fields[0]: "..."} if fields else {"field": "..."})
        return ToolException(
            ERR_STRUCTURED.format(
                id=key,
                kind=f" of kind {kind!r}" if isinstance(kind, str) else "",
                fields=", ".join(fields) or "(none)",
                example=example,
                problem=problem,
            )
        )

    patch = new
    if isinstance(new, str):
        try:
            patch = json.loads(new)
        except ValueError:
            raise refuse("The content given is plain text. ") from None
    if not isinstance(patch, dict) or not patch:
        raise refuse("The content given is not a non-empty object. ")
    unknown = sorted(str(k) for k in patch if k not in old)
    if unknown:
        raise refuse(f"It has no field(s) {', '.join(unknown)}. ")
    wrong = sorted(
        k
        for k, v in patch.items()
        if old[k] is not None and v is not None and _shape(old[k]) != _shape(v)
    )
    if wrong:
        raise refuse(
            "Field(s) "
            + ", ".join(f"{k} (expected {_shape(old[k])}, got {_shape(patch[k])})" for k in wrong)
            + " have the wrong type. "
        )
    return {**old, **patch}


def _shape(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
