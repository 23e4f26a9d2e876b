"""One extraction session: the memories in play, their short ids, and the model's edits to them.

The model never sees real memory ids. Each memory gets a short id (``m1``, ``m2``, ...) that is
mapped back here, which saves tokens and keeps the model from inventing ids. Every tool call is
checked before anything changes; a bad call becomes an error message for the model to correct
and leaves the memories as they were.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessage, ToolMessage
from pydantic import BaseModel

from langmem._conversation import encodable
from langmem._task_scope import new_memory_id
from langmem.errors import ConfigurationError, InvalidInputError
from langmem.knowledge import _kinds, _prompts
from langmem.knowledge._guards import quote
from langmem.knowledge._kinds import DictKind, Kind, KindError, ModelKind, TextKind
from langmem.knowledge._types import ExtractedMemory, RemoveDoc
from langmem.utils import dumps

logger = logging.getLogger("langmem")

State = Literal["kept", "updated", "inserted", "deleted", "dropped"]


@dataclass
class Entry:
    """A memory in play during one session."""

    id: str
    short: str
    kind: Kind
    value: Any
    external: bool
    state: State = "kept"
    ref: Any = None  # the store manager keeps the item this memory was read from
    reason: str | None = None  # the model's text next to the call that changed it

    @property
    def live(self) -> bool:
        return self.state not in ("deleted", "dropped")


@dataclass
class Outcome:
    """What one model reply did."""

    tool_messages: list[ToolMessage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    done: bool = False


@dataclass(frozen=True)
class Permissions:
    inserts: bool = True
    updates: bool = True
    deletes: bool = False

    def check(self) -> None:
        if not (self.inserts or self.updates or self.deletes):
            raise ConfigurationError(
                "enable_inserts, enable_updates and enable_deletes are all False, so the model "
                "could change nothing: enable at least one."
            )


class Session:
    """Memories being edited by the model in one extraction run."""

    def __init__(self, kinds: dict[str, ModelKind], permissions: Permissions) -> None:
        self.kinds = kinds
        self.permissions = permissions
        self.entries: list[Entry] = []
        self._by_short: dict[str, Entry] = {}
        self._by_id: dict[str, Entry] = {}
        self.quote = True  # neutralize prompt-section tags in memory and conversation text
        self.quoted = 0  # texts that needed it
        self._reason: str | None = None
        self._sent: Any = None  # the arguments of the call being applied, as the model sent them
        self._cleaned = False  # whether encodable changed them

    def quoted_text(self, text: str) -> str:
        """``text`` with prompt-section tags made inert (when quoting is on)."""
        if not self.quote:
            return text
        text, changed = quote(text)
        self.quoted += changed
        return text

    # -- building -------------------------------------------------------------------------------
    def add(
        self,
        id: str,
        kind: Kind,
        value: Any,
        *,
        external: bool = True,
        state: State = "kept",
        ref: Any = None,
    ) -> Entry:
        if id in self._by_id:
            raise InvalidInputError(
                f"existing memory id {id!r} appears twice: every existing memory needs a "
                "distinct id."
            )
        short = f"m{len(self.entries) + 1}"
        entry = Entry(id, short, kind, value, external, state, ref)
        self.entries.append(entry)
        self._by_short[short] = entry
        self._by_id[id] = entry
        return entry

    def add_existing(self, existing: Iterable[Any] | None) -> None:
        """Add memories in any shape upstream accepts (see :func:`MemoryState`)."""
        if isinstance(existing, (str, bytes, dict, BaseModel)):
            # a lone string would otherwise be read as one memory per character
            raise InvalidInputError(
                f"existing={existing!r:.80} is a single {type(existing).__name__}, not a list of "
                "memories: pass a list, e.g. 'existing': ['likes tea'] or "
                "[('id-1', Memory(content='likes tea'))]."
            )
        for item in existing or ():
            parsed = self._parse_existing(item)
            if parsed is not None:
                self.add(*parsed)

    def _parse_existing(self, item: Any) -> tuple[str, Kind, Any] | None:
        if isinstance(item, str):
            return str(uuid.uuid4()), *self._wrap_text(item)
        if isinstance(item, BaseModel):
            if isinstance(item, RemoveDoc):
                return None
            return str(uuid.uuid4()), self.kind_of_model(item), item
        if isinstance(item, dict):
            if "content" in item and ("id" in item or "kind" in item):
                id_ = str(item.get("id") or uuid.uuid4())
                return id_, self.kind_for(item.get("kind"), item["content"]), item["content"]
            return str(uuid.uuid4()), DictKind(), item
        if isinstance(item, (tuple, list)) and len(item) in (2, 3):
            id_, content = item[0], item[-1]
            if isinstance(content, RemoveDoc):
                return None
            if not isinstance(id_, (str, uuid.UUID)) or isinstance(id_, bool):
                raise InvalidInputError(
                    f"existing memory {item!r} has id {id_!r}: ids must be strings."
                )
            kind_name = item[1] if len(item) == 3 else None
            return str(id_), self.kind_for(kind_name, content), content
        raise InvalidInputError(
            f"existing memory {item!r} has an unsupported shape: pass strings, (id, content) "
            "or (id, kind, content) tuples, ExtractedMemory values, pydantic models or dicts."
        )

    def _wrap_text(self, text: str) -> tuple[Kind, Any]:
        first = next(iter(self.kinds.values()))
        try:
            return first, first.schema.model_validate({"content": text})
        except Exception:  # a first schema without a text field: keep the text as is
            return TextKind(), text

    def kind_of_model(self, value: BaseModel) -> Kind:
        known = self.kinds.get(type(value).__name__)
        return known if known is not None else ModelKind(type(value))

    def kind_for(self, kind_name: Any, content: Any) -> Kind:
        if isinstance(content, BaseModel):
            return self.kind_of_model(content)
        if isinstance(content, str):
            return TextKind()
        if not isinstance(content, dict):
            raise InvalidInputError(
                f"existing memory content {content!r} is a {type(content).__name__}: content "
                "must be a pydantic model, a dict or a string."
            )
        if isinstance(kind_name, str) and kind_name in self.kinds:
            return self.kinds[kind_name]
        return DictKind(kind_name if isinstance(kind_name, str) else "")

    # -- what the model sees --------------------------------------------------------------------
    def tools(self, *, with_done: bool) -> list[dict[str, Any]]:
        tools: list[dict[str, Any]] = []
        if self.permissions.inserts:
            tools.extend(kind.tool() for kind in self.kinds.values())
        if self.permissions.updates:
            tools.append(_kinds.update_tool())
        if self.permissions.deletes:
            tools.append(_kinds.delete_tool())
        if with_done:
            tools.append(_kinds.done_tool())
        return tools

    def rules(self, steps: int) -> str:
        lines = [_prompts.OP_RULES_HEADER]
        if self.permissions.inserts:
            lines.append(_prompts.OP_RULE_INSERT.format(kinds=", ".join(self.kinds)))
        if self.permissions.updates:
            lines.append(_prompts.OP_RULE_UPDATE)
        if self.permissions.deletes:
            lines.append(_prompts.OP_RULE_DELETE)
        lines.append(_prompts.OP_RULES_FOOTER)
        if steps > 1:
            lines.append(_prompts.OP_RULE_STEPS.format(steps=steps))
        return "\n".join(lines)

    def render(self) -> str:
        """The live memories, one per line: ``m1: text`` or ``m2 (Kind): {json}``."""
        live = [e for e in self.entries if e.live]
        if not live:
            return "<memories>none</memories>"
        names = {e.kind.name for e in live if e.kind.name} | set(self.kinds)
        show_kind = len(names) > 1
        lines = []
        for entry in live:
            data = entry.kind.dump(entry.value)
            text = data.get("content") if list(data) == ["content"] else None
            if not isinstance(text, str) or "\n" in text:
                text = dumps(data)
            tag = f" ({entry.kind.name})" if show_kind and entry.kind.name else ""
            lines.append(f"{entry.short}{tag}: {self.quoted_text(text)}")
        return "<memories>\n" + "\n".join(lines) + "\n</memories>"

    # -- applying the model's calls -------------------------------------------------------------
    def apply(self, message: AIMessage, offered: Sequence[str]) -> Outcome:
        """Apply every valid tool call of ``message``; collect problems for the rest."""
        outcome = Outcome()
        self._reason = encodable(str(message.text).strip()) or None
        for call in message.tool_calls:
            try:
                raw = call.get("args") or {}
                args = encodable(raw)
                self._sent, self._cleaned = raw, args != raw
                result = self._apply_call(call["name"], args, offered, outcome)
            except KindError as exc:
                outcome.problems.append(f"{call['name']}: {exc}")
                outcome.tool_messages.append(_error_message(str(exc), call.get("id")))
            else:
                outcome.tool_messages.append(
                    ToolMessage(result, tool_call_id=call.get("id") or "", name=call["name"])
                )
        for bad in message.invalid_tool_calls:
            problem = _prompts.ERR_BAD_JSON.format(detail=bad.get("error") or "could not parse")
            outcome.problems.append(f"{bad.get('name')}: {problem}")
            outcome.tool_messages.append(_error_message(problem, bad.get("id")))
        return outcome

    def _apply_call(
        self, name: str, args: dict[str, Any], offered: Sequence[str], outcome: Outcome
    ) -> str:
        if name not in offered:
            raise KindError(
                _prompts.ERR_UNKNOWN_TOOL.format(name=name, available=", ".join(offered))
            )
        if name == _kinds.DONE_TOOL:
            outcome.done = True
            return _prompts.RESULT_DONE
        if name == _kinds.UPDATE_TOOL:
            return self._update(args)
        if name == _kinds.DELETE_TOOL:
            return self._delete(args)
        kind = self.kinds[name]
        value = kind.validate(args)
        if _empty(kind.dump(value)):
            return self._skip_empty(f"a new {kind.name or 'memory'}")
        twin = self._find_twin(kind, value)
        if twin is not None:  # e.g. a correction round that re-sends calls already applied
            return _prompts.RESULT_DUPLICATE.format(short=twin.short)
        entry = self.add(new_memory_id(), kind, value, external=False, state="inserted")
        entry.reason = self._reason
        return _prompts.RESULT_INSERTED.format(short=entry.short)

    def _find_twin(self, kind: Kind, value: Any) -> Entry | None:
        data = kind.dump(value)
        for entry in self.entries:
            if entry.live and entry.kind.name == kind.name and entry.kind.dump(entry.value) == data:
                return entry
        return None

    def _update(self, args: dict[str, Any]) -> str:
        entry = self._lookup(args.get("id"))
        patch = args.get("patch")
        if patch is None:  # tolerate fields given next to the id instead of inside "patch"
            patch = {k: v for k, v in args.items() if k != "id"}
        if not isinstance(patch, dict) or not patch:
            raise KindError(_prompts.ERR_PATCH_NOT_OBJECT)
        known = entry.kind.fields()
        if known is not None:
            unknown = sorted(set(patch) - known)
            if unknown:
                raise KindError(
                    _prompts.ERR_UNKNOWN_FIELDS.format(
                        kind=entry.kind.name or "memory",
                        fields=", ".join(unknown),
                        known=", ".join(sorted(known)),
                    )
                )
        merged = {**entry.kind.dump(entry.value), **patch}
        value = entry.kind.validate(merged)
        if _empty(entry.kind.dump(value)):
            return self._skip_empty(f"the update of {entry.short}")
        entry.value = value
        if entry.state == "kept":
            entry.state = "updated"
        entry.reason = self._reason
        return _prompts.RESULT_UPDATED.format(short=entry.short)

    def _delete(self, args: dict[str, Any]) -> str:
        entry = self._lookup(args.get("id"), deleted_ok=True)
        if not entry.live:  # deleting twice leaves the same result: not worth a correction
            return _prompts.RESULT_ALREADY_DELETED.format(short=entry.short)
        entry.state = "dropped" if entry.state == "inserted" or not entry.external else "deleted"
        entry.reason = self._reason
        return _prompts.RESULT_DELETED.format(short=entry.short)

    def _skip_empty(self, what: str) -> str:
        """Leave out a memory (or an update) whose content would be empty: no empty memory is
        ever stored. Not an error for the model to correct (what it sent may be nothing but
        characters no store can hold, dropped by :func:`encodable`); the other calls stand."""
        cause = "after dropping characters no store can hold (NUL)" if self._cleaned else "as sent"
        logger.warning(
            "langmem: skipped %s from the model: its content is empty %s (arguments %.200r)",
            what,
            cause,
            self._sent,
        )
        return _prompts.RESULT_SKIPPED_EMPTY.format(what=what)

    def _lookup(self, ref: Any, *, deleted_ok: bool = False) -> Entry:
        key = str(ref).strip() if ref is not None else ""
        entry = self._by_short.get(key.lower()) or self._by_id.get(key)
        if entry is None:
            unknown = _prompts.ERR_UNKNOWN_MEMORY if self._by_short else _prompts.ERR_NO_MEMORIES
            raise KindError(unknown.format(id=key))
        if not entry.live and not deleted_ok:
            raise KindError(_prompts.ERR_DELETED_MEMORY.format(id=key))
        return entry

    # -- results --------------------------------------------------------------------------------
    def extracted(self) -> list[ExtractedMemory]:
        """Upstream's output: existing memories (changed, unchanged or removed), then new ones."""
        out: list[ExtractedMemory] = []
        for entry in self.entries:
            if entry.state == "dropped":
                continue
            if entry.state == "deleted":
                out.append(ExtractedMemory(entry.id, RemoveDoc(json_doc_id=entry.id)))
            else:
                out.append(ExtractedMemory(entry.id, entry.value))
        return out


def _empty(data: Any) -> bool:
    """Whether a memory's JSON holds nothing: only blank strings, nulls and empty containers
    (``False`` and ``0`` are content)."""
    if isinstance(data, str):
        return not data.strip()
    if isinstance(data, dict):
        return all(_empty(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        return all(_empty(v) for v in data)
    return data is None


def _error_message(problem: str, call_id: Any) -> ToolMessage:
    return ToolMessage(
        _prompts.RESULT_ERROR.format(problem=problem), tool_call_id=call_id or "", status="error"
    )
