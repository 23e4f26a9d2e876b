"""The checks PostgresStore runs on a batch before anything is sent: SqliteStore's, plus
what PostgreSQL cannot hold.

Every operation goes through :func:`langmem.stores._writes.check_op`, the embedded store's
check (namespaces, pages, filters, query types, value types, TTLs, lone surrogates), so both
stores refuse the same input with the same error. PostgreSQL adds three limits of its own:
its text and ``jsonb`` types hold no NUL character (``\\x00``, legal in SQLite), ``jsonb``
holds no NaN or infinite numbers, and its timestamps end in the year 294276 (a TTL beyond
:data:`MAX_TTL_MINUTES` is kept as that many minutes: the item never expires either way).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langgraph.store.base import GetOp, Op, PutOp, SearchOp

from langmem.errors import InvalidInputError
from langmem.stores import _writes

MAX_TTL_MINUTES = 1e11
"""About 190,000 years: longer TTLs are stored as this (``NOW()`` plus it still fits a
PostgreSQL timestamp; an infinite one does not)."""

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
        elif isinstance(op, SearchOp) and op.filter:
            where = _nul_at(op.filter, "filter")
            if where is not None:
                raise InvalidInputError(
                    f"The search filter {_writes._shown(op.filter)} holds \\x00 at {where}: "
                    "no stored value can hold it on PostgreSQL. Strip it from the filter."
                )
    return listed


def nul_items(items: Sequence[tuple[str, str, Any]]) -> list[str]:
    """``prefix/key (where)`` for each ``(prefix, key, value)`` holding a NUL character."""
    found = []
    for prefix, key, value in items:
        where = "the key" if "\x00" in key else _nul_at(value, "value")
        if where is not None:
            found.append(f"{prefix}/{key!r} ({where})")
    return found


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
    where = f"key {op.key!r} in namespace {tuple(op.namespace)!r}"
    if "\\u0000" in text:  # json.dumps escapes NUL so; a false hit is re-checked below
        found = _nul_at(op.value, "value")
        if found is not None:
            raise InvalidInputError(f"The value for {where} holds \\x00 at {found}: {_NUL_FIX}")
    if "NaN" in text or "Infinity" in text:
        bad = _non_finite_at(op.value, "value")
        if bad is not None:
            raise InvalidInputError(
                f"The value for {where} holds {bad[1]} at {bad[0]}: PostgreSQL's jsonb "
                "(like JSON itself) has no NaN or infinite numbers. Nothing was written. "
                "Store None or a string (e.g. 'inf') instead."
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
