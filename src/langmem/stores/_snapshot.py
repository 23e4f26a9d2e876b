"""A copy of the vector matrix beside the store file, so a new process loads it in one read.

Loading 100k vector rows from SQLite costs a new process about a third of a second (a Python
object per row and column); reading the same rows as a few arrays from one file costs a tenth of
that. So a handle that loaded a large matrix from SQLite writes what it loaded (normalised
vectors, ids, namespaces, text lengths, texts and their words split by ``_words``, each
item's thread and time when they were loaded, ``_origins``, and the word postings of the
lexical side when they were built, ``_lexicon``) to ``<store file>-lmmatrix``; the
next process reads that file, then applies the change logs after it, as a running process does.

The file is a cache, never the truth: it is used only when, inside the reading transaction, the
random token it carries equals the one recorded in ``langmem_meta`` when it was written (so a
half-written file, a restored backup or another database at the same path are never used), the
recorded index (embedder, dims, fields, re-embed generation) and the length analyzer match, and
every change after it is still in the log. Otherwise the matrix is loaded from SQLite as before
(and the file rewritten). Deleting the file is always safe; ``LANGMEM_MATRIX_CACHE=0`` turns it
off. Stores with fewer than :data:`MIN_ROWS` texts load fast enough without it.

Damage is detected, not trusted (format 5): the header carries a CRC-32 of itself and, for each
section of the file (vectors, ids, texts, words, origins, postings), a checksum of its bytes,
verified as the section is read (:class:`Sum`). A file whose header or any section does not
match, that is shorter or longer than its header says, or that is not a matrix cache at all, is
not used: the matrix is loaded from SQLite, a warning names the file and the damaged part, and
the file is written again (by the next handle that can write; nothing stored changes). Every
load verifies every byte it uses, so this holds for read-only handles and for files several
processes share (each replaces the file whole, with ``os.replace``). A file of an older format
is rebuilt without a warning; older langmem versions do not read this format (its magic
differs) and rebuild it in theirs.

Why this checksum (``bench/matrix_cache.py``): at 100k 384-d rows the file is ~184 MB and its
read alone costs ~40 ms of CPU; verified while each piece is still in the CPU cache, a CRC-32
costs ~+44 ms, Adler-32 ~+52 ms, a word-weighted two-term sum ~+15 ms, :class:`Sum` ~+7 ms and
a plain sum ~+5 ms (whole loads, two runs: 1.02-1.14x). A stamp of the file's size, mtime and
inode recorded in the database would skip the check, but misses damage that keeps those (disk
errors, blocks zero-filled by a crash) and needs another database write that read-only
handles cannot make.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import uuid
import zlib
from io import BufferedReader
from pathlib import Path
from typing import Any

import numpy as np

from langmem.stores import _identity, _lengths
from langmem.stores._origins import ItemOrigins
from langmem.stores._vectors import Saved, VectorIndex

logger = logging.getLogger("langmem.stores")

SUFFIX = "-lmmatrix"
META_KEY = "matrix_cache"
ENV = "LANGMEM_MATRIX_CACHE"
MIN_ROWS = 20_000
"""Stores with fewer texts are not cached (SQLite loads them in a few tens of milliseconds)."""
STALE_SHARE = 0.25
"""A cache that needed more changes than this share of its rows is written again."""
_FAMILY = b"LMMATRX"
_MAGIC = _FAMILY + b"5"
"""2: with each text's words (``_words``); 3: items' origins (``_origins``); 4: the word
postings of the in-memory lexical side (``_lexicon``); 5: a CRC-32 of the header and a
checksum of each section. A file of another format is not read: the matrix is loaded from
SQLite and the file written again in this one."""
_ALIGN = 64  # the matrix starts on a cache line (a file that can be mapped as it is)
_PREFIX = len(_MAGIC) + 8 + 8  # magic, header length, header CRC-32
_CHUNK = 1 << 19  # bytes read (and summed while in the CPU cache) at a time
_OFF = frozenset({"0", "false", "no", "off", "none", "disabled"})


class Damaged(ValueError):
    """The cache file is not what its writer wrote (which part is in the message)."""


class Sum:
    """A two-term checksum of a byte string, Fletcher-style over 4 KB pages, at memory speed.

    ``first`` is the sum of all its 64-bit little-endian words, ``second`` the sum of each
    page's word sum times the page's position (1, 2, ...), both modulo 2**64; the last page is
    padded with zeros. Every change inside one word changes ``first``; random damage goes
    unnoticed with odds of about 2**-64 per term; pages swapped or written at the wrong place
    change ``second``. It is not a cryptographic hash (a cache needs none: whoever can write the
    file can write the database). Feed it the bytes in pieces of whole pages (the last piece
    may be shorter).
    """

    PAGE = 4096
    _WORDS = PAGE // 8
    _MASK = (1 << 64) - 1
    _positions = np.arange(1, 129, dtype=np.uint64)  # 1, 2, ...: grown when needed

    def __init__(self) -> None:
        self.first = 0
        self.second = 0
        self._pages = 0  # pages added so far; -1 after a piece that was not whole pages

    def update(self, data: Any) -> None:
        """Add the bytes of ``data`` (a bytes-like object) after those added so far."""
        if self._pages < 0:
            raise ValueError("Sum.update after a piece that was not whole pages")
        raw = np.frombuffer(data, dtype=np.uint8)
        whole = len(raw) - len(raw) % self.PAGE
        if whole:
            self._add(raw[:whole].view("<u8").reshape(-1, self._WORDS).sum(axis=1))
        if whole < len(raw):
            tail = np.zeros(self.PAGE, dtype=np.uint8)
            tail[: len(raw) - whole] = raw[whole:]
            self._add(tail.view("<u8").reshape(1, -1).sum(axis=1))
            self._pages = -1

    def _add(self, pages: Any) -> None:
        """Add the word sums of the next pages."""
        count = len(pages)
        positions = Sum._positions  # read once: another thread may replace it meanwhile
        if len(positions) < count:
            positions = Sum._positions = np.arange(1, 2 * count + 1, dtype=np.uint64)
        total = int(pages.sum())
        weighted = int((pages * positions[:count]).sum()) + self._pages * total
        self.first = (self.first + total) & self._MASK
        self.second = (self.second + weighted) & self._MASK
        self._pages += count

    def value(self) -> list[int]:
        return [self.first, self.second]


def checksum(data: Any) -> list[int]:
    """:class:`Sum` of one bytes-like object."""
    summed = Sum()
    summed.update(data)
    return summed.value()


def cache_path(store_path: str) -> Path | None:
    """Where a store file's cache lives; ``None`` for in-memory databases or when turned off."""
    if os.environ.get(ENV, "").strip().lower() in _OFF:
        return None
    if store_path == ":memory:" or store_path.startswith("file:"):
        return None
    return Path(store_path + SUFFIX)


