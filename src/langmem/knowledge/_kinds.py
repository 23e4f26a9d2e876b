"""Memory kinds: how one schema is validated, dumped to JSON and shown to the model as a tool.

A *kind* wraps what a memory may look like: a pydantic model (``ModelKind``), free text
(``TextKind``, shown as ``{"content": text}``) or any JSON object whose schema is unknown
(``DictKind``). The extraction session only talks to kinds, so every schema shape behaves the same.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from langmem.errors import ConfigurationError
from langmem.knowledge import _prompts
from langmem.knowledge._types import Memory


class KindError(ValueError):
    """A value does not fit a kind; the message is written for the model to read."""


class Kind:
    """Base: a named memory shape that validates JSON objects into values."""

    name: str = ""

    def dump(self, value: Any) -> dict[str, Any]:
        """The JSON object view of ``value`` (what the model sees and patches)."""
        raise NotImplementedError

    def validate(self, data: Any) -> Any:
        """Build a value from a JSON object, or raise :class:`KindError`."""
        raise NotImplementedError

    def fields(self) -> frozenset[str] | None:
        """Field names a patch may use, or ``None`` when any name is accepted."""
        return None


class ModelKind(Kind):
    """A pydantic model schema."""

    def __init__(self, schema: type[BaseModel]) -> None:
        self.schema = schema
        self.name = schema.__name__
        self._tool: dict[str, Any] | None = None

    def dump(self, value: Any) -> dict[str, Any]:
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        return dict(value)

    def validate(self, data: Any) -> Any:
        try:
            return self.schema.model_validate(data)
        except ValidationError as exc:
            problems = validation_problems(exc)
            raise KindError(
                _prompts.ERR_INVALID_FIELDS.format(kind=self.name, problems=problems)
            ) from None

    def fields(self) -> frozenset[str] | None:
        if self.schema.model_config.get("extra") == "allow":
            return None
        return frozenset(self.schema.model_fields)

    def tool(self) -> dict[str, Any]:
        """The insert tool for this kind, in OpenAI format with a compact JSON schema."""
        if self._tool is None:  # building a JSON schema costs about as much as a whole turn
            self._tool = self._build_tool()
        return copy.deepcopy(self._tool)

    def _build_tool(self) -> dict[str, Any]:
        parameters = compact_schema(self.schema.model_json_schema())
        doc = parameters.pop("description", None)
        if self.schema is Memory or not doc:
            doc = _prompts.MEMORY_TOOL_DESCRIPTION
        return {
            "type": "function",
            "function": {"name": self.name, "description": doc, "parameters": parameters},
        }


class TextKind(Kind):
    """Free text, seen by the model as ``{"content": text}``."""

    name = "Memory"

    def dump(self, value: Any) -> dict[str, Any]:
        return {"content": value}

    def validate(self, data: Any) -> Any:
        content = data.get("content") if isinstance(data, dict) else None
        if not isinstance(content, str):
            raise KindError(
                _prompts.ERR_INVALID_FIELDS.format(kind="memory", problems="content: a string")
            )
        return content

    def fields(self) -> frozenset[str] | None:
        return frozenset({"content"})


class DictKind(Kind):
    """A JSON object of unknown schema (e.g. an existing memory given as a plain dict)."""

    def __init__(self, name: str = "") -> None:
        self.name = name

    def dump(self, value: Any) -> dict[str, Any]:
        return dict(value)

    def validate(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise KindError(_prompts.ERR_PATCH_NOT_OBJECT)
        return data


def build_kinds(schemas: Sequence[Any] | None) -> dict[str, ModelKind]:
    """Map schema names to kinds; ``None`` or empty means the default :class:`Memory`."""
    if isinstance(schemas, type):
        schemas = [schemas]
    if isinstance(schemas, (str, bytes)):
        raise ConfigurationError(
            f"schemas={schemas!r} is a string: pass a list of pydantic model classes."
        )
    kinds: dict[str, ModelKind] = {}
    for schema in list(schemas or ()) or [Memory]:
        if isinstance(schema, BaseModel):
            schema = type(schema)
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            raise ConfigurationError(
                f"schemas contains {schema!r}, which is not a pydantic model class: pass "
                "classes deriving from pydantic.BaseModel, e.g. schemas=[Memory]."
            )
        kind = ModelKind(schema)
        if kind.name in kinds and kinds[kind.name].schema is not schema:
            raise ConfigurationError(
                f"schemas has two models named {kind.name!r}: the model picks a schema by its "
                "name, so give each a distinct class name."
            )
        if kind.name in RESERVED_TOOL_NAMES:
            raise ConfigurationError(
                f"schema name {kind.name!r} is reserved for a memory operation tool: rename "
                "the class."
            )
        kinds[kind.name] = kind
    return kinds


UPDATE_TOOL = "update_memory"
DELETE_TOOL = "delete_memory"
DONE_TOOL = "done"
RESERVED_TOOL_NAMES = frozenset({UPDATE_TOOL, DELETE_TOOL, DONE_TOOL})


def update_tool() -> dict[str, Any]:
    return function_tool(
        UPDATE_TOOL,
        _prompts.UPDATE_TOOL_DESCRIPTION,
        {
            "id": {"type": "string", "description": _prompts.UPDATE_ID_DESCRIPTION},
            "patch": {"type": "object", "description": _prompts.UPDATE_PATCH_DESCRIPTION},
        },
        ["id", "patch"],
    )


def delete_tool() -> dict[str, Any]:
    return function_tool(
        DELETE_TOOL,
        _prompts.DELETE_TOOL_DESCRIPTION,
        {"id": {"type": "string", "description": _prompts.DELETE_ID_DESCRIPTION}},
        ["id"],
    )


def done_tool() -> dict[str, Any]:
    return function_tool(DONE_TOOL, _prompts.DONE_TOOL_DESCRIPTION, {}, [])


def function_tool(
    name: str, description: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def compact_schema(schema: Any) -> Any:
    """Drop the auto-generated ``title`` keywords of a JSON schema (they repeat field names)."""
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "title" and isinstance(value, str):
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {name: compact_schema(sub) for name, sub in value.items()}
            else:
                out[key] = compact_schema(value)
        return out
    if isinstance(schema, list):
        return [compact_schema(item) for item in schema]
    return schema


def validation_problems(exc: ValidationError, root: str = "value") -> str:
    """A pydantic error as ``field.path: message; ...`` for the model (or agent) to read."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or root}: {err['msg']}"
        for err in exc.errors(include_url=False)
    )
