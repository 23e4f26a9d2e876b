"""The embedded default store: a LangGraph ``BaseStore`` in one SQLite file.

Standard-library ``sqlite3`` only (no loadable extension). Writes run in ``BEGIN IMMEDIATE``
transactions (WAL mode, so readers never wait), roll back on any error, and cascade deletes
through foreign keys. Embeddings are computed before a transaction opens, and the vector of a
text already stored is reused instead of recomputed. Search is exact: every vector lives in a
numpy matrix, loaded by the first ranked read (from the matrix cache beside the file when it is
valid: ``_snapshot``), kept current on writes and refreshed from a change log when another
process wrote.
Queries are answered by hybrid ranking, dense cosine fused with BM25 (see ``ranking``).

This module is the store's spine: connection and transactions, index configuration, the vector
matrix, and ``batch``/``abatch``. The work of a batch lives beside it: ``_writes`` (planning,
vector reuse, applying puts and deletes), ``_reads`` (get, search, namespaces), ``_ttl``;
``_identity`` (the index recorded in the file, checked in every transaction that embeds or
ranks), ``_reembed`` (changing it) and ``_connection`` (opening the file, clear errors).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgraph.store.base import (
    BaseStore,
    IndexConfig,
    Item,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)

from langmem._flow import run_async, run_sync
from langmem.embeddings._default import embeddings_id
from langmem.errors import ConfigurationError, IndexMismatchError, StoreFileError
from langmem.stores import (
    _identity,
    _legacy_numbers,
    _ranking_arg,
    _read_only,
    _reads,
    _reembed,
    _rerank,
    _search,
    _snapshot,
    _term_docs,
    _ttl,
    _writes,
)
from langmem.stores._connection import connect, file_error
from langmem.stores._origins import ItemOrigins
from langmem.stores._search import Forms
from langmem.stores._sync import sync_vectors
from langmem.stores._vectors import VectorIndex
from langmem.stores.ranking import Explanation, Ranking

if TYPE_CHECKING:
    import numpy as np
    from langchain_core.embeddings import Embeddings
    from numpy.typing import NDArray

    from langmem.tasks import TaskQueue

logger = logging.getLogger("langmem.stores")

_LOG_KEEP = 100_000  # change-log rows kept; a reader further behind reloads everything


class SqliteStore(BaseStore):
    """A LangGraph ``BaseStore`` in one SQLite file, with exact hybrid search and TTL.

    Every ``BaseStore`` operation works, sync and async. Another process using the same file
    sees each write at once. ``index`` works as LangGraph defines it (``dims``, ``embed``,
    ``fields``; ``put(..., index=[...])`` / ``index=False`` per item); when ``embed`` is left
    out, local MiniLM embeddings are used.

    Index identity: the file records the embedder, dims and fields of its vectors. Opening it
    with another ``index`` raises :class:`~langmem.errors.IndexMismatchError` (naming both), and
    a handle whose file was re-embedded by another handle or process refuses to rank or write
    with its old model. To change the index, call :meth:`reembed`. Opened without ``index``, a
    handle adopts the file's when langmem can build its embedder (its hashing or MiniLM
    models), else it refuses writes that would leave stale vectors.

    Scores: with a query, ``SearchItem.score`` of the default hybrid search is in ``[0, 1]``,
    higher is better: ``0.8 * clip(cosine, 0, 1) + 0.2 * BM25`` normalised by the query's IDF
    mass (stemmed words, stop words dropped), plus a pull towards a better same-thread item
    written within five minutes; see :mod:`langmem.stores.ranking`. With ``hybrid=False`` the
    score is the plain cosine, in ``[-1, 1]``. Without a query, results come newest first,
    unscored. :meth:`explain` shows each score's parts.

    Args:
        path: the database file; ``":memory:"`` for a private in-memory database. By default
            ``$LANGMEM_STORE`` when it names a SQLite file, else ``memories.sqlite`` in the user
            data folder (``LANGMEM_HOME``).
        index: vector index configuration (``dims``, ``embed``, ``fields`` or LangGraph's
            ``text_fields``), or ``None``: the file's recorded index when langmem can build it,
            else no search by meaning (queries are then ignored, as in LangGraph's stores).
        ttl: LangGraph TTL configuration (``default_ttl``, ``refresh_on_read``,
            ``sweep_interval_minutes``, ``omit_expired``). Expired items are not returned unless
            ``omit_expired=False``; sweeping deletes them.
        hybrid: fuse word matches (SQLite FTS5) with the dense ranking when a query is given
            (default ``True``); ``False`` ranks by cosine only.
        ranking: the hybrid ranking's parameters (:class:`~langmem.stores.ranking.Ranking`:
            fusion weight, BM25 ``k1``/``b``, same-thread and recency boosts); the default
            when ``None``. Also settable later as the ``ranking`` attribute.
        timeout: seconds a write waits for another writer's lock before failing.
        read_only: open the file for reading only (it must exist): every write raises
            :class:`~langmem.errors.StoreFileError` before anything is embedded, and nothing in
            the file changes (no TTL refresh on read, no sweeper, no matrix cache written). A
            file on a read-only file system, or that this user cannot write, is opened so by
            itself (logged). SQLite reads it with ``mode=ro`` (seeing other processes' writes),
            or with ``immutable=1`` when that cannot work (no ``-wal``/``-shm`` file beside it
            and none can be made), with a warning that writes by others while it is open may
            then give wrong results; see :attr:`read_only`.

    Example:
        >>> from langmem.embeddings import HashingEmbeddings
        >>> store = SqliteStore(":memory:", index={"dims": 64, "embed": HashingEmbeddings(64)})
        >>> store.put(("docs",), "a", {"text": "Alice moved to Lisbon in 2019"})
        >>> store.put(("docs",), "b", {"text": "Bob likes green tea"})
        >>> [hit.key for hit in store.search(("docs",), query="When did Alice move?", limit=1)]
        ['a']
    """

    supports_ttl = True

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        hybrid: bool = True,
        ranking: Ranking | None = None,
        timeout: float = 30.0,
        read_only: bool = False,
    ) -> None:
        from langmem.stores._open import default_sqlite_path

        chosen = str(path) if path is not None else str(default_sqlite_path())
        special = chosen == ":memory:" or chosen.startswith("file:")
        self.path = chosen if special else str(Path(chosen).expanduser())
        self.ttl_config = _ttl.checked_config(ttl)
        self.hybrid = hybrid
        self.ranking = _ranking_arg.checked(ranking, "SqliteStore")
        self._lock = threading.RLock()
        self._closed = False
        if not isinstance(read_only, bool):
            raise ConfigurationError(
                f"SqliteStore(read_only={read_only!r}): read_only is of type "
                f"{type(read_only).__name__}, not a bool (a string such as 'false' would count "
                "as true). Fix: pass read_only=True or read_only=False."
            )
        self._read_only = _read_only.reason(self.path, asked=read_only)  # why writes are refused
        self._uri = (
            self.path
            if self._read_only is None
            else _read_only.uri_to_open(self.path, self._read_only)
        )
        if self._read_only is None and not special:
            _make_folder(Path(self.path))
        self._conn = connect(
            self._uri, timeout, read_only=self._read_only is not None, shown=self.path
        )
        # values with NaN/Infinity an earlier version wrote: read in Python once met
        self._tolerance = _legacy_numbers.Tolerance(self._conn, self._lock, self.path)
        row = self._conn.execute("SELECT value FROM langmem_meta WHERE key = 'fts5'").fetchone()
        self._fts = row is not None and row[0] == "1"
        self.index_config: dict[str, Any] | None = None
        self.embeddings: Embeddings | None = None
        self._fields: _writes.IndexPaths = []
        self._vectors: VectorIndex | None = None
        self._loaded = False  # whether the matrix was loaded (on the first ranked read)
        # a copy of the matrix for new processes (read-only handles read it, never write it)
        self._cache = _snapshot.cache_path(self.path if self._read_only is None else self._file)
        self._cache_due = False  # the first load was slow: write the copy after the read
        self._cache_origins = True  # the copy holds the items' origins (or none was read)
        self._cache_postings = True  # the copy holds the word postings (or none were built)
        self._identity: _identity.IndexIdentity | None = None  # what this handle embeds with
        self._synced_generation = -1  # re-embed generation of the file the matrix reflects
        # The state of the file (see ``_state``) the matrix reflects, and the identity recorded
        # in the file at a known state: a ranked batch on an unchanged file skips both reads.
        self._synced_state: tuple[int, int] | None = None
        self._recorded: tuple[tuple[int, int], _identity.IndexIdentity | None, int] | None = None
        self._own_writes = 0  # write transactions this handle ran (data_version misses them)
        self._origins: _search.Origins = {}  # item -> thread and time, at ``_synced_state``
        self._item_origins = ItemOrigins()  # every item's thread and time, kept current
        self._term_forms: dict[str, Forms] = {}  # query term -> stored words (lexical IDF)
        self._last_seq = 0
        self._write_batches = 0  # counts batches with writes, to prune the change log now and then
        self._sweeper = _ttl.Sweeper()
        # a ranked search's cosines and top rows (its thread starts with the first one)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="langmem-dense")
        try:
            if index is not None:
                self._configure_index(index)
                self._claim()
            else:
                self._adopt()
        except BaseException:
            self.close()
            raise

    @property
    def read_only(self) -> bool:
        """Whether this store only reads its file (asked for, or the file cannot be written):
        every write then raises :class:`~langmem.errors.StoreFileError` before anything is
        embedded or changed."""
        return self._read_only is not None

    @property
    def _file(self) -> str:
        """The file this store reads (``":memory:"`` for an in-memory database)."""
        memory = self._uri == ":memory:" or "mode=memory" in self._uri
        return ":memory:" if memory else _read_only.file_of(self._uri)

    def _refuse_writes(self) -> None:
        """Refuse a write to a read-only file before anything is embedded or changed."""
        if self._read_only is not None:
            self._ensure_open()
            raise self._read_only.error(self.path)

    # ------------------------------------------------------------------ configuration

    def _configure_index(self, index: IndexConfig | dict[str, Any]) -> None:
        config, embeddings, identity = _identity.index_setup(index)
        self.embeddings = embeddings
        self._fields = _writes.index_paths(config["fields"])
        self.index_config = config
        self._vectors = VectorIndex(identity.dims)
        self._loaded = False
        self._term_forms.clear()
        self._last_seq = 0
        self._synced_state = None
        self._synced_generation = -1
        self._identity = identity

    def _claim(self) -> None:
        """Record this handle's index in the file, or refuse a file indexed otherwise."""
        wanted = self._identity
        assert wanted is not None
        with self._read() as conn:
            found, _ = _identity.recorded(conn)
        if found == wanted:  # the usual case: no write lock needed
            return
        if self._read_only is not None:  # nothing can be recorded: refuse only another index
            if found is not None and not found.same(wanted):
                raise _identity.mismatch(self.path, found, wanted)
            return  # a legacy record, or none (a file never indexed has no vectors to rank)
        with self._write() as conn:
            found, generation = _identity.recorded(conn)
            if found is not None and not found.same(wanted):
                raise _identity.mismatch(self.path, found, wanted)
            if found is None or found != wanted:
                _identity.record(conn, wanted, generation)

    def _adopt(self) -> None:
        """A handle opened without an index takes the file's, when langmem can rebuild its
        embeddings; otherwise its writes of indexed items are refused (see ``_check``)."""
        with self._read() as conn:
            found, _ = _identity.recorded(conn)
        if found is None:
            return
        embeddings = _identity.rebuild(found)
        if embeddings is not None:
            fields = list(found.fields) if found.fields else ["$"]
            self._configure_index({"dims": found.dims, "embed": embeddings, "fields": fields})

    def _check(
        self, conn: sqlite3.Connection, plan: _writes.Plan | None, *, ranks: bool = False
    ) -> bool:
        """Inside a transaction: refuse to rank or write with vectors of another index; when
        the batch ranks (``ranks``), bring the matrix to this very snapshot first, so scores
        and returned values always come from the same state of the file. The matrix is
        loaded by the first batch that ranks: until then nothing keeps it current.

        Returns whether writes must keep vector rows in line (the file has an index).
        """
        state = self._state(conn)
        found, generation = self._recorded_identity(conn, state)
        wanted = self._identity
        if wanted is not None:
            if found is not None and not found.same(wanted):
                raise _identity.mismatch(self.path, found, wanted, changed=True)
            stale = self._loaded and generation != self._synced_generation
            if self._vectors is not None and (ranks or stale):
                self._sync(conn, generation, state)
            return True
        if found is None:
            return False
        if plan is not None and any(
            w.op.value is not None and w.op.index is not False for w in plan.writes
        ):
            raise IndexMismatchError(
                f"The store file {self.path!r} is indexed with ({found.describe()}), but this "
                "handle was opened without an index and cannot embed texts for it, so writing "
                "would leave stale vectors; nothing was changed. Fix: open it with that index, "
                "e.g. SqliteStore(path, index={'dims': ..., 'embed': <that model>, "
                "'fields': [...]}), or put with index=False.",
                recorded=found.describe(),
                requested="no index",
            )
        return True

    def reembed(
        self,
        index: IndexConfig | dict[str, Any] | None = None,
        *,
        progress: Callable[[int, int], object] | None = None,
        batch_size: int = 64,
    ) -> int:
        """Re-embed every indexed item for ``index`` (default: this handle's), and record it.

        The explicit way to change a file's embedder, dims or fields. Texts are embedded in
        batches of ``batch_size`` outside any lock, calling ``progress(done, total)`` after each
        batch; then one write transaction swaps every vector (texts written meanwhile are
        embedded inside it) and records the new index. Until then, other handles keep working
        with the old vectors; afterwards, handles with another index refuse to rank or write
        (:class:`~langmem.errors.IndexMismatchError`) until reopened with the new index. When
        ``fields`` change, texts are taken from each item's value at the new fields; items that
        have no vectors (``put(..., index=False)``) stay unindexed.

        Returns:
            How many texts were embedded.

        Example:
            >>> from langmem.embeddings import HashingEmbeddings
            >>> store = SqliteStore(":memory:", index={"dims": 8, "embed": HashingEmbeddings(8)})
            >>> store.put(("a",), "1", {"text": "green tea"})
            >>> store.reembed({"dims": 16, "embed": HashingEmbeddings(16)})
            1
        """
        self._refuse_writes()
        if index is None:
            if self.index_config is None:
                raise ConfigurationError(
                    f"reembed() on {self.path!r}: this handle has no index; pass one, e.g. "
                    "store.reembed({'dims': 384, 'embed': <embeddings>, 'fields': ['$']})."
                )
            index = self.index_config
        config, embeddings, identity = _identity.index_setup(index)
        fields = _writes.index_paths(config["fields"])
        size = max(1, int(batch_size))
        with self._read() as conn:
            texts = _reembed.texts(conn, fields, identity)
        vectors: dict[bytes, bytes] = {}
        pending = list(texts)
        total = len(pending)
        for start in range(0, total, size):
            chunk = pending[start : start + size]
            batch = [texts[h] for h in chunk]
            blobs = _writes.to_blobs(
                embeddings.embed_documents(batch), len(chunk), identity.dims, batch
            )
            vectors.update(zip(chunk, blobs))
            if progress is not None:
                progress(min(start + size, total), total)
        with self._lock, self._write() as conn:
            count = _reembed.swap(conn, fields, vectors, embeddings, identity)
        self._configure_index(config)
        self._refresh(force=True)
        return count

    def reindex(self) -> int:
        """Re-embed every stored text with this handle's index (see :meth:`reembed`)."""
        if self.index_config is None:
            return 0
        return self.reembed()

    # ------------------------------------------------------------------ connection helpers

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE``, commit, or roll back on any error."""
        with self._lock:
            self._refuse_writes()
            self._ensure_open()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                    _term_docs.fold(self._conn)  # word counts change with the texts
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                finally:
                    self._own_writes += 1  # committed or not: the next sync looks again
            except sqlite3.Error as exc:
                raise self._file_error(exc) from exc

    @contextmanager
    def _read(self, *, snapshot: bool = True) -> Iterator[sqlite3.Connection]:
        """One read transaction, so every op of a batch sees the same snapshot (``snapshot``:
        a lone op skips it; its few statements tolerate a concurrent commit)."""
        with self._lock:
            self._ensure_open()
            try:
                if not snapshot:
                    yield self._conn
                    return
                self._conn.execute("BEGIN")
                try:
                    yield self._conn
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                raise self._file_error(exc) from exc

    def _file_error(self, exc: sqlite3.Error) -> StoreFileError:
        return file_error(self._uri, exc, shown=self.path, read_only=self._read_only is not None)

    def _ensure_open(self) -> None:
        if self._closed:
            raise ConfigurationError(
                f"The store for {self.path!r} is closed: open a new SqliteStore to use it again."
            )

    def task_queue(self) -> TaskQueue:
        """A queue of background tasks in this store's file (durable), or in memory for
        ``":memory:"`` (a private database another connection cannot see) and for a read-only
        store (nothing is written to its file)."""
        from langmem.tasks import MemoryTaskQueue, SqliteTaskQueue

        self._ensure_open()
        if self._file == ":memory:" or self._read_only is not None:
            return MemoryTaskQueue()  # a read-only file is not written: the queue is in memory
        return SqliteTaskQueue(self._uri)

    def close(self) -> None:
        """Stop the TTL sweeper (if any) and close the database connection."""
        self.stop_ttl_sweeper()
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()
                self._worker.shutdown()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ vector matrix sync

    def _refresh(self, *, force: bool = False) -> None:
        """Bring the matrix up to date with the file; cheap when nobody else wrote (nothing to
        do before the first ranked read loads it)."""
        if self._vectors is None or not self._loaded:
            return
        with self._lock:
            conn = self._conn
            if not force and self._state(conn) == self._synced_state:
                return
            conn.execute("BEGIN")
            try:
                state = self._state(conn)
                found, generation = self._recorded_identity(conn, state)
                if found is not None and self._identity and not found.same(self._identity):
                    return  # re-embedded elsewhere: the next op refuses
                if force:
                    self._synced_state = None
                self._sync(conn, generation, state)
            finally:
                conn.execute("COMMIT")

    def _state(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """Which state of the file this connection sees: ``PRAGMA data_version`` (it changes
        when another connection commits; inside a transaction it is that snapshot's) and the
        count of this handle's own write transactions (which data_version does not count)."""
        version: int = conn.execute("PRAGMA data_version").fetchone()[0]
        return version, self._own_writes

    def _recorded_identity(
        self, conn: sqlite3.Connection, state: tuple[int, int]
    ) -> tuple[_identity.IndexIdentity | None, int]:
        """The index identity recorded in the file at ``state`` (read again once it changed)."""
        known = self._recorded
        if known is not None and known[0] == state:
            return known[1], known[2]
        found, generation = _identity.recorded(conn)
        self._recorded = (state, found, generation)
        return found, generation

    def _sync(self, conn: sqlite3.Connection, generation: int, state: tuple[int, int]) -> None:
        """Apply the file's vector changes to the matrix, inside the caller's transaction
        (nothing to read when the file is still at the ``state`` last synced)."""
        assert self._vectors is not None
        cache = self._cache if not self._loaded else None
        cached = None
        if state != self._synced_state or cache is not None:
            self._origins.clear()  # values may change without their texts: any write counts
            self._item_origins.stale = True  # read the log of items written (on next use)
            cached = None
            if cache is not None:
                cached = _snapshot.load(
                    conn,
                    self._vectors,
                    cache,
                    self._item_origins,
                    rewrite=self._read_only is None,
                )
                self._cache_origins = self._item_origins.loaded
                self._cache_postings = self._vectors.lexicon.postings() is not None
            if cached is not None:
                self._last_seq = cached
            applied = sync_vectors(conn, self._vectors, self._last_seq)
            if applied is not None:
                self._last_seq = applied
                self._term_forms.clear()
        self._synced_state = state
        self._synced_generation = generation
        self._loaded = True
        if cache is not None and len(self._vectors) >= _snapshot.MIN_ROWS:
            behind = self._last_seq - (cached if cached is not None else 0)
            self._cache_due = cached is None or behind > _snapshot.STALE_SHARE * len(self._vectors)

    def _save_cache(self) -> None:
        """After a slow first load: write the matrix cache (outside any transaction)."""
        with self._lock:
            kept = self._item_origins
            # a cache written without the items' origins is written again once they are read
            if not self._cache_due and not self._cache_origins and kept.loaded and kept.usable:
                self._cache_origins = True
                self._cache_due = len(self._vectors or ()) >= _snapshot.MIN_ROWS
            vectors = self._vectors
            if (
                not self._cache_postings
                and not self._cache_due
                and vectors is not None
                and vectors.lexicon.postings() is not None
            ):
                self._cache_postings = True  # built since the copy was written: write them too
                self._cache_due = len(vectors) >= _snapshot.MIN_ROWS
            if self._read_only is not None:
                self._cache_due = False  # nothing is written beside a read-only file
            if self._cache_due and self._cache is not None and vectors is not None:
                self._cache_due = False
                _snapshot.save(self._conn, vectors, self._cache, self._last_seq, kept)
                self._cache_origins = kept.loaded and kept.usable
                self._cache_postings = vectors.lexicon.postings() is not None

    # ------------------------------------------------------------------ embedding

    def _dims(self) -> int:
        return self._vectors.dims if self._vectors is not None else 0

    def _embed_documents(self, texts: list[str]) -> list[bytes]:
        assert self.embeddings is not None
        vectors = self.embeddings.embed_documents(texts)
        return _writes.to_blobs(vectors, len(texts), self._dims(), texts)

    async def _aembed_documents(self, texts: list[str]) -> list[bytes]:
        assert self.embeddings is not None
        vectors = await self.embeddings.aembed_documents(texts)
        return _writes.to_blobs(vectors, len(texts), self._dims(), texts)

    # ------------------------------------------------------------------ batch entry points

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` as one batch: reads see the state before the batch's writes, and all
        writes commit together or not at all (with a re-ranker, see :mod:`._rerank`)."""
        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return self._batch(ops)
        inner = _rerank.Inner(self._batch, self._abatch)
        return _rerank.batch(ops, ranking, inner, self._rerank_fields())

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async :meth:`batch`: embeddings through the model's async API, SQLite in a thread."""
        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return await self._abatch(ops)
        inner = _rerank.Inner(self._batch, self._abatch)
        return await _rerank.abatch(ops, ranking, inner, self._rerank_fields())

    def _rerank_fields(self) -> _writes.IndexPaths | None:
        """The fields a re-ranker reads (``None`` without an index: nothing is ranked)."""
        return self._fields if self.index_config is not None and self.embeddings else None

    def _batch(self, ops: Iterable[Op]) -> list[Result]:
        plan = self._plan(ops)
        missing, blobs = self._lookup(plan)
        if missing:
            blobs.update(zip(missing, self._embed_documents([plan.texts[h] for h in missing])))
        queries = {
            q: _writes.query_vector(
                self.embeddings.embed_query(q),  # type: ignore[union-attr]
                self._dims(),
                q,
            )
            for q in plan.queries
        }
        return self._execute(plan, blobs, queries)

    async def _abatch(self, ops: Iterable[Op]) -> list[Result]:
        plan = self._plan(ops)
        missing, blobs = await asyncio.to_thread(self._lookup, plan)
        if missing:
            computed = await self._aembed_documents([plan.texts[h] for h in missing])
            blobs.update(zip(missing, computed))
        queries: dict[str, NDArray[np.float32]] = {}
        if plan.queries:
            assert self.embeddings is not None
            vectors = await asyncio.gather(*(self.embeddings.aembed_query(q) for q in plan.queries))
            queries = {
                q: _writes.query_vector(v, self._dims(), q) for q, v in zip(plan.queries, vectors)
            }
        return await asyncio.to_thread(self._execute, plan, blobs, queries)

    def restore(
        self,
        items: Iterable[Item],
        *,
        ttls: Mapping[tuple[tuple[str, ...], str], tuple[float, datetime]] | None = None,
    ) -> int:
        """Write ``items`` as they are, timestamps included, all in one transaction.

        For moving memories between stores (``langmem memories import``, store copies):
        unlike ``put``, which stamps the current time, each item keeps its ``created_at`` and
        ``updated_at`` (an existing item with the same namespace and key is overwritten). Texts
        are embedded with this store's model before the transaction opens. Either every item
        is written or, on any error, none is. Returns how many items were written.

        ``ttls`` maps ``(namespace, key)`` to ``(ttl_minutes, expires_at)``: those items keep
        that TTL and that exact expiry (a naive time is taken as UTC); the others get none.

        Example:
            >>> from datetime import datetime, timezone
            >>> from langgraph.store.base import Item
            >>> store = SqliteStore(":memory:")
            >>> when = datetime(2024, 5, 1, tzinfo=timezone.utc)
            >>> store.restore([Item(namespace=("notes",), key="1", value={"text": "hi"},
            ...                     created_at=when, updated_at=when)])
            1
            >>> store.get(("notes",), "1").created_at.year
            2024
        """
        self._refuse_writes()
        listed = list(items)
        ops = [PutOp(tuple(item.namespace), item.key, dict(item.value)) for item in listed]
        plan = self._plan(ops)
        if len(plan.writes) != len(listed):
            raise ConfigurationError(
                f"restore() was given {len(listed)} items but only {len(plan.writes)} distinct "
                "(namespace, key) pairs: give each item once."
            )
        stamps = {
            (tuple(item.namespace), item.key): (_iso(item.created_at), _iso(item.updated_at))
            for item in listed
        }
        for write in plan.writes:
            where = (tuple(write.op.namespace), str(write.op.key))
            write.stamps = stamps[where]
            kept = (ttls or {}).get(where)
            if kept is not None:
                write.expiry = (float(kept[0]), _utc(kept[1]).timestamp())
        missing, blobs = self._lookup(plan)
        if missing:
            blobs.update(zip(missing, self._embed_documents([plan.texts[h] for h in missing])))
        self._execute(plan, blobs, {})
        return len(listed)

    def _plan(self, ops: Iterable[Op]) -> _writes.Plan:
        """The batch's plan; a plan with writes is refused here on a read-only store, before
        anything is embedded."""
        fields = self._fields if self.index_config is not None else None
        plan = _writes.plan(ops, fields, embeds_queries=self.embeddings is not None)
        if plan.writes:
            self._refuse_writes()
        return plan

    def _lookup(self, plan: _writes.Plan) -> tuple[list[bytes], dict[bytes, bytes]]:
        """Split the plan's texts into those to embed and those whose vector is stored (same
        model: see ``_identity``)."""
        if not plan.texts:
            return [], {}
        with self._read() as conn:
            self._check(conn, None)
            return _writes.lookup(conn, plan)

    def _ranking(self) -> Ranking | None:
        if not (self.hybrid and self._fts):
            return None
        self.ranking = _ranking_arg.checked(self.ranking, "SqliteStore")  # set later, maybe
        return self.ranking

    # ------------------------------------------------------------------ explain

    def explain(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        query: str,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[tuple[SearchItem, Explanation]]:
        """Why each result of ``search(namespace_prefix, query=query, ...)`` ranks where it does.

        Returns the same items as :meth:`search` with the same arguments, in the same order,
        each paired with an :class:`~langmem.stores.ranking.Explanation`: the cosine and its
        normalised value, the BM25 score, its normalised value and the query terms the text
        matched (term -> occurrences), and the same-thread and recency boosts. With
        ``hybrid=False`` only the cosine parts are set.
        """
        op = SearchOp(namespace_prefix, filter, limit, offset, query)
        _writes.check_op(op)
        embedded = self.embeddings.embed_query(query) if query and self.embeddings else None
        vector = self._query_vector(query, embedded)
        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return self._explain(op, vector)
        flow = _rerank.explain_flow(op, ranking, self._explainer(vector), self._rerank_fields())
        return run_sync(flow)

    async def aexplain(
        self,
        namespace_prefix: tuple[str, ...],
        /,
        query: str,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[tuple[SearchItem, Explanation]]:
        """Async :meth:`explain`."""
        op = SearchOp(namespace_prefix, filter, limit, offset, query)
        _writes.check_op(op)
        embedded = await self.embeddings.aembed_query(query) if query and self.embeddings else None
        vector = self._query_vector(query, embedded)
        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return await asyncio.to_thread(self._explain, op, vector)
        flow = _rerank.explain_flow(op, ranking, self._explainer(vector), self._rerank_fields())
        return await run_async(flow)

    def _explainer(self, vector: NDArray[np.float32]) -> _rerank.Inner:
        """:meth:`explain` of an op with this query vector, without the re-ranking stage."""
        return _rerank.Inner(
            lambda op: self._explain(op, vector),
            lambda op: asyncio.to_thread(self._explain, op, vector),
        )

    def _query_vector(self, query: str, embedded: list[float] | None) -> NDArray[np.float32]:
        if self.embeddings is None or not query or embedded is None:
            raise ConfigurationError(
                f"explain(query={query!r}) needs a store with an index and a non-empty query: "
                'open the store with index={"dims": ...} and pass the text you searched for.'
            )
        return _writes.query_vector(embedded, self._dims(), query)

    def _explain(
        self, op: SearchOp, vector: NDArray[np.float32]
    ) -> list[tuple[SearchItem, Explanation]]:
        return self._tolerance.run(lambda: self._explain_once(op, vector))

    def _explain_once(
        self, op: SearchOp, vector: NDArray[np.float32]
    ) -> list[tuple[SearchItem, Explanation]]:
        with self._lock, self._read() as conn:
            self._check(conn, None, ranks=True)  # rank this very snapshot, as a search does
            now = time.time() if _ttl.omits_expired(self.ttl_config) else -math.inf
            reader = _reads.Reader(
                conn,
                now,
                vectors=self._vectors,
                queries={},
                ranking=self._ranking(),
                counts=self._term_forms,
                origins=self._origins,
                worker=self._worker,
                refresh_on_read=False,
                item_origins=self._item_origins,
            )
            explained = reader.explain(op, vector)
        self._save_cache()
        return explained

    def _execute(
        self,
        plan: _writes.Plan,
        blobs: dict[bytes, bytes],
        queries: dict[str, NDArray[np.float32]],
    ) -> list[Result]:
        return self._tolerance.run(lambda: self._execute_once(plan, blobs, queries))

    def _execute_once(
        self,
        plan: _writes.Plan,
        blobs: dict[bytes, bytes],
        queries: dict[str, NDArray[np.float32]],
    ) -> list[Result]:
        self._maybe_start_sweeper()
        with self._lock:
            if not queries:
                self._refresh()  # a ranked batch syncs inside its own snapshot (``_check``)
            snapshot = len(plan.ops) > 1 or bool(queries)
            transaction = self._write() if plan.writes else self._read(snapshot=snapshot)
            with transaction as conn:
                ranks = bool(queries)
                indexed = self._check(conn, plan, ranks=ranks) if plan.writes or ranks else False
                now = time.time()
                reader = _reads.Reader(
                    conn,
                    now if _ttl.omits_expired(self.ttl_config) else -math.inf,
                    vectors=self._vectors,
                    queries=queries,
                    ranking=self._ranking(),
                    counts=self._term_forms,
                    origins=self._origins,
                    worker=self._worker,
                    refresh_on_read=_ttl.refreshes_on_read(self.ttl_config),
                    item_origins=self._item_origins,
                )
                results = [reader.read(op) for op in plan.ops]
                touched = reader.touched
                if plan.writes:
                    self._apply_writes(conn, plan.writes, blobs, now, indexed=indexed)
                    if touched:
                        _ttl.refresh(conn, touched, now)
                        touched = []
            if plan.writes:
                self._refresh(force=True)
            if touched and self._read_only is None:  # a read-only file keeps its deadlines
                with self._write() as conn:
                    _ttl.refresh(conn, touched, time.time())
            self._save_cache()
        return results

    def _apply_writes(
        self,
        conn: sqlite3.Connection,
        writes: list[_writes.Write],
        blobs: dict[bytes, bytes],
        now: float,
        *,
        indexed: bool,
    ) -> None:
        # a method, not inlined in _execute, so a test can pause a store mid-transaction
        _writes.apply(conn, writes, blobs, now, indexed=indexed)
        self._write_batches += 1
        if self._write_batches % 256 == 0:
            for log in ("langmem_changes", "langmem_item_changes"):  # a reader further behind
                conn.execute(  # reloads everything
                    f"DELETE FROM {log} WHERE seq < (SELECT MAX(seq) FROM {log}) - ?",
                    (_LOG_KEEP,),
                )

    # ------------------------------------------------------------------ TTL sweeping

    def sweep_ttl(self) -> int:
        """Delete every expired item (and its vectors); returns how many were deleted."""
        with self._write() as conn:
            deleted = _ttl.sweep(conn, time.time())
        if deleted:
            self._refresh(force=True)
        return deleted

    async def asweep_ttl(self) -> int:
        """Async :meth:`sweep_ttl`."""
        return await asyncio.to_thread(self.sweep_ttl)

    def _maybe_start_sweeper(self) -> None:
        configured = self.ttl_config and self.ttl_config.get("sweep_interval_minutes")
        if configured and not self._sweeper.running and self._read_only is None:
            self.start_ttl_sweeper()

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> None:
        """Sweep expired items every ``sweep_interval_minutes`` (default: the TTL config's, else
        5) in a daemon thread, until :meth:`stop_ttl_sweeper` or :meth:`close`."""
        if self._sweeper.running:
            return
        configured = (self.ttl_config or {}).get("sweep_interval_minutes")
        interval = float(sweep_interval_minutes or configured or 5) * 60.0
        self._sweeper.start(self.sweep_ttl, interval, self.path)

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; ``True`` when it has stopped."""
        return self._sweeper.stop(timeout)

    def __repr__(self) -> str:
        model = self.index_config and embeddings_id(self.embeddings)
        return f"SqliteStore({self.path!r}, embeddings={model!r}, hybrid={self.hybrid})"


def _make_folder(path: Path) -> None:
    """Create the folder of a store file; a clear error when that is impossible (a file in the
    way, e.g. ``LANGMEM_HOME`` naming a file, or no permission)."""
    if str(path) in ("", "."):
        raise StoreFileError(
            "The store path is empty: name a file, e.g. SqliteStore('memories.sqlite') or "
            "LANGMEM_STORE=sqlite:///memories.sqlite (sqlite:/// alone names no file)."
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreFileError(
            f"The folder {str(path.parent)!r} of the store file {str(path)!r} cannot be created "
            f"({type(exc).__name__}: {exc.strerror or exc}). Nothing was changed. Fix: point "
            "the path (or LANGMEM_HOME, LANGMEM_STORE) at a folder you can write, not at a file."
        ) from exc


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    """An item timestamp as stored: ISO 8601 in UTC (a naive time is taken as UTC)."""
    return _utc(moment).isoformat()