def _index(conn: sqlite3.Connection) -> str | None:
    row = conn.execute(
        "SELECT value FROM langmem_meta WHERE key = ?", (_identity.META_KEY,)
    ).fetchone()
    return None if row is None else str(row[0])


def load(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    path: Path,
    origins: ItemOrigins | None = None,
    *,
    rewrite: bool = True,
) -> int | None:
    """Inside a read transaction: install the cached matrix if it is valid for this snapshot of
    the file and undamaged; returns the last change it reflects, or ``None`` (nothing
    installed; a damaged file is logged as a warning, see the module's docstring; ``rewrite``:
    whether this handle writes a new one). The items' origins saved with it go into
    ``origins`` (which brings them up to date on use, or reads them all again when the item
    log no longer reaches back to them)."""
    row = conn.execute("SELECT value FROM langmem_meta WHERE key = ?", (META_KEY,)).fetchone()
    if row is None:
        return None
    try:
        with open(path, "rb") as stream:
            header, start = _header(stream)
            if header is None:
                return None  # another format: rebuilt in this one
            low, high = conn.execute("SELECT MIN(seq), MAX(seq) FROM langmem_changes").fetchone()
            seq = int(header["seq"])
            valid = (
                header["token"] == row[0]
                and header["index"] == _index(conn)
                and header["dims"] == vectors.dims
                and header["analyzer"] == _lengths.analyzer()
                and high is not None
                and seq <= high
                and low <= seq + 1  # every change after the cache is still in the log
            )
            if not valid:
                return None
            saved, kept = _arrays(stream, header, start, vectors.dims)
    except Damaged as exc:
        then = "a new one will be written" if rewrite else "this handle cannot write a new one"
        logger.warning(
            "langmem: the matrix cache %s is damaged (%s) and was not used: the vectors were "
            "loaded from the database instead, and %s. Nothing stored is affected.",
            path,
            exc,
            then,
        )
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        if not isinstance(exc, FileNotFoundError):
            logger.debug("langmem: matrix cache %s not used: %r", path, exc)
        return None
    vectors.install(saved)
    if kept is not None and origins is not None:
        origins.install(*kept)
    return seq


