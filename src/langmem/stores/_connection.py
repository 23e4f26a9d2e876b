"""Opening a store file, and the clear error for a SQLite failure on it.

A file that is not a SQLite database, is damaged, locked for too long or not writable surfaces as
:class:`~langmem.errors.StoreFileError` naming the path and the fix, never as a bare
``sqlite3`` exception, and nothing in the file is changed by the failed call.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import threading
import warnings
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from langmem.errors import StoreFileError
from langmem.stores._lengths import reconcile
from langmem.stores._migrations import migrate


def connect(path: str, timeout: float, *, read_only: bool = False) -> sqlite3.Connection:
    """Open ``path`` in WAL mode and bring its schema up to date; a clear error for a file that
    is not a usable SQLite database (nothing is written to it then). ``read_only``: a
    ``file:`` URI opening the file read-only (see :func:`read_only_reason`): nothing is
    written, and a file that needs upgrading is refused, saying so."""
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(
            path,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=path.startswith("file:"),
        )
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        if path != ":memory:" and not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if read_only:
            _check_schema(conn, path)
        else:
            migrate(conn)
        reconcile(conn)
        _warn_of_langgraph_items(conn, path)
        return conn
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise file_error(path, exc) from exc
    except StoreFileError:
        if conn is not None:
            conn.close()
        raise


def _check_schema(conn: sqlite3.Connection, path: str) -> None:
    """A file opened read-only must already have this version's schema: it cannot be
    upgraded."""
    from langmem.stores._migrations import MIGRATIONS

    try:
        row = conn.execute("SELECT MAX(v) FROM langmem_migrations").fetchone()
    except sqlite3.OperationalError:
        row = (None,)
    if row[0] is None or int(row[0]) < len(MIGRATIONS):
        raise StoreFileError(
            f"The store file {path!r} is open read-only and "
            + (
                "is not a langmem store (or an empty file)"
                if row[0] is None
                else f"was written by an earlier langmem (schema {row[0]} of {len(MIGRATIONS)})"
            )
            + ", so it cannot be upgraded here. Nothing was changed. Fix: open it once where it "
            "can be written (a writable copy, or without mode=ro / immutable=1), which upgrades "
            "it, then read it read-only."
        )


def read_only_reason(path: str) -> str | None:
    """Why the store file ``path`` (a plain path or a ``file:`` URI) can only be read, or
    ``None``: ``mode=ro`` or ``immutable=1`` in its URI, a read-only file system, or a file or
    folder this user cannot write (SQLite keeps its ``-wal`` and ``-shm`` files beside it)."""
    if path.startswith("file:"):
        query = {k: v[-1] for k, v in parse_qs(urlsplit(path).query).items()}
        if query.get("mode") == "ro":
            return "mode=ro in its URI"
        if query.get("immutable", "0").lower() not in ("0", "false", "no", "off"):
            return "immutable=1 in its URI"
        return None
    if path == ":memory:" or not os.path.isfile(path):
        return None
    if _read_only_file_system(path):
        return "it is on a read-only file system"
    if not os.access(path, os.W_OK):
        return "this user cannot write it"
    if not os.access(os.path.dirname(os.path.abspath(path)), os.W_OK):
        return "this user cannot write its folder, where SQLite keeps its -wal and -shm files"
    return None


def read_only_uri(path: str) -> str:
    """A ``file:`` URI opening the plain path ``path`` read-only: ``mode=ro`` when SQLite can
    use or make the ``-shm`` file a WAL file needs to be read (or a ``-wal`` file holds
    changes not in the file yet), else ``immutable=1``: on a read-only file system nobody can
    change the file; in a folder this user cannot write, changes another user makes while it
    is open are not seen."""
    wal = f"{path}-wal"
    pending = os.path.exists(wal) and os.path.getsize(wal) > 0
    folder = os.path.dirname(os.path.abspath(path))
    shared = not _read_only_file_system(path) and (
        os.path.exists(f"{path}-shm") or os.access(folder, os.W_OK)
    )
    flag = "mode=ro" if shared or pending else "immutable=1"
    return f"{Path(path).resolve().as_uri()}?{flag}"


def _file_of(path: str) -> str:
    """The file a plain path or ``file:`` URI names."""
    return unquote(urlsplit(path).path) if path.startswith("file:") else path


def _read_only_file_system(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): os.access tells
        return False


_warned: set[str] = set()
_warned_lock = threading.Lock()


def _warn_of_langgraph_items(conn: sqlite3.Connection, path: str) -> None:
    """Warn (once per file and process) when the file also holds LangGraph's own SqliteStore
    table with items not in langmem's tables: langmem keeps its memories in its own tables, so
    those stay unseen until copied."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'store'"
    ).fetchone()
    if found is None:
        return
    columns = {row[1] for row in conn.execute("PRAGMA table_info(store)")}
    if not {"prefix", "key", "value"} <= columns:
        return
    # items not copied yet (a copy keeps LangGraph's table as it was)
    count = conn.execute(
        "SELECT count(*) FROM store s WHERE NOT EXISTS (SELECT 1 FROM langmem_items l"
        " WHERE l.prefix = s.prefix AND l.key = s.key)"
    ).fetchone()[0]
    with _warned_lock:
        if not count or path in _warned:
            return
        _warned.add(path)
    source, target = (
        shlex.quote(f"{scheme}:///{path}") for scheme in ("langgraph-sqlite", "sqlite")
    )
    warnings.warn(
        f"The store file {path!r} also holds {count} item(s) in the table 'store' of "
        "LangGraph's own SqliteStore that are not in langmem's tables. langmem does not read "
        "that table, so searches will not find them. To use them here, copy them "
        f"once (values, timestamps and TTLs; the texts are embedded with this store's index; "
        f"running it again is safe): `langmem store copy {source} {target}`, or in Python "
        f"langmem.stores.copy_store({f'langgraph-sqlite:///{path}'!r}, store).",
        UserWarning,
        stacklevel=4,
    )


