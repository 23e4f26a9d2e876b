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
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import uuid
from pathlib import Path
from typing import IO, Any

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
_MAGIC = b"LMMATRX4"
"""2: with each text's words (``_words``); 3: items' origins (``_origins``); 4: the word
postings of the in-memory lexical side (``_lexicon``). A file of another format is not read:
the matrix is loaded from SQLite and the file written again in this one."""
_ALIGN = 64  # the matrix starts on a cache line (a file that can be mapped as it is)
_OFF = frozenset({"0", "false", "no", "off", "none", "disabled"})


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
) -> int | None:
    """Inside a read transaction: install the cached matrix if it is valid for this snapshot of
    the file; returns the last change it reflects, or ``None`` (nothing installed). The items'
    origins saved with it go into ``origins`` (which brings them up to date on use, or reads
    them all again when the item log no longer reaches back to them)."""
    row = conn.execute("SELECT value FROM langmem_meta WHERE key = ?", (META_KEY,)).fetchone()
    if row is None:
        return None
    try:
        with open(path, "rb") as stream:
            header, start = _header(stream)
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
    except (OSError, ValueError, KeyError, TypeError):
        return None
    vectors.install(saved)
    if kept is not None and origins is not None:
        origins.install(*kept)
    return seq


def _header(stream: IO[bytes]) -> tuple[dict[str, Any], int]:
    """The header, and where the arrays start."""
    if stream.read(len(_MAGIC)) != _MAGIC:
        raise ValueError("not a langmem matrix cache")
    size = int.from_bytes(stream.read(8), "little")
    header: dict[str, Any] = json.loads(stream.read(size).decode("utf-8"))
    return header, _aligned(len(_MAGIC) + 8 + size)


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


Kept = tuple[Any, Any, list[str], int]
"""Items' times, thread codes, thread names, and the last item change they reflect."""


def _arrays(
    stream: IO[bytes], header: dict[str, Any], start: int, dims: int
) -> tuple[Saved, Kept | None]:
    rows = int(header["rows"])
    matrix_bytes = rows * dims * 4
    text_bytes = int(header["text_bytes"])
    words, vocabulary_bytes = int(header["words"]), int(header["vocabulary_bytes"])
    origins = header["origins"]
    items = int(origins["size"]) if origins is not None else 0
    postings = header["postings"]
    entries = int(postings["entries"]) if postings is not None else 0
    known = int(postings["vocabulary"]) if postings is not None else 0
    total = start + matrix_bytes + rows * (8 + 8 + 4 + 8) + (rows + 1) * 8 + text_bytes
    total += rows * 4 + words * 4 + vocabulary_bytes + items * (8 + 4)
    if postings is not None:
        total += entries * (4 + 4) + (known + 1) * 8 + known * 8
    if os.fstat(stream.fileno()).st_size != total:
        raise ValueError("truncated matrix cache")
    stream.seek(start)

    def read(dtype: Any, shape: Any) -> Any:
        # read into the process's own memory, not mapped: anonymous memory gets huge pages, so
        # every later scan of the matrix is as fast as after a load from SQLite
        array = np.empty(shape, dtype=dtype)
        if stream.readinto(memoryview(array.data).cast("B")) != array.nbytes:  # type: ignore[attr-defined]
            raise ValueError("truncated matrix cache")
        return array

    matrix = read(np.float32, (rows, dims))
    vector_ids = read(np.int64, rows)
    item_ids = read(np.int64, rows)
    namespace_ids = read(np.int32, rows)
    lengths = read(np.int64, rows)
    offsets = read(np.int64, rows + 1)
    texts = stream.read(text_bytes)
    word_counts = read(np.int32, rows)
    word_ids = read(np.int32, words)
    vocabulary = stream.read(vocabulary_bytes).decode("utf-8")
    kept: Kept | None = None
    if origins is not None:
        times = read(np.float64, items)
        threads = read(np.int32, items)
        kept = (times, threads, [str(name) for name in origins["names"]], int(origins["seq"]))
    lexicon = None
    if postings is not None:
        lexicon = (
            read(np.int32, entries),
            read(np.int32, entries),
            read(np.int64, known + 1),
            read(np.int64, known),
        )
    return Saved(
        prefixes=list(header["prefixes"]),
        vector_ids=vector_ids,
        item_ids=item_ids,
        namespace_ids=namespace_ids,
        lengths=lengths,
        offsets=offsets,
        matrix=matrix,
        texts=texts,
        word_counts=word_counts,
        word_ids=word_ids,
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
    header = {
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
    if saved.postings is not None:
        header["postings"] = {
            "entries": len(saved.postings[0]),
            "vocabulary": len(saved.postings[3]),
        }
    kept = origins if origins is not None and origins.loaded and origins.usable else None
    if kept is not None:
        header["origins"] = {"size": len(kept.times), "names": kept.names, "seq": kept.seq}
    encoded = json.dumps(header).encode("utf-8")
    temporary = path.with_name(f"{path.name}.{token}.tmp")
    try:
        with open(temporary, "wb") as stream:
            head = _MAGIC + len(encoded).to_bytes(8, "little") + encoded
            stream.write(head + b"\0" * (_aligned(len(head)) - len(head)))
            for array in (
                saved.matrix,
                saved.vector_ids,
                saved.item_ids,
                saved.namespace_ids,
                saved.lengths,
                saved.offsets,
            ):
                stream.write(np.ascontiguousarray(array).data)
            stream.write(saved.texts)
            stream.write(np.ascontiguousarray(saved.word_counts, dtype=np.int32).data)
            stream.write(np.ascontiguousarray(saved.word_ids, dtype=np.int32).data)
            stream.write(vocabulary)
            if kept is not None:
                stream.write(np.ascontiguousarray(kept.times, dtype=np.float64).data)
                stream.write(np.ascontiguousarray(kept.threads, dtype=np.int32).data)
            if saved.postings is not None:
                words, rows, first, df = saved.postings
                stream.write(np.ascontiguousarray(words, dtype=np.int32).data)
                stream.write(np.ascontiguousarray(rows, dtype=np.int32).data)
                stream.write(np.ascontiguousarray(first, dtype=np.int64).data)
                stream.write(np.ascontiguousarray(df, dtype=np.int64).data)
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
