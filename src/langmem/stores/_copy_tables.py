"""Reading the ``store`` table of a LangGraph SqliteStore file or PostgresStore database.

The table LangGraph keeps items in: ``prefix`` (the namespace joined by ``.``), ``key``,
``value`` (JSON text or bytes in SQLite, ``jsonb`` in PostgreSQL), ``created_at``,
``updated_at`` and, since LangGraph added TTLs, ``expires_at`` and ``ttl_minutes``. It is read
in pages ordered by ``(prefix, key)``, never written: the file is opened read only (LangGraph's
package is not needed for it), the database in read-only transactions. Vectors (LangGraph's
``store_vectors``) are not read (see :mod:`langmem.stores._copy_sources`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langmem.errors import ConfigurationError, InvalidInputError, StoreConnectionError
from langmem.stores import _read_only
from langmem.stores._copy_sources import Found, checked_ttl, utc

REQUIRED = ("prefix", "key", "value", "created_at", "updated_at")
TTL_COLUMNS = ("expires_at", "ttl_minutes")


def _found(row: tuple[Any, ...], source: str) -> Found:
    """An item from a row ``(prefix, key, value, created_at, updated_at, expires_at,
    ttl_minutes)``; a clear error naming the row when it is not readable."""
    from langgraph.store.base import Item

    prefix, key, value, created, updated, expires, minutes = row
    where = f"{source}, item {prefix}/{key!r}"
    if isinstance(value, (str, bytes, bytearray)):
        try:
            value = json.loads(value)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                f"{where}: the value is not JSON ({exc}). Nothing was copied. Fix or delete "
                "that item in the source, then run the copy again."
            ) from None
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"{where}: the value is a {type(value).__name__}, not a JSON object. Nothing was "
            "copied. Fix or delete that item in the source, then run the copy again."
        )
    item = Item(
        namespace=tuple(str(prefix).split(".")),
        key=str(key),
        value=value,
        created_at=utc(created, "created_at", where),
        updated_at=utc(updated, "updated_at", where),
    )
    return Found(item, checked_ttl(minutes, expires, where))


def _prefix_condition(namespace: tuple[str, ...], mark: str) -> tuple[str, list[Any]]:
    """SQL keeping the rows in ``namespace`` or below (``mark``: the driver's placeholder)."""
    if not namespace:
        return "", []
    text = ".".join(namespace)
    return (
        f" AND (prefix = {mark} OR substr(prefix, 1, {mark}) = {mark})",
        [text, len(text) + 1, text + "."],
    )


class _TableSource:
    """Pages of LangGraph's ``store`` table by ``(prefix, key)``; each subclass says how it
    connects (``_read``), its placeholder (``MARK``) and the SQL for true (``TRUE``)."""

    MARK = "?"
    TRUE = "1"
    name: str
    namespace: tuple[str, ...]
    _columns: list[str]

    def _read(self, work: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        return None

    def pages(self, size: int) -> Iterator[list[Found]]:
        mark = self.MARK
        where, params = _prefix_condition(self.namespace, mark)
        after: tuple[str, str] | None = None
        while True:
            after_sql = "" if after is None else f" AND (prefix, key) > ({mark}, {mark})"
            query = (
                f"SELECT {', '.join(self._columns)} FROM store WHERE {self.TRUE}{where}"
                f"{after_sql} ORDER BY prefix, key LIMIT {mark}"
            )
            args = [*params, *(after or ()), size]
            rows = self._read(lambda c, q=query, a=args: c.execute(q, a).fetchall())
            if not rows:
                return
            after = (rows[-1][0], rows[-1][1])
            yield [_found(tuple(row), self.name) for row in rows]


# -- SQLite ----------------------------------------------------------------------------------


class SqliteFileSource(_TableSource):
    """LangGraph's SqliteStore file at ``langgraph-sqlite:///path`` (or a path), read only."""

    def __init__(self, url: str, namespace: tuple[str, ...] = ()) -> None:
        from langmem.stores._open import _sqlite_path

        path = _sqlite_path(url.split("?", 1)[0]) if "://" in url else url
        self.path = Path(path).expanduser()
        self.name = f"LangGraph's SqliteStore file {str(self.path)!r}"
        self.namespace = namespace
        if path == ":memory:" or not self.path.is_file():
            raise ConfigurationError(
                f"{self.name} does not exist: give the path of the file your LangGraph app "
                "passed to SqliteStore.from_conn_string, e.g. langgraph-sqlite:///app.db "
                "(relative) or langgraph-sqlite:////srv/app.db (absolute)."
            )
        # read as a read-only store file is (mode=ro; immutable=1 only where mode=ro cannot
        # read it and no process has it open, with a warning): see langmem.stores._read_only
        self._uri = _read_only.read_only_uri(str(self.path))
        if self._uri.endswith("immutable=1"):
            _read_only.immutable_warning(str(self.path), _source_reason(str(self.path)))
        self._columns = self._read(self._check)

    def _read(self, work: Any) -> Any:
        try:
            conn = sqlite3.connect(self._uri, uri=True)
        except sqlite3.Error as exc:
            raise self._unreadable(exc) from None
        try:
            return work(conn)
        except sqlite3.DatabaseError as exc:
            raise self._unreadable(exc) from None
        finally:
            conn.close()

    def _unreadable(self, exc: sqlite3.Error) -> ConfigurationError:
        shown = str(self.path)
        fix = (
            _read_only.cannot_read_fix(shown)
            if _read_only.reason(shown) is not None and "unable to open" in str(exc)
            else "check that it is the file your LangGraph app used; if it is damaged, restore "
            "a backup or try `sqlite3 FILE .recover`"
        )
        return ConfigurationError(
            f"{self.name} cannot be read ({type(exc).__name__}: {exc}). Nothing was copied "
            f"from it, and it was not changed. Fix: {fix}."
        )

    def _check(self, conn: sqlite3.Connection) -> list[str]:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(store)")]
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            ours = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'langmem_items'"
            ).fetchone()
            hint = (
                "it is a langmem store file: give it as sqlite:///path"
                if ours
                else "check the path (LangGraph's SqliteStore keeps its items in that table)"
            )
            raise ConfigurationError(
                f"{self.name} has no LangGraph store table 'store' with columns "
                f"{', '.join(REQUIRED)} (missing: {', '.join(missing)}): {hint}."
            )
        return [name if name in columns else "NULL" for name in (*REQUIRED, *TTL_COLUMNS)]


def _source_reason(path: str) -> _read_only.ReadOnly:
    """Why a copy's source file is read as it is (it is only ever read)."""
    return _read_only.reason(path) or _read_only.ReadOnly(
        "a copy only reads it", "copy it where this user can write", True
    )


def has_langgraph_table(path: Path) -> bool:
    """Whether the SQLite file at ``path`` holds LangGraph's ``store`` table and no langmem
    tables (a LangGraph SqliteStore file); ``False`` for anything else or unreadable."""
    try:
        conn = sqlite3.connect(_read_only.read_only_uri(str(path)), uri=True)
    except sqlite3.Error:
        return False
    try:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return "store" in names and "langmem_items" not in names


def sqlite_ttl_rows(conn: sqlite3.Connection, namespace: tuple[str, ...]) -> list[Any]:
    """``(prefix, key, ttl_minutes, expires_at)`` of the items with a TTL, on the connection
    of a LangGraph SqliteStore object."""
    where, params = _prefix_condition(namespace, "?")
    return list(
        conn.execute(
            "SELECT prefix, key, ttl_minutes, expires_at FROM store WHERE ttl_minutes IS NOT"
            f" NULL AND expires_at IS NOT NULL{where}",
            params,
        ).fetchall()
    )


# -- PostgreSQL ------------------------------------------------------------------------------


def conninfo(url: str) -> str:
    """The libpq URL of a ``langgraph-postgres://`` (or ``postgresql://``) URL."""
    from langmem.stores._pg_connect import split_url

    rest = url.split("://", 1)[1]
    return split_url(f"postgresql://{rest}")[0]


class PostgresSource(_TableSource):
    """LangGraph's PostgresStore database at ``langgraph-postgres://...``, read only."""

    MARK = "%s"
    TRUE = "true"

    def __init__(self, url: str, namespace: tuple[str, ...] = ()) -> None:
        from langmem.cli._target import display_url
        from langmem.stores._pg_connect import require_psycopg

        require_psycopg()
        self.conninfo = conninfo(url)
        self.name = f"LangGraph's PostgresStore database {display_url(self.conninfo)}"
        self.namespace = namespace
        self._columns = self._read(self._check)

    def _read(self, work: Any) -> Any:
        import psycopg

        from langmem.stores._pg_connect import CONNECT_TIMEOUT

        try:
            with psycopg.connect(self.conninfo, connect_timeout=CONNECT_TIMEOUT) as conn:
                conn.read_only = True
                return work(conn)
        except psycopg.OperationalError as exc:
            raise StoreConnectionError(
                f"{self.name} cannot be reached ({' '.join(str(exc).split())}). Nothing was "
                "copied. "
                "Fix: check the host, port, database name and password in the URL."
            ) from None
        except psycopg.Error as exc:
            raise ConfigurationError(
                f"{self.name} cannot be read ({type(exc).__name__}: {' '.join(str(exc).split())}). "
                "Nothing was copied from it, and it was not changed."
            ) from None

    def _check(self, conn: Any) -> list[str]:
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'store'"
                " AND table_schema = current_schema()"
            )
        ]
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            raise ConfigurationError(
                f"{self.name} has no LangGraph store table 'store' with columns "
                f"{', '.join(REQUIRED)} (missing: {', '.join(missing)}): check the database "
                "name (and the schema: search_path)."
            )
        return [name if name in columns else "NULL" for name in (*REQUIRED, *TTL_COLUMNS)]


def postgres_ttl_rows(conn: Any, namespace: tuple[str, ...]) -> list[Any]:
    """``(prefix, key, ttl_minutes, expires_at)`` of the items with a TTL, on the connection
    (or pool) of a LangGraph PostgresStore object."""
    from psycopg.rows import tuple_row

    where, params = _prefix_condition(namespace, "%s")
    query = (
        "SELECT prefix, key, ttl_minutes, expires_at FROM store WHERE ttl_minutes IS NOT NULL"
        f" AND expires_at IS NOT NULL{where}"
    )
    from psycopg_pool import ConnectionPool

    if isinstance(conn, ConnectionPool):
        with conn.connection() as pooled, pooled.cursor(row_factory=tuple_row) as cur:
            return list(cur.execute(query, params).fetchall())
    with conn.cursor(row_factory=tuple_row) as cur:
        return list(cur.execute(query, params).fetchall())
