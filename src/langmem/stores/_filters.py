"""Search filters: the exact rule in Python, and a SQL pre-filter that narrows rows cheaply.

A filter maps value keys (a dotted key missing at the top level reaches into nested objects) to
a condition: a plain value (equality; a dict compares nested keys), or operators ``$eq $ne $gt
$gte $lt $lte``. Range operators compare numbers (a numeric string counts as its number) or two
strings; anything else does not match.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from langmem.errors import InvalidInputError

OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")
_SQL_RANGE = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}
# the pre-filter compares REALs, which round ints past 2**53: it keeps the bound itself, so
# rounding never drops a row the exact rule (exact for ints) would match
_SQL_LOOSE = {"$gt": ">=", "$gte": ">=", "$lt": "<=", "$lte": "<="}
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SQLITE_INT = (-(2**63), 2**63 - 1)  # the integers SQLite binds and json_extract reads exactly


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except OverflowError:  # an int past float's range, as jsonb reads ``1e999``: infinite
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return None


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if operator == "$eq":
        return bool(actual == expected)
    if operator == "$ne":
        return bool(actual != expected)
    if operator not in _SQL_RANGE:
        raise InvalidInputError(
            f"Filter operator {operator!r} is not supported: use one of {', '.join(OPERATORS)}."
        )
    left: Any
    right: Any
    if isinstance(actual, str) and isinstance(expected, str):
        left, right = actual, expected
    elif _is_int(actual) and _is_int(expected):
        left, right = actual, expected  # exact, however large (as PostgreSQL's numeric)
    else:
        left, right = _as_number(actual), _as_number(expected)
        if left is None or right is None:
            return False
    if operator == "$gt":
        return bool(left > right)
    if operator == "$gte":
        return bool(left >= right)
    if operator == "$lt":
        return bool(left < right)
    return bool(left <= right)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _sql_plain(value: Any) -> bool:
    """Whether equality with ``value`` can be pre-filtered in SQL (an int past 64 bits cannot
    be bound as a parameter; the exact rule still applies to it)."""
    if isinstance(value, bool):
        return False
    if _is_int(value):
        return bool(_SQLITE_INT[0] <= value <= _SQLITE_INT[1])
    if isinstance(value, str):
        return _sql_text(value)
    return isinstance(value, float)


def _sql_text(value: str) -> bool:
    """Whether equality with the text ``value`` can be pre-filtered in SQL: SQLite's
    ``json_extract`` cuts a stored text at its first NUL (so a key ``"a\x00b"`` matched
    nothing, and ``History.history`` found none of its records)."""
    return "\x00" not in value


def _sql_number(value: Any) -> bool:
    """Whether a range bound can be pre-filtered as a REAL (an int past a float's range
    cannot; the exact rule still applies to it)."""
    if not isinstance(value, float) and not _is_int(value):
        return False
    number = _as_number(value)
    return number is not None and math.isfinite(number)


def _condition_matches(actual: Any, condition: Any) -> bool:
    if isinstance(condition, Mapping):
        if any(str(k).startswith("$") for k in condition):
            return all(_compare(actual, op, expected) for op, expected in condition.items())
        if not isinstance(actual, Mapping):
            return False
        return all(_condition_matches(actual.get(k), v) for k, v in condition.items())
    return bool(actual == condition)


def matches(value: Mapping[str, Any], filter: Mapping[str, Any] | None) -> bool:
    """Whether a stored value satisfies ``filter``.

    Example:
        >>> matches({"kind": "fact", "n": 3}, {"kind": "fact", "n": {"$gte": 2}})
        True
    """
    if not filter:
        return True
    return all(_condition_matches(_value_at(value, key), cond) for key, cond in filter.items())


def _value_at(value: Mapping[str, Any], key: str) -> Any:
    """``value[key]``; a dotted key missing at the top level is a path into nested objects
    (``"user.city"``), as LangGraph's SqliteStore and PostgresStore read filter keys."""
    if key in value or "." not in str(key):
        return value.get(key)
    found: Any = value
    for part in str(key).split("."):
        if not isinstance(found, Mapping) or part not in found:
            return None
        found = found[part]
    return found


def validate(filter: Mapping[str, Any] | None) -> None:
    """Refuse unknown operators up front, naming the supported ones."""
    for condition in (filter or {}).values():
        if isinstance(condition, Mapping):
            for op in condition:
                if str(op).startswith("$") and op not in OPERATORS:
                    raise InvalidInputError(
                        f"Filter operator {op!r} is not supported: use one of "
                        f"{', '.join(OPERATORS)}."
                    )


def sql_prefilter(filter: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
    """SQL conditions on ``value`` that every matching row satisfies (possibly more rows).

    The exact rule is :func:`matches`, applied to the rows this lets through.
    """
    clauses: list[str] = []
    params: list[Any] = []
    for key, condition in (filter or {}).items():
        if not _PLAIN_KEY.match(str(key)):
            continue
        path = f"$.{key}"
        if _sql_plain(condition):
            clauses.append("json_extract(value, ?) = ?")
            params.extend([path, condition])
        elif isinstance(condition, Mapping):
            for op, expected in condition.items():
                if op == "$eq" and isinstance(expected, str) and _sql_text(expected):
                    clauses.append("json_extract(value, ?) = ?")
                    params.extend([path, expected])
                elif op in _SQL_RANGE and _sql_number(expected):
                    # a number compares with numbers and numeric strings, as CAST does
                    clauses.append(f"CAST(json_extract(value, ?) AS REAL) {_SQL_LOOSE[op]} ?")
                    params.extend([path, float(expected)])
    return (" AND ".join(clauses), params)
