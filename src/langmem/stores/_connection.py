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

from langmem.errors import StoreFileError
from langmem.stores import _read_only
from langmem.stores._lengths import reconcile
from langmem.stores._migrations import migrate


def connect(
    path: str, timeout: float, *, read_only: bool = False, shown: str | None = None
) -> sqlite3.Connection:
    """Open ``path`` in WAL mode and bring its schema up to date; a clear error for a file that
    is not a usable SQLite database (nothing is written to it then). ``read_only``: a
    ``file:`` URI opening the file read-only (see ``_read_only``): nothing is written, and a
    file that needs upgrading is refused, saying so. Messages name the file as ``shown`` (as
    the user named it; default ``path``)."""
    shown = path if shown is None else shown
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
        _refuse_newer_schema(conn, shown)
        if read_only:
            _check_schema(conn, shown)
        else:
            migrate(conn)
        reconcile(conn)
        _warn_of_langgraph_items(conn, _read_only.file_of(path))
        return conn
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise file_error(path, exc, shown=shown, read_only=read_only) from exc
    except StoreFileError:
        if conn is not None:
            conn.close()
        raise


def _schema_version(conn: sqlite3.Connection) -> int | None:
    """The file's schema version; ``None`` for a file langmem has not set up."""
    try:
        row = conn.execute("SELECT MAX(v) FROM langmem_migrations").fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise  # cannot be read here: the caller says why
        return None
    return None if row[0] is None else int(row[0])


def _refuse_newer_schema(conn: sqlite3.Connection, path: str) -> None:
    """A file a newer langmem has upgraded may hold tables, triggers or values this version
    would misread or break: it is refused, read-only or not, before anything is read or
    written."""
    from langmem.stores._migrations import MIGRATIONS

    version = _schema_version(conn)
    if version is None or version <= len(MIGRATIONS):
        return
    raise StoreFileError(
        f"The store file {path!r} was written by a newer langmem (schema {version}; this "
        f"langmem knows up to {len(MIGRATIONS)}): reading or writing it here could misread or "
        "damage what the newer version keeps, so nothing was read or changed. Fix: upgrade "
        "langmem (pip install -U langmem) in this environment, or open the file with the "
        "newer langmem and move the memories over with `langmem memories export` / `import`."
    )


def _check_schema(conn: sqlite3.Connection, path: str) -> None:
    """A file opened read-only must already have this version's schema: it cannot be
    upgraded."""
    from langmem.stores._migrations import MIGRATIONS

    version = _schema_version(conn)
    if version is None or version < len(MIGRATIONS):
        raise StoreFileError(
            f"The store file {path!r} is open read-only and "
            + (
                "is not a langmem store (or an empty file)"
                if version is None
                else f"was written by an earlier langmem (schema {version} of {len(MIGRATIONS)})"
            )
            + ", so it cannot be upgraded here. Nothing was changed. Fix: open it once where it "
            "can be written (a writable copy, or without read_only=True, mode=ro or immutable=1), "
            "which upgrades it, then read it read-only."
        )


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


class FileIdentity:
    """Which file a connection opened, to refuse writes once the path names another file.

    SQLite keeps writing to the file it opened: after the file is deleted (a clean-up job,
    ``rm -rf`` of the data folder) or replaced (a restored backup), every write still succeeds
    and is lost when the connection closes, or lands beside the file now at the path. A write
    that calls :meth:`check` first (one ``stat``, about a microsecond) is refused instead.
    """

    def __init__(self, path: str, shown: str | None = None) -> None:
        file = _read_only.file_of(path)
        self.shown = path if shown is None else shown
        special = path == ":memory:" or "mode=memory" in path or not file
        # absolute now, as SQLite resolves it at open: a later chdir changes neither
        self.path = file if special else os.path.abspath(file)
        self._opened = None if special else self._identity()

    def _identity(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.path)
        except OSError:
            return None
        return (found.st_dev, found.st_ino)

    def check(self) -> None:
        """Raise :class:`StoreFileError` when the file this connection opened is no longer
        the one at its path (nothing is written then)."""
        if self._opened is None:
            return
        now = self._identity()
        if now == self._opened:
            return
        what = "was deleted" if now is None else "was replaced by another file"
        raise StoreFileError(
            f"The store file {self.shown!r} {what} while this process had it open, so this "
            "write was refused: it would have gone to the old file and been lost. Nothing was "
            "written. Fix: open the store again (a new SqliteStore or open_store call), and "
            "if the file was removed by mistake, restore it from a backup first."
        )


def file_error(
    path: str, exc: sqlite3.Error, *, shown: str | None = None, read_only: bool = False
) -> StoreFileError:
    """The clear error for a SQLite failure on ``path`` (named as ``shown``, as the user named
    it; ``read_only``: opened for reading only): what happened and what to do."""
    text = str(exc)
    file = _read_only.file_of(path)
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
    elif "immutable=1" in path and ("malformed" in text or "corrupt" in text):
        fix = (
            "it is read with immutable=1, so SQLite takes it as unchanging, and another process "
            "probably wrote it meanwhile: the file is most likely not damaged. Close this store "
            "and open it again, or copy the file where this user can write and open the copy "
            "(which no other process changes under it)"
        )
    elif "disk is full" in text or "SQLITE_FULL" in text:
        folder = os.path.dirname(os.path.abspath(file)) or "."
        fix = (
            f"the disk holding {folder!r} is full (or SQLite's max_page_count limit was "
            "reached); nothing stored is damaged. Free space there (`df -h` shows it), or move "
            "the file to a larger disk, then retry"
        )
    elif "disk I/O error" in text:
        fix = (
            "the file system failed to read or write it; nothing stored is damaged by this "
            "call. Check the disk (`dmesg`), and that the file and its -wal/-shm files were not "
            "removed or replaced while open; then open the store again"
        )
    elif os.path.isdir(file):
        example = os.path.join(file, "memories.sqlite")
        fix = f"{file!r} is a folder: name a file in it, e.g. {example!r}"
    elif read_only and not os.path.exists(file):
        fix = f"the file {file!r} does not exist: check the path"
    elif read_only and ("readonly" in text or "unable to open" in text):
        fix = _read_only.cannot_read_fix(path)
    elif "readonly" in text or "unable to open" in text:
        fix = "check that the file and its folder exist and are writable by this user"
    else:
        fix = (
            "if it is not a langmem store, point LANGMEM_STORE (or the path) at another file; "
            "if it is damaged, move it aside (langmem then creates a new one) and restore a "
            "backup, or try `sqlite3 FILE .recover`"
        )
    named = path if shown is None else shown
    return StoreFileError(
        f"The store file {named!r} cannot be used ({type(exc).__name__}: {text}). Nothing in it "
        f"was changed by this call. Fix: {fix}."
    )
