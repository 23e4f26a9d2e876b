"""The embedded default store: a LangGraph ``BaseStore`` in one SQLite file.

Standard-library ``sqlite3`` only (no loadable extension). Writes run in ``BEGIN IMMEDIATE``
transactions (WAL mode, so readers never wait), roll back on any error, and cascade deletes
through foreign keys. Embeddings are computed before a transaction opens, and the vector of a
text already stored is reused instead of recomputed. Search is exact: every vector lives in a
numpy matrix kept current on writes and refreshed from a change log when another process wrote.
Queries are answered by hybrid ranking, dense cosine fused with BM25 (see ``_lexical``).

This module is the store's spine: connection and transactions, index configuration, the vector
matrix, and ``batch``/``abatch``. The work of a batch lives beside it: ``_writes`` (planning,
vector reuse, applying puts and deletes), ``_reads`` (get, search, namespaces), ``_ttl``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
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
    TTLConfig,
    ensure_embeddings,
)

from langmem.embeddings._default import default_embeddings, embeddings_id
from langmem.errors import ConfigurationError
from langmem.stores import _reads, _ttl, _writes
from langmem.stores._migrations import migrate
from langmem.stores._sync import sync_vectors
from langmem.stores._vectors import VectorIndex

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

    Scores: with a query, ``SearchItem.score`` is in ``[-1, 1]``, higher is better. It is the
    cosine similarity of the query and the item's best indexed text, lifted towards 1 by
    ``0.7 * coverage * (1 - cosine)``, where ``coverage`` in ``[0, 1]`` is the IDF-weighted share
    of the query's informative words that the text contains (names, numbers and rare words weigh
    most). A query whose words no text covers well (below 0.3) is ranked by plain cosine, and so
    is every query with ``hybrid=False``. Without a query, results come newest first, unscored.

    Args:
        path: the database file; ``":memory:"`` for a private in-memory database. By default
            ``$LANGMEM_STORE`` when it names a SQLite file, else ``memories.sqlite`` in the user
            data folder (``LANGMEM_HOME``).
        index: vector index configuration, or ``None`` for a store without search by meaning
            (queries are then ignored, as in LangGraph's stores).
        ttl: LangGraph TTL configuration (``default_ttl``, ``refresh_on_read``,
            ``sweep_interval_minutes``). Expired items are never returned; sweeping deletes them.
        hybrid: fuse word matches (SQLite FTS5) with the dense ranking when a query is given
            (default ``True``); ``False`` ranks by cosine only.
        timeout: seconds a write waits for another writer's lock before failing.

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
        timeout: float = 30.0,
    ) -> None:
        from langmem.stores._open import default_sqlite_path

        chosen = str(path) if path is not None else str(default_sqlite_path())
        special = chosen == ":memory:" or chosen.startswith("file:")
        self.path = chosen if special else str(Path(chosen).expanduser())
        self.ttl_config = ttl
        self.hybrid = hybrid
        self._lock = threading.RLock()
        self._closed = False
        if not special:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=self.path.startswith("file:"),
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        migrate(self._conn)
        row = self._conn.execute("SELECT value FROM langmem_meta WHERE key = 'fts5'").fetchone()
        self._fts = row is not None and row[0] == "1"
        self.index_config: dict[str, Any] | None = None
        self.embeddings: Embeddings | None = None
        self._fields: _writes.IndexPaths = []
        self._vectors: VectorIndex | None = None
        self._data_version = -1
        self._document_counts: dict[str, int] = {}  # word -> texts holding it (lexical IDF)
        self._last_seq = 0
        self._write_batches = 0  # counts batches with writes, to prune the change log now and then
        self._sweeper = _ttl.Sweeper()
        # the dense half of hybrid searches (its thread starts with the first one)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="langmem-dense")
        if index is not None:
            self._configure_index(index)

    # ------------------------------------------------------------------ configuration

    def _configure_index(self, index: IndexConfig) -> None:
        config: dict[str, Any] = dict(index)
        dims = config.get("dims")
        if not isinstance(dims, int) or dims <= 0:
            raise ConfigurationError(
                f"index dims={dims!r} is not usable: give the embedding length as a positive "
                'int, for example index={"dims": 384} for all-MiniLM-L6-v2.'
            )
        embed = config.get("embed")
        self.embeddings = default_embeddings() if embed is None else ensure_embeddings(embed)
        config["embed"] = self.embeddings
        fields = config.get("fields") or ["$"]
        config["fields"] = list(fields)
        self._fields = _writes.index_paths(fields)
        self.index_config = config
        self._vectors = VectorIndex(dims)
        self._check_model(embeddings_id(embed if embed is not None else self.embeddings), dims)

    def _check_model(self, model: str, dims: int) -> None:
        """Record the embedding model; re-embed stored texts when it changed since last time."""
        with self._lock:
            meta = dict(self._conn.execute("SELECT key, value FROM langmem_meta").fetchall())
            if meta.get("embedding_model") == model and meta.get("dims") == str(dims):
                return
            count = self._conn.execute("SELECT COUNT(*) FROM langmem_vectors").fetchone()[0]
        if count and "embedding_model" in meta:
            logger.warning(
                "langmem: %s was indexed with %s (%s dims); re-embedding its %d texts with %s.",
                self.path,
                meta.get("embedding_model"),
                meta.get("dims"),
                count,
                model,
            )
            self.reindex()
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO langmem_meta (key, value) VALUES (?, ?)",
                [("embedding_model", model), ("dims", str(dims))],
            )

    def reindex(self) -> int:
        """Re-embed every stored text with the current model; returns how many were embedded."""
        if self.embeddings is None:
            return 0
        with self._lock:
            self._ensure_open()
            rows = self._conn.execute("SELECT id, text FROM langmem_vectors").fetchall()
        if not rows:
            return 0
        vectors = self._embed_documents([text for _, text in rows])
        with self._write() as conn:
            conn.executemany(
                "UPDATE langmem_vectors SET embedding = ? WHERE id = ?",
                [(vector, vector_id) for (vector_id, _), vector in zip(rows, vectors)],
            )
            conn.executemany(
                "INSERT INTO langmem_changes (vector_id, added) VALUES (?, 1)",
                [(vector_id,) for vector_id, _ in rows],
            )
        self._refresh(force=True)
        return len(rows)

    # ------------------------------------------------------------------ connection helpers

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE``, commit, or roll back on any error."""
        with self._lock:
            self._ensure_open()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self, *, snapshot: bool = True) -> Iterator[sqlite3.Connection]:
        """One read transaction, so every op of a batch sees the same snapshot (``snapshot``:
        a lone op skips it; its few statements tolerate a concurrent commit)."""
        with self._lock:
            self._ensure_open()
            if not snapshot:
                yield self._conn
                return
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def _ensure_open(self) -> None:
        if self._closed:
            raise ConfigurationError(
                f"The store for {self.path!r} is closed: open a new SqliteStore to use it again."
            )

    def task_queue(self) -> TaskQueue:
        """A queue of background tasks in this store's file (durable), or in memory for
        ``":memory:"`` (a private database another connection cannot see)."""
        from langmem.tasks import MemoryTaskQueue, SqliteTaskQueue

        self._ensure_open()
        if self.path == ":memory:" or "mode=memory" in self.path:
            return MemoryTaskQueue()
        return SqliteTaskQueue(self.path)

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
        """Bring the matrix up to date with the file; cheap when nobody else wrote."""
        vectors = self._vectors
        if vectors is None:
            return
        with self._lock:
            conn = self._conn
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if version == self._data_version and not force:
                return
            self._data_version = version
            conn.execute("BEGIN")
            try:
                applied = sync_vectors(conn, vectors, self._last_seq)
                if applied is not None:
                    self._last_seq = applied
                    self._document_counts.clear()
            finally:
                conn.execute("COMMIT")

    # ------------------------------------------------------------------ embedding

    def _dims(self) -> int:
        return self._vectors.dims if self._vectors is not None else 0

    def _embed_documents(self, texts: list[str]) -> list[bytes]:
        assert self.embeddings is not None
        return _writes.to_blobs(self.embeddings.embed_documents(texts), len(texts), self._dims())

    async def _aembed_documents(self, texts: list[str]) -> list[bytes]:
        assert self.embeddings is not None
        vectors = await self.embeddings.aembed_documents(texts)
        return _writes.to_blobs(vectors, len(texts), self._dims())

    # ------------------------------------------------------------------ batch entry points

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` as one batch: reads see the state before the batch's writes, and all
        writes commit together or not at all."""
        plan = self._plan(ops)
        missing, blobs = self._lookup(plan)
        if missing:
            blobs.update(zip(missing, self._embed_documents([plan.texts[h] for h in missing])))
        queries = {
            q: _writes.query_vector(
                self.embeddings.embed_query(q),  # type: ignore[union-attr]
                self._dims(),
            )
            for q in plan.queries
        }
        return self._execute(plan, blobs, queries)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async :meth:`batch`: embeddings through the model's async API, SQLite in a thread."""
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
                q: _writes.query_vector(v, self._dims()) for q, v in zip(plan.queries, vectors)
            }
        return await asyncio.to_thread(self._execute, plan, blobs, queries)

    def restore(self, items: Iterable[Item]) -> int:
        """Write ``items`` as they are, timestamps included, all in one transaction.

        For moving memories between stores (``langmem memories import``, store copies):
        unlike ``put``, which stamps the current time, each item keeps its ``created_at`` and
        ``updated_at`` (an existing item with the same namespace and key is overwritten). Texts
        are embedded with this store's model before the transaction opens. Either every item
        is written or, on any error, none is. Returns how many items were written.

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
            write.stamps = stamps[(tuple(write.op.namespace), str(write.op.key))]
        missing, blobs = self._lookup(plan)
        if missing:
            blobs.update(zip(missing, self._embed_documents([plan.texts[h] for h in missing])))
        self._execute(plan, blobs, {})
        return len(listed)

    def _plan(self, ops: Iterable[Op]) -> _writes.Plan:
        fields = self._fields if self.index_config is not None else None
        return _writes.plan(ops, fields, embeds_queries=self.embeddings is not None)

    def _lookup(self, plan: _writes.Plan) -> tuple[list[bytes], dict[bytes, bytes]]:
        """Split the plan's texts into those to embed and those whose vector is stored (same
        model: see :meth:`_check_model`)."""
        if not plan.texts:
            return [], {}
        with self._lock:
            self._ensure_open()
            return _writes.lookup(self._conn, plan)

    def _execute(
        self,
        plan: _writes.Plan,
        blobs: dict[bytes, bytes],
        queries: dict[str, NDArray[np.float32]],
    ) -> list[Result]:
        self._maybe_start_sweeper()
        with self._lock:
            self._refresh()
            transaction = self._write() if plan.writes else self._read(snapshot=len(plan.ops) > 1)
            with transaction as conn:
                now = time.time()
                reader = _reads.Reader(
                    conn,
                    now,
                    vectors=self._vectors,
                    queries=queries,
                    lexical=self.hybrid and self._fts,
                    counts=self._document_counts,
                    worker=self._worker,
                    refresh_on_read=_ttl.refreshes_on_read(self.ttl_config),
                )
                results = [reader.read(op) for op in plan.ops]
                touched = reader.touched
                if plan.writes:
                    self._apply_writes(conn, plan.writes, blobs, now)
                    if touched:
                        _ttl.refresh(conn, touched, now)
                        touched = []
            if plan.writes:
                self._refresh(force=True)
            if touched:
                with self._write() as conn:
                    _ttl.refresh(conn, touched, time.time())
        return results

    def _apply_writes(
        self,
        conn: sqlite3.Connection,
        writes: list[_writes.Write],
        blobs: dict[bytes, bytes],
        now: float,
    ) -> None:
        # a method, not inlined in _execute, so a test can pause a store mid-transaction
        _writes.apply(conn, writes, blobs, now, indexed=self.index_config is not None)
        self._write_batches += 1
        if self._write_batches % 256 == 0:
            conn.execute(
                "DELETE FROM langmem_changes"
                " WHERE seq < (SELECT MAX(seq) FROM langmem_changes) - ?",
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
        if configured and not self._sweeper.running:
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


def _iso(moment: datetime) -> str:
    """An item timestamp as stored: ISO 8601 in UTC (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()