def file_error(path: str, exc: sqlite3.Error) -> StoreFileError:
    """The clear error for a SQLite failure on ``path``: what happened and what to do."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        fix = "another process holds a long write lock; retry, or pass a larger timeout"
    elif "malformed JSON" in text or "user-defined function raised exception" in text:
        fix = (
            "the file is not damaged: a stored value is not JSON that SQLite's JSON functions, "
            "used by filters, can read (earlier langmem versions stored NaN or Infinity so, "
            "which this version reads; this one is not JSON even so). "
            'List such items with `sqlite3 FILE "SELECT prefix, key FROM langmem_items WHERE '
            'NOT json_valid(value)"` and put them again with finite numbers, None or strings'
        )
    elif "unable to open" in text and _read_only_file_system(_file_of(path)):
        fix = (
            "it is on a read-only file system, where SQLite cannot make the -shm file a WAL "
            f"file needs: open the plain path {_file_of(path)!r} (langmem then reads it with "
            "immutable=1), or put immutable=1 in the URI instead of mode=ro"
        )
    elif os.path.isdir(path):
        example = os.path.join(path, "memories.sqlite")
        fix = f"{path!r} is a folder: name a file in it, e.g. {example!r}"
    elif "readonly" in text or "unable to open" in text:
        fix = "check that the file and its folder exist and are writable by this user"
    else:
        fix = (
            "if it is not a langmem store, point LANGMEM_STORE (or the path) at another file; "
            "if it is damaged, move it aside (langmem then creates a new one) and restore a "
            "backup, or try `sqlite3 FILE .recover`"
        )
    return StoreFileError(
        f"The store file {path!r} cannot be used ({type(exc).__name__}: {text}). Nothing in it "
        f"was changed by this call. Fix: {fix}."
    )
