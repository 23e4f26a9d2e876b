"""Reading store files that hold ``NaN`` or ``Infinity`` in values, as earlier versions wrote them.

Before session 6, the embedded store wrote a value's non-finite numbers as ``json.dumps`` does
(``NaN``, ``Infinity``), which is not JSON to SQLite: its ``json_extract``, which filters and the
ranking's provenance use, fails on such a row ("malformed JSON"), so every filtered or ranked
search of a namespace holding one failed. (Current versions write infinity as ``1e999`` and
refuse NaN; SQLite 3.42 and later read both spellings as JSON5.)

When a search meets such a row, :func:`tolerate` gives the connection a ``json_extract`` of its
own, written in Python, which reads those numbers as Python's ``json`` module does: infinity
is infinity, NaN reads as SQL NULL (as SQLite's JSON5 reading takes it), so it equals nothing
and is in no range (as in the exact rule, :func:`langmem.stores._filters.matches`), and
filters on every other field work as on any row. The batch is then run again; a warning names
the file once, with how to find and rewrite the rows.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Any, TypeVar

from langmem.errors import StoreFileError

logger = logging.getLogger("langmem")

_T = TypeVar("_T")
_INT64 = 2**63
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def is_legacy_number_error(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is SQLite's "malformed JSON"."""
    cause = exc.__cause__ if isinstance(exc.__cause__, sqlite3.Error) else exc
    return isinstance(cause, sqlite3.Error) and "malformed JSON" in str(cause)


def tolerate(conn: sqlite3.Connection, path: str) -> None:
    """Give ``conn`` the tolerant ``json_extract`` (for the rest of its life), and say so."""
    conn.create_function("json_extract", 2, json_extract, deterministic=True)
    # statements prepared before still call SQLite's own function: a schema change expires
    # them (re-prepared on next use), and a temporary table's touches nothing in the file
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS langmem_expire_statements (x)")
    conn.execute("DROP TABLE temp.langmem_expire_statements")
    logger.warning(
        "langmem: the store file %r holds values with NaN or Infinity written by an earlier "
        "version, which SQLite's JSON functions cannot read; filters and ranking now read "
        "values in Python on this connection (NaN equals nothing and is in no range). To go "
        "back to SQLite's reader, list them with `sqlite3 FILE \"SELECT prefix, key FROM "
        'langmem_items WHERE NOT json_valid(value)"` and put them again (this version writes '
        "infinity so SQLite reads it, and refuses NaN: use None or a string).",
        path,
    )


class Tolerance:
    """Runs a store's batches on ``conn``, switching to the tolerant reader the first time
    SQLite's JSON functions fail on such a value (under the store's ``lock``: two threads
    meeting the row at once register it once, and each runs its batch again)."""

    def __init__(self, conn: sqlite3.Connection, lock: AbstractContextManager[Any], path: str):
        self._conn = conn
        self._lock = lock
        self._path = path
        self.on = False  # whether values are read in Python on this connection

    def run(self, run: Callable[[], _T]) -> _T:
        """``run()``; run once more with values read in Python when it failed on such a value
        (a value that is not JSON even so fails again, and that error is raised)."""
        try:
            return run()
        except StoreFileError as exc:
            if not is_legacy_number_error(exc):
                raise
            with self._lock:
                if not self.on:
                    tolerate(self._conn, self._path)
                    self.on = True
            return run()


def json_extract(value: Any, path: Any) -> Any:
    """SQLite's two-argument ``json_extract`` for the paths langmem uses (``$``, ``.name``,
    ``[n]``), reading ``NaN`` and ``Infinity`` too. A value that is not JSON even so raises
    (the statement fails, as with SQLite's own function: nothing is silently left out)."""
    if value is None or path is None:
        return None
    node = _parsed(str(value))
    for name, index in _steps(path):
        if name is not None and isinstance(node, dict):
            node = node.get(name)
        elif index is not None and isinstance(node, list) and index < len(node):
            node = node[index]
        else:
            return None
    return _as_sql(node)


@lru_cache(maxsize=4)
def _parsed(value: str) -> Any:
    """The value as Python reads it (several fields of one row are read in a row)."""
    return json.loads(value)


@lru_cache(maxsize=64)
def _steps(path: str) -> tuple[tuple[str | None, int | None], ...]:
    if not path.startswith("$"):
        raise ValueError(f"json_extract path {path!r} does not start with '$'")
    steps, at = [], 1
    while at < len(path):
        found = _STEP.match(path, at)
        if found is None:
            raise ValueError(f"json_extract path {path!r} is not supported here")
        name, index = found.groups()
        steps.append((name, int(index) if index is not None else None))
        at = found.end()
    return tuple(steps)


def _as_sql(node: Any) -> Any:
    """A JSON node as SQLite's ``json_extract`` returns it."""
    if node is None or isinstance(node, str):
        return node
    if isinstance(node, bool):
        return int(node)
    if isinstance(node, int):
        return node if -_INT64 <= node < _INT64 else float(node)
    if isinstance(node, float):
        return None if math.isnan(node) else node
    return json.dumps(node, ensure_ascii=False, separators=(",", ":"))
