"""The embedded default store: a LangGraph ``BaseStore`` in one SQLite file.

Standard-library ``sqlite3`` only (no loadable extension). Writes run in ``BEGIN IMMEDIATE``
transactions (WAL mode, so readers never wait), roll back on any error, and cascade deletes
through foreign keys. Embeddings are computed before a transaction opens, and the vector of a
text already stored is reused instead of recomputed. Search is exact: every vector lives in a
numpy matrix, loaded by the first ranked read (from the matrix cache beside the file when it is
valid: ``_snapshot``), kept current on writes and refreshed from a change log when another
process wrote.
Queries are answered by hybrid ranking, dense cosine fused with BM25 (see ``ranking``).

This module is the store's spine: the class, ``batch``/``abatch``, the index check of every
transaction that embeds or ranks (``_check``), ``restore``, ``explain`` and TTL sweeping. The
class is built on three bases, each in its own module: ``_sqlite_transactions`` (the
connection, transactions, read-only refusal), ``_sqlite_matrix`` (the vector matrix kept in
line with the file, and its cache, ``_snapshot``) and ``_sqlite_index`` (the index
configuration, claiming or adopting the file's, re-embedding). The work of a batch lives beside
it: ``_writes`` (planning, vector reuse, applying puts and deletes), ``_reads`` (get, search,
namespaces), ``_ttl``; ``_identity`` (the index recorded in the file), ``_reembed`` (changing
it) and ``_connection`` (opening the file, clear errors).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
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

from langmem import _expect
from langmem._expect import Expected
from langmem._flow import run_async, run_sync
from langmem.embeddings._default import embeddings_id
from langmem.errors import ConfigurationError, IndexMismatchError
from langmem.stores import (
    _identity,
    _legacy_numbers,
    _ranking_arg,
    _reads,
    _rerank,
    _ttl,
    _writes,
)
from langmem.stores._sqlite_index import IndexedFile
from langmem.stores.ranking import Explanation, Ranking

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


logger = logging.getLogger("langmem.stores")

Check = Callable[[list[Result]], None]
"""Run on a batch's results inside its write transaction, before its writes (raise: none)."""
_LOG_KEEP = 100_000  # change-log rows kept; a reader further behind reloads everything


class SqliteStore(IndexedFile, BaseStore):
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
        self.ttl_config = _ttl.checked_config(ttl)
        self.hybrid = hybrid
        self.ranking = _ranking_arg.checked(ranking, "SqliteStore")
        self._open_file(chosen, timeout, read_only)
        # values with NaN/Infinity an earlier version wrote: read in Python once met
        self._tolerance = _legacy_numbers.Tolerance(self._conn, self._lock, self.path)
        row = self._conn.execute("SELECT value FROM langmem_meta WHERE key = 'fts5'").fetchone()
        self._fts = row is not None and row[0] == "1"
        self.index_config = None
        self.embeddings = None
        self._fields = []
        self._init_matrix()
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

    # ------------------------------------------------------------------ configuration

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

    def batch_expecting(self, ops: Iterable[Op], expect: Sequence[Expected]) -> list[Result]:
        """:meth:`batch`, written only if each memory in ``expect`` is still as its writer read
        it, checked in the batch's own write transaction (so against every writer of the
        file); else nothing is written and :class:`~langmem.errors.WriteConflictError` names
        what was found (see :mod:`langmem._expect`). Searches here are not re-ranked."""
        listed, check = _with_probes(ops, expect)
        return self._batch(listed, check)[: len(listed) - len(expect)]

    async def abatch_expecting(self, ops: Iterable[Op], expect: Sequence[Expected]) -> list[Result]:
        """Async :meth:`batch_expecting`."""
        listed, check = _with_probes(ops, expect)
        return (await self._abatch(listed, check))[: len(listed) - len(expect)]

    def _batch(self, ops: Iterable[Op], check: Check | None = None) -> list[Result]:
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
        return self._execute(plan, blobs, queries, check)

    async def _abatch(self, ops: Iterable[Op], check: Check | None = None) -> list[Result]:
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
        return await asyncio.to_thread(self._execute, plan, blobs, queries, check)

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
        check: Check | None = None,
    ) -> list[Result]:
        return self._tolerance.run(lambda: self._execute_once(plan, blobs, queries, check))

    def _execute_once(
        self,
        plan: _writes.Plan,
        blobs: dict[bytes, bytes],
        queries: dict[str, NDArray[np.float32]],
        check: Check | None = None,
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
                if check is not None:  # before any write; raising rolls the batch back
                    check(results)
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


def _with_probes(ops: Iterable[Op], expect: Sequence[Expected]) -> tuple[list[Op], Check]:
    """``ops`` followed by gets of the ``expect``-ed memories, and the check of their results
    (run in the batch's write transaction, before its writes)."""
    listed = list(ops)
    start = len(listed)

    def check(results: list[Result]) -> None:
        _expect.check(expect, results[start:])  # type: ignore[arg-type]

    return [*listed, *_expect.probes(expect)], check


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a naive time is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    """An item timestamp as stored: ISO 8601 in UTC (a naive time is taken as UTC)."""
    return _utc(moment).isoformat()
