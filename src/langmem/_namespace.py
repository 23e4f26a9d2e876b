"""Namespace templates such as ``("memories", "{langgraph_user_id}")``, filled at run time."""

from __future__ import annotations

import string
import uuid
from typing import TYPE_CHECKING, Any

from langmem.errors import NamespaceError

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig

_FORMATTER = string.Formatter()


class NamespaceTemplate:
    """A store namespace whose labels may hold ``{key}`` placeholders.

    Placeholders are filled from ``config["configurable"]``: the config passed in, or else the
    config of the LangGraph run in progress. Every filled label must stay a single, non-empty
    label without ``.``, so a value coming from user input can never point at another user's
    namespace.

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
                names = tuple(f for _, f, _, _ in _FORMATTER.parse(part) if f is not None)
            except ValueError as exc:
                raise NamespaceError(
                    f"namespace label {part!r} is not a valid template ({exc}): use "
                    "'{key}' placeholders with balanced braces, and '{{' for a literal brace."
                ) from exc
            if any(not name.isidentifier() for name in names):
                raise NamespaceError(
                    f"namespace label {part!r} has a placeholder that is not a plain name: "
                    "write placeholders as '{key}', where key is a config key."
                )
            if not names:
                _check_label(part, parts, source=None)
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
            return self.template
        configurable = _configurable(config, self)
        filled: list[str] = []
        for part, names in zip(self.template, self._fields):
            if not names:
                filled.append(part)
                continue
            values: dict[str, str] = {}
            for name in names:
                if name not in configurable:
                    raise NamespaceError(_missing_key_message(name, self, configurable))
                values[name] = _as_label_value(name, configurable[name], self)
            label = part.format(**values)
            _check_label(label, self.template, source=part)
            filled.append(label)
        return tuple(filled)

    def __repr__(self) -> str:
        return f"NamespaceTemplate({self.template!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamespaceTemplate) and other.template == self.template

    def __hash__(self) -> int:
        return hash(self.template)


def _configurable(config: RunnableConfig | None, template: NamespaceTemplate) -> dict[str, Any]:
    if config is None:
        try:
            from langgraph.config import get_config

            config = get_config()
        except RuntimeError as exc:
            raise NamespaceError(
                f"namespace {template.template!r} needs the config key(s) "
                f"{', '.join(repr(k) for k in template.keys)}, and no config was passed and no "
                "LangGraph run is in progress. Pass "
                f"config={_example_config(template)} when invoking."
            ) from exc
    if not isinstance(config, dict):
        raise NamespaceError(
            f"config={config!r} is not a dict: pass a RunnableConfig such as "
            f"{_example_config(template)}."
        )
    return dict(config.get("configurable") or {})


def _as_label_value(key: str, value: Any, template: NamespaceTemplate) -> str:
    if isinstance(value, bool) or (not isinstance(value, (str, int)) and not _is_uuid(value)):
        raise NamespaceError(
            f"config['configurable'][{key!r}]={value!r} is a {type(value).__name__}: namespace "
            f"values for {template.template!r} must be strings (or ints/UUIDs). Pass the id as "
            "a string."
        )
    return str(value)


def _is_uuid(value: Any) -> bool:
    return isinstance(value, uuid.UUID)


def _check_label(label: str, template: tuple[str, ...], *, source: str | None) -> None:
    where = f" (filled from {source!r})" if source is not None else ""
    if not label:
        raise NamespaceError(
            f"namespace label {label!r}{where} in {template!r} is empty: every label must be "
            "non-empty. Pass a non-empty value in config['configurable']."
        )
    if "." in label:
        raise NamespaceError(
            f"namespace label {label!r}{where} in {template!r} contains '.', which store "
            "namespaces reserve as a separator: a value with '.' could address another "
            "namespace. Use ids without '.' (for example replace '.' with '-')."
        )


def _missing_key_message(key: str, template: NamespaceTemplate, present: dict[str, Any]) -> str:
    keys = ", ".join(repr(k) for k in sorted(present)) or "none"
    return (
        f"namespace {template.template!r} needs config['configurable'][{key!r}], which is "
        f"missing (configurable keys present: {keys}). Pass it when invoking, e.g. "
        f"config={_example_config(template)}."
    )


def _example_config(template: NamespaceTemplate) -> str:
    inner = ", ".join(f"{k!r}: '...'" for k in template.keys)
    return "{'configurable': {" + inner + "}}"
