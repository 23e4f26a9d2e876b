"""Namespace templates such as ``("memories", "{langgraph_user_id}")``, filled at run time."""

from __future__ import annotations

import dataclasses
import string
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langmem.errors import NamespaceError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

_FORMATTER = string.Formatter()

RESERVED_ROOT = "__langmem__"
"""First label of every namespace langmem keeps its own records in (change history,
superseded, quarantined and held values: :mod:`langmem.knowledge._history`). Memory namespaces
may not start with it, and the stores' ``list_namespaces`` leaves these out unless asked for
them by a prefix starting with it."""


class NamespaceTemplate:
    """A store namespace whose labels may hold ``{key}`` placeholders.

    Placeholders are filled from the LangGraph run context (``Runtime.context``, as passed with
    ``graph.invoke(..., context=Ctx(user_id="alice"))``: a dataclass, TypedDict/dict or pydantic
    model) and from ``config["configurable"]``; a key in both takes the ``configurable`` value.
    Both come from the config passed in, or else from the LangGraph run in progress. Every filled
    label must stay a single, non-empty label without ``.``, so a value coming from user input
    can never point at another user's namespace.

    Example:
        >>> ns = NamespaceTemplate(("memories", "{langgraph_user_id}"))
        >>> ns({"configurable": {"langgraph_user_id": "user-123"}})
        ('memories', 'user-123')
        >>> NamespaceTemplate("memories")()
        ('memories',)
    """

    __slots__ = ("_fields", "template")

    def __init__(self, template: tuple[str, ...] | str | NamespaceTemplate):
        if isinstance(template, NamespaceTemplate):
            self.template: tuple[str, ...] = template.template
            self._fields: tuple[tuple[str, ...], ...] = template._fields
            return
        parts = (template,) if isinstance(template, str) else tuple(template)
        if not parts:
            raise NamespaceError(
                "namespace=() is empty: a namespace needs at least one label, "
                "for example ('memories', '{langgraph_user_id}')."
            )
        fields: list[tuple[str, ...]] = []
        for part in parts:
            if not isinstance(part, str):
                raise NamespaceError(
                    f"namespace label {part!r} in {parts!r} is a {type(part).__name__}: every "
                    "label must be a string, such as 'memories' or '{langgraph_user_id}'."
                )
            try:
                parsed = [(f, spec, conv) for _, f, spec, conv in _FORMATTER.parse(part)]
            except ValueError as exc:
                raise NamespaceError(
                    f"namespace label {part!r} is not a valid template ({exc}): use "
                    "'{key}' placeholders with balanced braces, and '{{' for a literal brace."
                ) from exc
            names = tuple(f for f, _, _ in parsed if f is not None)
            styled = [
                f"{{{f}{'!' + c if c else ''}{':' + sp if sp else ''}}}"
                for f, sp, c in parsed
                if f is not None and (sp or c)
            ]
            if styled:
                raise NamespaceError(
                    f"namespace label {part!r} formats its placeholder ({styled[0]}): a "
                    "conversion or format spec changes the value (':.3' would give users 'anna' "
                    "and 'ann' one namespace). Write the placeholder as a bare '{key}'."
                )
            if any(not name.isidentifier() for name in names):
                raise NamespaceError(
                    f"namespace label {part!r} has a placeholder that is not a plain name: "
                    "write placeholders as '{key}', where key is a config key."
                )
            if not names:
                _check_label(part.format(), parts, source=None)
            fields.append(names)
        self.template = parts
        self._fields = tuple(fields)

    @property
    def keys(self) -> tuple[str, ...]:
        """The config keys this template needs, in order of first use."""
        seen: dict[str, None] = {}
        for names in self._fields:
            for name in names:
                seen.setdefault(name, None)
        return tuple(seen)

    def __call__(self, config: RunnableConfig | None = None) -> tuple[str, ...]:
        """Fill the placeholders from ``config`` (or the current LangGraph run's config)."""
        if not self.keys:
            return tuple(part.format() for part in self.template)  # '{{' is a literal brace
        configurable, context = _sources(config, self)
        available = {**context, **configurable}
        filled: list[str] = []
        for part, names in zip(self.template, self._fields):
            if not names:
                filled.append(part.format())
                continue
            values: dict[str, str] = {}
            given: list[str] = []
            for name in names:
                if name not in available:
                    raise NamespaceError(_missing_key_message(name, self, configurable, context))
                source = "configurable" if name in configurable else "context"
                values[name] = _as_label_value(name, available[name], self, source)
                given.append(_where(name, source))
            label = part.format(**values)
            _check_label(label, self.template, source=part, given=" and ".join(given))
            filled.append(label)
        return tuple(filled)

    def __repr__(self) -> str:
        return f"NamespaceTemplate({self.template!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamespaceTemplate) and other.template == self.template

    def __hash__(self) -> int:
        return hash(self.template)


