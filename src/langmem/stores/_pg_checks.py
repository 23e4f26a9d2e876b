"""The checks PostgresStore runs on a batch before anything is sent: SqliteStore's, plus
what PostgreSQL cannot hold.

Every operation goes through :func:`langmem.stores._writes.check_op`, the embedded store's
check (namespaces, pages, filters, query types, value types, TTLs, lone surrogates), so both
stores refuse the same input with the same error. PostgreSQL adds three limits of its own:
its text and ``jsonb`` types hold no NUL character (``\\x00``, legal in SQLite), ``jsonb``
holds no NaN or infinite numbers, and its timestamps end in the year 294276 (a TTL beyond
:data:`MAX_TTL_MINUTES` is kept as that many minutes: the item never expires either way).
A page ``limit`` or ``offset`` beyond :data:`MAX_PAGE` is sent as that (it used to fail with
PostgreSQL's "bigint out of range"; the embedded store takes any size).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from langgraph.store.base import GetOp, ListNamespacesOp, Op, PutOp, SearchOp

from langmem.errors import InvalidInputError
from langmem.stores import _writes

MAX_TTL_MINUTES = 1e11
"""About 190,000 years: longer TTLs are stored as this (``NOW()`` plus it still fits a
PostgreSQL timestamp; an infinite one does not)."""


MAX_PAGE = 2**53
"""The largest ``limit`` or ``offset`` sent to PostgreSQL; larger ones (valid, as on the
embedded store) are sent as this, which no table reaches (PostgreSQL's ``bigint`` ends at
2**63, and the store adds page numbers to each other)."""


def capped_ttl(minutes: float | None) -> float | None:
    """A TTL as PostgreSQL keeps it: at most :data:`MAX_TTL_MINUTES` (``None``: no TTL)."""
    return None if minutes is None else min(float(minutes), MAX_TTL_MINUTES)


_NUL_FIX = (
    "PostgreSQL text and jsonb cannot hold the NUL character \\x00 (SQLite can). Nothing was "
    "written. Strip it (text.replace('\\x00', '')) or escape it (e.g. as '\\\\0') first."
)


def checked(ops: Iterable[Op]) -> list[Op]:
    """``ops`` as a list, each checked as the embedded store checks it and for what PostgreSQL
    cannot hold; TTLs beyond :data:`MAX_TTL_MINUTES` shortened to it. Raises before anything
    is written: one bad operation refuses the whole batch."""
    listed = list(ops)
    for n, op in enumerate(listed):
        _writes.check_op(op)
        if isinstance(op, (GetOp, PutOp)):
            _check_key(op)
        if isinstance(op, PutOp):
            if op.value is not None:
                _check_value(op)
            if op.ttl is not None and not float(op.ttl) <= MAX_TTL_MINUTES:
                listed[n] = op._replace(ttl=MAX_TTL_MINUTES)
        if isinstance(op, (SearchOp, ListNamespacesOp)) and max(op.limit, op.offset) > MAX_PAGE:
            listed[n] = op = op._replace(
                limit=min(op.limit, MAX_PAGE), offset=min(op.offset, MAX_PAGE)
            )
        if isinstance(op, SearchOp) and op.filter:
            where = _nul_at(op.filter, "filter")
            if where is not None:
                raise InvalidInputError(
                    f"The search filter {_writes._shown(op.filter)} holds \\x00 at {where}: "
                    "no stored value can hold it on PostgreSQL. Strip it from the filter."
                )
    return listed


def refuse_unholdable(items: Iterable[tuple[str, str, Any]], outcome: str) -> None:
    """Raise one :class:`InvalidInputError` naming every ``(prefix, key, value)`` PostgreSQL
    cannot hold (NUL in the key or value, NaN or infinity in the value); ``outcome`` says what
    was (not) written."""
    found = []
    for prefix, key, value in items:
        problem = unholdable(key, value)
        if problem is not None:
            found.append(f"{prefix}/{key!r}: {problem[0]}")
    if not found:
        return
    shown = "; ".join(found[:10]) + (f"; and {len(found) - 10} more" if len(found) > 10 else "")
    raise InvalidInputError(
        f"{len(found)} item(s) hold what PostgreSQL cannot store: {shown}. {outcome} "
        "PostgreSQL text and jsonb hold no NUL character \\x00 and jsonb no NaN or infinite "
        "number (SQLite holds both). Fix those items in the source: strip the NUL "
        "(text.replace('\\x00', '')) or escape it (e.g. as '\\\\0'), store None or a string "
        "for the numbers (or delete the items), then run it again."
    )


def unholdable(key: str, value: Any, text: str | None = None) -> tuple[str, str] | None:
    """``(where, "nul" or "number")`` for the first thing PostgreSQL cannot hold in an item
    with ``key`` and ``value`` (``text``: the value as JSON, when already made), else ``None``."""
    if isinstance(key, str) and "\x00" in key:
        return f"\\x00 in the key at position {key.index(chr(0))}", "nul"
    if text is None:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            return None  # not JSON: refused by check_op's value_json, with its own message
    if "\\u0000" in text:  # json.dumps escapes NUL so; a false hit is re-checked
        found = _nul_at(value, "value")
        if found is not None:
            return f"\\x00 at {found}", "nul"
    if "NaN" in text or "Infinity" in text:
        bad = _non_finite_at(value, "value")
        if bad is not None:
            return f"{bad[1]} at {bad[0]}", "number"
    return None


def _check_key(op: GetOp | PutOp) -> None:
    if isinstance(op.key, str) and "\x00" in op.key:
        raise InvalidInputError(
            f"The key {op.key[:200]!r} in namespace {tuple(op.namespace)!r} holds \\x00 at "
            f"position {op.key.index(chr(0))}: "
            + (
                _NUL_FIX
                if isinstance(op, PutOp)
                else _NUL_FIX.replace("Nothing was written", "No item has such a key here")
            )
        )


def _check_value(op: PutOp) -> None:
    text = _writes.value_json(op)  # refuses what is not JSON, and lone surrogates
    problem = unholdable("", op.value, text)
    if problem is None:
        return
    where = f"key {op.key!r} in namespace {tuple(op.namespace)!r}"
    if problem[1] == "nul":
        raise InvalidInputError(f"The value for {where} holds {problem[0]}: {_NUL_FIX}")
    raise InvalidInputError(
        f"The value for {where} holds {problem[0]}: PostgreSQL's jsonb (like JSON itself) has "
        "no NaN or infinite numbers. Nothing was written. Store None or a string (e.g. 'inf') "
        "instead."
    )


def _nul_at(value: Any, path: str) -> str | None:
    """Where in ``value`` a string (or a dict key) holds ``\\x00``, e.g. ``value['a'][2]``."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if isinstance(key, str) and "\x00" in key:
                return f"the name of {path}[{key!r}]"
            found = _nul_at(inner, f"{path}[{key!r}]")
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for n, inner in enumerate(value):
            found = _nul_at(inner, f"{path}[{n}]")
            if found is not None:
                return found
    return None


def _non_finite_at(value: Any, path: str) -> tuple[str, float] | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    pairs: Iterable[tuple[Any, Any]] = ()
    if isinstance(value, Mapping):
        pairs = value.items()
    elif isinstance(value, (list, tuple)):
        pairs = enumerate(value)
    for key, inner in pairs:
        found = _non_finite_at(inner, f"{path}[{key!r}]")
        if found is not None:
            return found
    return None
