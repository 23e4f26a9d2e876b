"""Read-only store files: when a file is opened for reading only, how SQLite is asked to read
it, and the errors that say so.

A file is read-only when asked (``read_only=True``, ``mode=ro`` in a store URL, ``mode=ro`` or
``immutable=1`` in a ``file:`` URI) or when it cannot be written (a read-only file system, a
file or folder this user cannot write). A plain path is then opened with ``mode=ro``: SQLite
reads it as any reader does, seeing the writes of other processes. Only when ``mode=ro`` cannot
work is ``immutable=1`` used: the file is in WAL mode, neither its ``-wal`` nor its ``-shm`` file
exists (so no process has it open now) and this user cannot make the ``-shm`` file beside it.
SQLite then takes the file as unchanging, so a warning says that writes by another process while
the store is open may give wrong results or errors, and how to avoid that. When a ``-wal`` or
``-shm`` file exists, ``immutable=1`` is never chosen (it would miss or garble the changes in
them): if ``mode=ro`` cannot read the file, the open is refused (:func:`cannot_read_fix`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from langmem.errors import ConfigurationError, StoreFileError

logger = logging.getLogger("langmem.stores")

_COPY_FIX = (
    "copy it where this user can write and open the copy, or make the file and its folder writable"
)
_OFF = ("0", "false", "no", "off")


@dataclass(frozen=True)
class ReadOnly:
    """Why a store file is open for reading only, and how to open it for writing."""

    reason: str
    fix: str
    asked: bool  # asked for by the caller (not found out from the file system)

    def error(self, shown: str) -> StoreFileError:
        """The error for a write to the file ``shown`` (as the user named it)."""
        return StoreFileError(
            f"The store file {shown!r} is open read-only ({self.reason}): nothing was written "
            f"and nothing in it changed. Fix: {self.fix}."
        )


def reason(path: str, *, asked: bool = False) -> ReadOnly | None:
    """Why the store file ``path`` (a plain path or a ``file:`` URI) can only be read, or
    ``None``: asked (``asked``: ``read_only=True`` or ``mode=ro`` in a store URL; ``mode=ro`` or
    ``immutable=1`` in its URI), a read-only file system, or a file or folder this user cannot
    write (SQLite keeps its ``-wal`` and ``-shm`` files beside it)."""
    if path.startswith("file:"):
        query = _query(path)
        if query.get("mode") == "ro":
            return ReadOnly("mode=ro in its URI", "open it without mode=ro to write", True)
        if query.get("immutable", "0").lower() not in _OFF:
            return ReadOnly("immutable=1 in its URI", "open it without immutable=1 to write", True)
    if asked:
        return ReadOnly(
            "opened with read_only=True or mode=ro in its store URL",
            "open it without read_only=True (or mode=ro) to write",
            True,
        )
    if path.startswith("file:") or path == ":memory:" or not os.path.isfile(path):
        return None
    if read_only_file_system(path):
        return ReadOnly("it is on a read-only file system", _COPY_FIX, False)
    if not os.access(path, os.W_OK):
        return ReadOnly("this user cannot write it", _COPY_FIX, False)
    if not os.access(_folder(path), os.W_OK):
        return ReadOnly(
            "this user cannot write its folder, where SQLite keeps its -wal and -shm files",
            _COPY_FIX,
            False,
        )
    return None


def uri_to_open(path: str, ro: ReadOnly) -> str:
    """The ``file:`` URI SQLite reads the read-only store file ``path`` (as the user named it)
    with, after checking it exists; logs how it is read when that was not asked for, or when it
    is read with ``immutable=1``."""
    if path == ":memory:":
        raise ConfigurationError(
            "SqliteStore(':memory:', read_only=True): a new in-memory database is empty, so "
            "there is nothing to read; name a store file, or leave read_only=True (or mode=ro) out."
        )
    missing = missing_error(path, ro)
    if missing is not None:
        raise missing
    if path.startswith("file:"):
        return with_mode_ro(path)
    uri = read_only_uri(path)
    if uri.endswith("immutable=1"):
        immutable_warning(path, ro)
    elif not ro.asked:
        logger.warning(
            "langmem: the store file %r is read-only (%s): opened for reading only (mode=ro); "
            "writes raise StoreFileError.",
            path,
            ro.reason,
        )
    return uri


def read_only_uri(path: str) -> str:
    """A ``file:`` URI reading the plain path ``path`` read-only: ``mode=ro``, or ``immutable=1``
    when ``mode=ro`` cannot work there (see :func:`needs_immutable`)."""
    flag = "immutable=1" if needs_immutable(path) else "mode=ro"
    return f"{Path(path).resolve().as_uri()}?{flag}"


def with_mode_ro(uri: str) -> str:
    """The ``file:`` URI ``uri`` with ``mode=ro`` (for ``read_only=True``)."""
    if reason(uri) is not None:
        return uri
    return f"{uri}{'&' if '?' in uri else '?'}mode=ro"


def needs_immutable(path: str) -> bool:
    """Whether SQLite cannot read the plain path ``path`` with ``mode=ro``: it is in WAL mode,
    neither its ``-wal`` nor its ``-shm`` file exists, and this user cannot make the ``-shm``
    file beside it (a read-only file system, or a folder this user cannot write)."""
    if any(os.path.exists(f"{path}{suffix}") for suffix in ("-wal", "-shm")):
        return False  # a process may have it open: read it as a reader, never as immutable
    if not _wal_mode(path):
        return False  # a rollback-journal file needs no -shm to be read
    return read_only_file_system(path) or not os.access(_folder(path), os.W_OK)


def immutable_warning(shown: str, ro: ReadOnly) -> None:
    """Log that ``shown`` is read with ``immutable=1``, what that risks, and how to avoid it."""
    logger.warning(
        "langmem: the store file %r is read-only (%s) and SQLite cannot read it with mode=ro "
        "here (it cannot make the -shm file a WAL file needs beside it), so it is opened with "
        "immutable=1, which takes the file as unchanging: if another process writes it while "
        "this store is open, reads may give wrong results or errors (SQLITE_CORRUPT). To avoid "
        "that, copy the file where this user can write and open the copy, or open it where it "
        "can be written (a writable folder, or a read-write mount).",
        shown,
        ro.reason,
    )


def missing_error(path: str, ro: ReadOnly) -> StoreFileError | None:
    """The error for a read-only open of a file that does not exist (``None`` when it does)."""
    file = file_of(path)
    if "mode=memory" in path or os.path.exists(file):
        return None
    where = str(Path(file).absolute())
    found = "" if where == path else f" ({where!r} was not found)"
    return StoreFileError(
        f"The store file {path!r} does not exist{found}, and it is to be opened read-only "
        f"({ro.reason}), so it cannot be created. "
        "Nothing was created. Fix: check the path and name an existing store file, or open it "
        "without read_only=True / mode=ro to create it."
    )


def cannot_read_fix(path: str) -> str:
    """The fix when SQLite cannot read the read-only file ``path`` (a plain path or URI)."""
    file = file_of(path)
    wal = os.path.exists(f"{file}-wal")
    return (
        "SQLite cannot read this WAL file read-only here: it needs a -shm file beside it, which "
        "this user cannot make (a read-only file system, or a folder this user cannot write)"
        + (
            "; a -wal file is there (another process may be writing the file, or it was not "
            "closed cleanly), so langmem does not read it with immutable=1, which would miss or "
            "garble those changes"
            if wal
            else ""
        )
        + ". Copy the file"
        + (" with its -wal file" if wal else "")
        + " where this user can write and open the copy, or open it where it can be written"
        + (
            "; if nobody writes it, the plain path with read_only=True reads it (with "
            "immutable=1, and a warning)"
            if not wal and path.startswith("file:")
            else ""
        )
    )


def file_of(path: str) -> str:
    """The file a plain path or ``file:`` URI names."""
    return unquote(urlsplit(path).path) if path.startswith("file:") else path


def read_only_file_system(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): os.access tells
        return False


def _query(uri: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(uri).query).items()}


def _folder(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))


def _wal_mode(path: str) -> bool:
    """Whether the SQLite file's header says WAL mode (read and write versions 2)."""
    try:
        with open(path, "rb") as file:
            header = file.read(20)
    except OSError:
        return True  # cannot tell: assume langmem's mode
    return len(header) < 20 or header[18:20] == b"\x02\x02"