def _header(stream: BufferedReader) -> tuple[dict[str, Any] | None, int]:
    """The header (``None`` for a file of another format), and where the arrays start."""
    magic = stream.read(len(_MAGIC))
    if magic != _MAGIC:
        if len(magic) == len(_MAGIC) and magic.startswith(_FAMILY) and magic[-1:].isdigit():
            return None, 0
        raise Damaged("it does not start as a langmem matrix cache")
    size = int.from_bytes(stream.read(8), "little")
    crc = int.from_bytes(stream.read(8), "little")
    if size > os.fstat(stream.fileno()).st_size:
        raise Damaged("its header length is past the end of the file")
    encoded = stream.read(size)
    if zlib.crc32(encoded) != crc:
        raise Damaged("its header does not match its CRC-32")
    header = json.loads(encoded.decode("utf-8"))
    if not isinstance(header, dict):
        raise Damaged("its header is not an object")
    return header, _aligned(_PREFIX + size)


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


Kept = tuple[Any, Any, list[str], int]
"""Items' times, thread codes, thread names, and the last item change they reflect."""

Section = tuple[str, Any, Any]
"""A part of the file: its name, its numpy dtype (``None``: bytes) and its shape."""


def _sections(header: dict[str, Any], dims: int) -> list[Section]:
    """The file's sections after the header, in order."""
    rows = int(header["rows"])
    sections: list[Section] = [
        ("vectors", np.float32, (rows, dims)),
        ("vector ids", np.int64, rows),
        ("item ids", np.int64, rows),
        ("namespace ids", np.int32, rows),
        ("text lengths", np.int64, rows),
        ("text offsets", np.int64, rows + 1),
        ("texts", None, int(header["text_bytes"])),
        ("word counts", np.int32, rows),
        ("word ids", np.int32, int(header["words"])),
        ("vocabulary", None, int(header["vocabulary_bytes"])),
    ]
    origins = header["origins"]
    if origins is not None:
        items = int(origins["size"])
        sections += [("item times", np.float64, items), ("item threads", np.int32, items)]
    postings = header["postings"]
    if postings is not None:
        entries, known = int(postings["entries"]), int(postings["vocabulary"])
        sections += [
            ("posting words", np.int32, entries),
            ("posting rows", np.int32, entries),
            ("posting starts", np.int64, known + 1),
            ("document frequencies", np.int64, known),
        ]
    return sections


def _nbytes(section: Section) -> int:
    _, dtype, shape = section
    return int(np.prod(shape)) * (1 if dtype is None else np.dtype(dtype).itemsize)


def layout(path: Path, dims: int) -> dict[str, tuple[int, int]]:
    """Where each part of a cache file lives: name -> (offset, size in bytes); the header's
    JSON text is ``"header"`` (for tests and benches)."""
    with open(path, "rb") as stream:
        header, start = _header(stream)
        stream.seek(len(_MAGIC))
        size = int.from_bytes(stream.read(8), "little")
    if header is None:
        raise ValueError(f"{path} is a matrix cache of another format")
    parts = {"header": (_PREFIX, size)}
    for section in _sections(header, dims):
        parts[section[0]] = (start, _nbytes(section))
        start += _nbytes(section)
    return parts


def _arrays(
    stream: BufferedReader, header: dict[str, Any], start: int, dims: int
) -> tuple[Saved, Kept | None]:
    sections = _sections(header, dims)
    sums = header["sums"]
    if not isinstance(sums, dict) or set(sums) != {name for name, _, _ in sections}:
        raise Damaged("its header does not list the checksums of its sections")
    total = start + sum(_nbytes(section) for section in sections)
    size = os.fstat(stream.fileno()).st_size
    if size != total:
        raise Damaged(f"it holds {size:,} bytes where its header says {total:,}")
    stream.seek(start)
    read: dict[str, Any] = {}
    for name, dtype, shape in sections:
        summed = Sum()
        if dtype is None:
            data: Any = stream.read(shape)
            if len(data) != shape:
                raise Damaged("it ends early")
            summed.update(data)
        else:
            # read into the process's own memory, not mapped: anonymous memory gets huge
            # pages, so every later scan of the matrix is as fast as after a load from SQLite;
            # in pieces, each summed while it is still in the CPU cache
            data = np.empty(shape, dtype=dtype)
            view = memoryview(data.reshape(-1).view(np.uint8))
            for at in range(0, len(view), _CHUNK):
                piece = view[at : at + _CHUNK]
                if stream.readinto(piece) != len(piece):
                    raise Damaged("it ends early")
                summed.update(piece)
        if summed.value() != sums[name]:
            raise Damaged(f"its {name} do not match their checksum")
        read[name] = data
    kept: Kept | None = None
    origins = header["origins"]
    if origins is not None:
        names = [str(name) for name in origins["names"]]
        kept = (read["item times"], read["item threads"], names, int(origins["seq"]))
    lexicon = None
    if header["postings"] is not None:
        lexicon = (
            read["posting words"],
            read["posting rows"],
            read["posting starts"],
            read["document frequencies"],
        )
    vocabulary = read["vocabulary"].decode("utf-8")
    return Saved(
        prefixes=list(header["prefixes"]),
        vector_ids=read["vector ids"],
        item_ids=read["item ids"],
        namespace_ids=read["namespace ids"],
        lengths=read["text lengths"],
        offsets=read["text offsets"],
        matrix=read["vectors"],
        texts=read["texts"],
        word_counts=read["word counts"],
        word_ids=read["word ids"],
        vocabulary=vocabulary.split("\n") if vocabulary else [],  # words hold no whitespace
        postings=lexicon,
    ), kept