_RUNTIME_KEY = "__pregel_runtime"  # where LangGraph keeps the Runtime in a run's config
_INTERNAL = ("__", "checkpoint_")  # LangGraph's own configurable keys, never the user's
_TASK_ID_KEY = "langmem_task_id"  # set by ReflectionExecutor on the task's config: not the user's


def _sources(
    config: RunnableConfig | None, template: NamespaceTemplate
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The user's ``configurable`` keys and the run context's fields (LangGraph internals,
    ``__pregel_*`` and the like, left out)."""
    if config is None:
        try:
            from langgraph.config import get_config

            config = get_config()
        except RuntimeError as exc:
            raise NamespaceError(
                f"namespace {template.template!r} needs the key(s) "
                f"{', '.join(repr(k) for k in template.keys)}, and no config was passed and no "
                f"LangGraph run is in progress. {_how_to_pass(template)}"
            ) from exc
    if not isinstance(config, Mapping):
        raise NamespaceError(
            f"config={config!r} is not a dict: pass a RunnableConfig such as "
            f"{_example_config(template)}."
        )
    raw = dict(config.get("configurable") or {})
    runtime = raw.get(_RUNTIME_KEY)
    context = context_values(getattr(runtime, "context", None))
    user = {k: v for k, v in raw.items() if isinstance(k, str) and not k.startswith(_INTERNAL)}
    return user, context


def context_values(context: Any) -> dict[str, Any]:
    """The fields of a run context: a mapping (TypedDict), a dataclass or a pydantic model."""
    if context is None:
        return {}
    if isinstance(context, Mapping):
        return {str(k): v for k, v in context.items()}
    if dataclasses.is_dataclass(context) and not isinstance(context, type):
        return {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
    model_fields = getattr(type(context), "model_fields", None)
    if isinstance(model_fields, Mapping):
        return {name: getattr(context, name) for name in model_fields}
    return (
        {k: v for k, v in vars(context).items() if not k.startswith("_")}
        if hasattr(context, "__dict__")
        else {}
    )


def _as_label_value(key: str, value: Any, template: NamespaceTemplate, source: str) -> str:
    if isinstance(value, bool) or (not isinstance(value, (str, int)) and not _is_uuid(value)):
        where = _where(key, source)
        raise NamespaceError(
            f"{where}={value!r} is a {type(value).__name__}: namespace values for "
            f"{template.template!r} must be strings (or ints/UUIDs). Pass the id as a string."
        )
    return str(value)


def _where(key: str, source: str) -> str:
    if source == "configurable":
        return f"config['configurable'][{key!r}]"
    return f"the run context's {key!r}"


def _is_uuid(value: Any) -> bool:
    return isinstance(value, uuid.UUID)


def _check_label(
    label: str, template: tuple[str, ...], *, source: str | None, given: str = ""
) -> None:
    where = f" (filled from {source!r})" if source is not None else ""
    if not label:
        fix = (
            f"Pass a non-empty value in {given}."
            if given
            else "Give every label a non-empty string."
        )
        raise NamespaceError(
            f"namespace label {label!r}{where} in {template!r} is empty: every label must be "
            f"non-empty. {fix}"
        )
    if "." in label:
        raise NamespaceError(
            f"namespace label {label!r}{where} in {template!r} contains '.', which store "
            "namespaces reserve as a separator: a value with '.' could address another "
            "namespace. Use ids without '.' (for example replace '.' with '-')."
        )


def _missing_key_message(
    key: str, template: NamespaceTemplate, configurable: dict[str, Any], context: dict[str, Any]
) -> str:
    keys = ", ".join(repr(k) for k in sorted(configurable) if k != _TASK_ID_KEY) or "none"
    fields = ", ".join(repr(k) for k in sorted(context)) or "none"
    return (
        f"namespace {template.template!r} needs {key!r}, which is neither a field of the run "
        f"context (fields present: {fields}) nor a config['configurable'] key (keys present: "
        f"{keys}). {_how_to_pass(template)}"
    )


def _how_to_pass(template: NamespaceTemplate) -> str:
    fields = ", ".join(f"{k}='...'" for k in template.keys)
    return (
        f"Pass it when invoking: with LangGraph 1.x, give the graph (or create_agent) a "
        f"context_schema and invoke with context=Ctx({fields}); or pass "
        f"config={_example_config(template)}."
    )


def _example_config(template: NamespaceTemplate) -> str:
    inner = ", ".join(f"{k!r}: '...'" for k in template.keys)
    return "{'configurable': {" + inner + "}}"