def save(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    path: Path,
    seq: int,
    origins: ItemOrigins | None = None,
) -> bool:
    """Record a new token, then write the cache of ``vectors`` (as of change ``seq``) with it,
    and the items' origins when they are loaded.

    Call it outside any transaction. Best effort: returns ``False`` when the database cannot
    take the token (read-only, busy) or the file cannot be written; the next process then
    loads from SQLite and tries again. The token goes first, so a file that cannot be recorded
    is never written, and a reader that sees the new token before the file is in place finds
    the old file's token, not this one, and loads from SQLite.
    """
    token = uuid.uuid4().hex
    if not _record(conn, token, path):
        return False
    saved = vectors.saved()
    vocabulary = "\n".join(saved.vocabulary).encode("utf-8")
    header: dict[str, Any] = {
        "token": token,
        "seq": seq,
        "index": _index(conn),
        "dims": vectors.dims,
        "analyzer": _lengths.analyzer(),
        "rows": len(saved.vector_ids),
        "prefixes": saved.prefixes,
        "text_bytes": len(saved.texts),
        "words": len(saved.word_ids),
        "vocabulary_bytes": len(vocabulary),
        "origins": None,
        "postings": None,
    }
    data: dict[str, Any] = {
        "vectors": saved.matrix,
        "vector ids": saved.vector_ids,
        "item ids": saved.item_ids,
        "namespace ids": saved.namespace_ids,
        "text lengths": saved.lengths,
        "text offsets": saved.offsets,
        "texts": saved.texts,
        "word counts": saved.word_counts,
        "word ids": saved.word_ids,
        "vocabulary": vocabulary,
    }
    kept = origins if origins is not None and origins.loaded and origins.usable else None
    if kept is not None:
        header["origins"] = {"size": len(kept.times), "names": kept.names, "seq": kept.seq}
        data["item times"], data["item threads"] = kept.times, kept.threads
    if saved.postings is not None:
        words, rows, first, df = saved.postings
        header["postings"] = {"entries": len(words), "vocabulary": len(df)}
        data["posting words"], data["posting rows"] = words, rows
        data["posting starts"], data["document frequencies"] = first, df
    # the sections' order and types are _sections' (what load reads), not listed again here
    sections = _sections(header, vectors.dims)
    parts = [
        data[name] if dtype is None else np.ascontiguousarray(data[name], dtype=dtype)
        for name, dtype, _ in sections
    ]
    header["sums"] = {name: checksum(part) for (name, _, _), part in zip(sections, parts)}
    encoded = json.dumps(header).encode("utf-8")
    temporary = path.with_name(f"{path.name}.{token}.tmp")
    try:
        with open(temporary, "wb") as stream:
            head = _MAGIC + len(encoded).to_bytes(8, "little")
            head += zlib.crc32(encoded).to_bytes(8, "little") + encoded
            stream.write(head + b"\0" * (_aligned(len(head)) - len(head)))
            for part in parts:
                stream.write(part.data if isinstance(part, np.ndarray) else part)
        os.replace(temporary, path)
    except OSError as exc:
        logger.debug("langmem: cannot write the matrix cache %s: %s", path, exc)
        temporary.unlink(missing_ok=True)
        return False
    return True


def _record(conn: sqlite3.Connection, token: str, path: Path) -> bool:
    """Record ``token`` as the valid cache's, waiting at most 50 ms for the write lock."""
    busy = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 50")
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT OR REPLACE INTO langmem_meta (key, value) VALUES (?, ?)", (META_KEY, token)
        )
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        logger.debug("langmem: matrix cache %s not recorded: %s", path, exc)
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(busy)}")
    return True
