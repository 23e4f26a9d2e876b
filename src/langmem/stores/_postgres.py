"""The scale-out store: LangGraph's ``PostgresStore`` set up for many processes and full results.

A thin subclass of ``langgraph.store.postgres.PostgresStore`` (same tables, same data: a store
written by one opens in the other). What it changes:

- connections come from a pool, each starting with ``hnsw.iterative_scan = relaxed_order`` and
  ``hnsw.ef_search``, and checked before use (a restarted server costs a reconnect, no error);
- search is hybrid, ranked by :func:`langmem.stores.ranking.rank` exactly as the embedded store
  (``_pg_search``): small namespaces are scanned exactly, large ones through HNSW, chosen per
  query; :meth:`PostgresStore.explain` shows each score's parts;
- a batch is one transaction; embeddings are computed before it opens; ``put`` replaces an
  item's vectors (``index=False`` removes them); expired items are not returned, swept or
  not, unless ``TTLConfig(omit_expired=False)`` (as on the embedded store); batches lock the
  rows they write in one order (two batches that only write cannot deadlock; one whose TTL
  refresh of reads locks rows first still can), and a transaction rolled back by a deadlock
  is run again;
- ``list_namespaces`` leaves langmem's own records (``("__langmem__", ...)``) out unless its
  prefix starts with ``"__langmem__"``, as on the embedded store (``_pg_namespaces``);
- filters follow langmem's exact rule (``$ne`` matches a missing key, numeric strings compare
  as numbers), as on the embedded store;
- every operation is checked as on the embedded store, with the same errors, before anything
  is written; PostgreSQL's own limits (no NUL in text, no NaN in jsonb) are named
  (``_pg_checks``);
- ``setup()`` runs under an advisory lock, so several processes may start at once;
- an unusable server raises :class:`~langmem.errors.StoreConnectionError` naming the URL
  without its password.

This module holds the class and its public methods. Its parts live in ``_pg_connect`` (pool,
server checks, migrations, retries), ``_pg_setup`` (what ``setup()`` does),
``_pg_transaction`` (a pooled transaction, the server's errors named), ``_pg_batch`` (a
batch: reads, then writes), ``_pg_writes`` (puts, restores, vector rows; ``_pg_tokens`` splits
their words as FTS5 does), ``_pg_queries`` (query vectors, explain), ``_pg_search`` (ranked
and listed search; ``_pg_candidates`` builds its candidates from the rows it reads, and
``_pg_lexical`` its lexical side), ``_pg_read_only``, ``_pg_namespaces``, ``_pg_reembed``,
``_pg_identity``, ``_pg_expiry`` and ``_pg_checks``.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal

from langgraph.store.base import (
    GetOp,
    Item,
    Op,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)
from langgraph.store.postgres import PostgresStore as _LangGraphPostgresStore
from langgraph.store.postgres.base import PostgresIndexConfig

from langmem._flow import run_async, run_sync
from langmem.stores import (
    _pg_batch,
    _pg_connect,
    _pg_identity,
    _pg_queries,
    _pg_read_only,
    _pg_setup,
    _pg_stats,
    _pg_transaction,
    _pg_untexted,
    _pg_writes,
    _ranking_arg,
    _rerank,
    _ttl,
    _writes,
)
from langmem.stores._pg_schema import (
    COVER_INDEX,
    cover_limit,
    vector_dims,
)
from langmem.stores._pg_writes import insert_vectors
from langmem.stores.ranking import Explanation, Ranking

if TYPE_CHECKING:
    from langmem._expect import Expected
    from langmem.tasks import TaskQueue

logger = logging.getLogger("langmem.stores")

__all__ = ["EXACT_MAX", "PostgresStore", "SearchMode", "insert_vectors"]
# insert_vectors lives in _pg_writes; still importable from here (copies use it)

EXACT_MAX = 5_000
"""Namespaces with at most this many indexed texts are searched exactly (no HNSW)."""

SearchMode = Literal["auto", "exact", "hnsw"]


class PostgresStore(_LangGraphPostgresStore):
    """LangGraph's ``PostgresStore`` on a connection pool, with langmem's hybrid search.

    Build it with :meth:`from_url` (or ``open_store("postgresql://...")``); close it with
    :meth:`close` or a ``with`` block. Sync and async (``abatch`` runs ``batch`` on a thread).

    Args:
        pool: an open ``psycopg_pool.ConnectionPool`` (see :meth:`from_url`).
        url: the database URL, for messages (its password is never shown).
        index: LangGraph index configuration (``dims``, ``embed``, ``fields``), or ``None``.
        ttl: LangGraph TTL configuration, checked here as on the embedded store (a bad
            ``default_ttl`` or ``sweep_interval_minutes``, an unknown key or a non-dict raises
            :class:`~langmem.errors.ConfigurationError` naming it).
        hybrid: fuse full-text matches with the vector ranking (default ``True``); ``False``
            ranks by cosine only.
        ranking: the hybrid ranking's parameters (:class:`~langmem.stores.ranking.Ranking`),
            the default when ``None``; as on the embedded store, also settable later as the
            ``ranking`` attribute.
        exact_max: namespaces with at most this many indexed texts are scanned exactly.
        search_mode: ``"auto"`` (exact for small namespaces, HNSW for large), ``"exact"`` or
            ``"hnsw"`` (for benchmarks).
    """

    def __init__(
        self,
        pool: Any,
        *,
        url: str,
        index: PostgresIndexConfig | None = None,
        ttl: TTLConfig | None = None,
        hybrid: bool = True,
        exact_max: int = EXACT_MAX,
        search_mode: SearchMode = "auto",
        ranking: Ranking | None = None,
    ) -> None:
        super().__init__(pool, index=index, ttl=_ttl.checked_config(ttl))
        self.url = url
        self.hybrid = hybrid
        self.ranking = _ranking_arg.checked(ranking, "PostgresStore")
        self.exact_max = exact_max
        self.search_mode: SearchMode = search_mode
        self.word_counts = _pg_stats.WordCounts()
        self.namespace_sizes = _pg_stats.NamespaceSizes()
        self.untexted = _pg_untexted.Untexted()  # rows LangGraph's own store wrote
        self._cover: int | None = None
        self._conninfo, _ = _pg_connect.split_url(url)
        self._identity = (
            _pg_identity.Identity.of(self.index_config, self.embeddings)
            if self.index_config
            else None
        )
        self._checks: bool | None = None  # whether the database has langmem_index_check
        self._read_only: _pg_read_only.ReadOnly | None = None  # set by setup(): see there
        self._read_only_known = False  # setup() ran, or _read_only_now() asked the server

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        index: PostgresIndexConfig | None = None,
        ttl: TTLConfig | None = None,
        hybrid: bool = True,
        ef_search: int = _pg_connect.DEFAULT_EF_SEARCH,
        exact_max: int = EXACT_MAX,
        pool_size: int = 10,
        setup: bool = True,
        ranking: Ranking | None = None,
    ) -> PostgresStore:
        """A ready store on ``url`` (``postgresql://user:password@host:port/database``).

        Checks the server (clear error when it is unreachable, refuses the credentials or lacks
        pgvector), opens a pool of up to ``pool_size`` connections and, with ``setup``, creates
        or upgrades the tables (safe to run from several processes at once).

        Example:
            >>> store = PostgresStore.from_url(  # doctest: +SKIP
            ...     "postgresql://app:secret@db:5432/memories",
            ...     index={"dims": 384, "embed": "hashing", "fields": ["$"]},
            ... )
        """
        _pg_connect.require_psycopg()
        _ttl.checked_config(ttl)  # a bad config is named before the server is tried
        conninfo, _ = _pg_connect.split_url(url)
        _pg_connect.check_server(conninfo, url)
        pool = _pg_connect.make_pool(conninfo, ef_search=ef_search, max_size=pool_size)
        try:
            store = cls(
                pool,
                url=url,
                index=index,
                ttl=ttl,
                hybrid=hybrid,
                exact_max=exact_max,
                ranking=ranking,
            )
            if setup:
                store.setup()
        except BaseException:
            pool.close()
            raise
        return store

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Stop the TTL sweeper and close the pool's connections."""
        self.stop_ttl_sweeper(timeout=1)
        close = getattr(self.conn, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def setup(self) -> None:
        """Create or upgrade the tables, one process at a time (advisory lock).

        A read-only database (a hot standby, ``default_transaction_read_only`` on, or a user
        that may not write the tables) is opened without writing when its tables are there and
        current: reads and searches work, writes raise
        :class:`~langmem.errors.StoreFileError` (see :mod:`langmem.stores._pg_read_only`)."""
        _pg_setup.setup(self, super().setup)

    def task_queue(self) -> TaskQueue:
        """The durable queue of background tasks in this database, on the store's pool.

        Several processes (apps and workers) share it: see :mod:`langmem.tasks`.
        """
        from langmem.tasks._postgres import PostgresTaskQueue

        if self._read_only_now() is not None:
            from langmem.tasks import MemoryTaskQueue

            return MemoryTaskQueue()  # a read-only database is not written: the queue is in memory
        return PostgresTaskQueue(self.conn)

    async def asweep_ttl(self) -> int:
        """Async :meth:`sweep_ttl` (as on :class:`~langmem.stores.SqliteStore`): deletes every
        expired item; returns how many were deleted."""
        import asyncio

        return await asyncio.to_thread(self.sweep_ttl)

    def _get_batch_GET_ops_queries(self, get_ops: Sequence[tuple[int, GetOp]]) -> list[Any]:
        """LangGraph's get queries without its TTL refresh (see :func:`_pg_queries.get_queries`)."""
        return _pg_queries.get_queries(get_ops, self._omit_expired)

    def _refuse_writes(self) -> None:
        """Raise the read-only error when this handle opened a read-only database."""
        found = self._read_only_now()
        if found is not None:
            raise found.error(_pg_connect.redact(self.url))

    def _read_only_now(self) -> _pg_read_only.ReadOnly | None:
        """Why this handle's database takes no writes (``None``: it takes them). Known from
        :meth:`setup`; a handle opened without it (``setup=False``) asks the server once, at
        its first use, so it too reads without refreshing TTLs and refuses writes clearly."""
        if not self._read_only_known:
            with self._transaction() as cur:
                self._read_only = _pg_read_only.reason(cur)
            self._read_only_known = True
        return self._read_only

    def sweep_ttl(self) -> int:
        """Delete expired items (see LangGraph's ``PostgresStore.sweep_ttl``); a read-only
        database raises :class:`~langmem.errors.StoreFileError`."""
        self._refuse_writes()
        return int(super().sweep_ttl())

    def start_ttl_sweeper(
        self, sweep_interval_minutes: int | None = None
    ) -> concurrent.futures.Future[None]:
        """As LangGraph's; on a read-only database no sweeper starts (nothing can be deleted):
        the future returned is already done. An interval outside the sweep range (negative,
        NaN, infinite, shorter than 0.01 s) raises :class:`ConfigurationError` and starts
        nothing, as on :class:`~langmem.stores.SqliteStore`."""
        if sweep_interval_minutes:
            _ttl.check_sweep_interval(sweep_interval_minutes)
        if self._read_only_now() is not None:
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return done
        return super().start_ttl_sweeper(sweep_interval_minutes)

    @property
    def read_only(self) -> bool:
        """Whether the database takes no writes on this store's connections: ``True`` on a hot
        standby, or with ``default_transaction_read_only`` on (for the user or the database,
        or ``?options=-c%20default_transaction_read_only%3Don`` in the URL); ``False`` for an
        ordinary database. Asked of the server at each call (a standby may be promoted). As on
        :class:`~langmem.stores.SqliteStore`, a read-only store still reads and searches.
        ``True`` too for a handle that opened the database read-only (also a user that may not
        write its tables): its writes raise :class:`~langmem.errors.StoreFileError`, and it stays
        read-only for its life (after a standby is promoted, open a new store to write)."""
        if self._read_only_now() is not None:
            return True
        with self._transaction() as cur:
            cur.execute("SHOW transaction_read_only")
            row = cur.fetchone()
        return bool(row) and str(row["transaction_read_only"]).lower() == "on"

    @property
    def _omit_expired(self) -> bool:
        """Whether reads leave out expired items not yet swept: as on the embedded store, yes
        unless the TTL config says ``omit_expired=False`` (read at every call: the config may
        be changed on a live store)."""
        return _ttl.omits_expired(self.ttl_config)

    @contextmanager
    def _transaction(self, *, pipeline: bool = False) -> Iterator[Any]:
        """A cursor in one transaction on a pooled connection, the server's errors named
        (:func:`langmem.stores._pg_transaction.transaction`). With ``pipeline``, statements
        are sent without waiting for the previous one's result (psycopg's pipeline mode): a
        search's first statements travel together, with the ``BEGIN``."""
        with _pg_transaction.transaction(self, pipeline=pipeline) as cur:
            yield cur

    def _check_index(self, cur: Any, *, writes: bool) -> None:
        """Send the check that the database's vectors are this handle's index's (see
        :mod:`langmem.stores._pg_identity`): a write checks under the re-embed lock, a search
        without it. It fails on the database's side, raised when results are read."""
        if self._identity is None:
            return
        if self._checks is None:  # a handle opened without setup(): look once
            found = cur.connection.execute(
                "SELECT to_regprocedure('langmem_index_check(text,boolean)') IS NOT NULL AS ok"
            ).fetchone()
            self._checks = bool(found and found["ok"])
        if self._checks:
            _pg_identity.check(cur, self._identity, writes=writes)

    @contextmanager
    def _spare(self) -> Iterator[Any | None]:
        """A second pooled connection in pipeline mode, when one is free at once (else
        ``None``: the caller sends everything on its own connection).

        A search sends its vector query here and its word queries on its own connection, so
        the server runs both at once (one backend each) while the client decodes the first
        answer; waiting for a connection would cost more than it saves, so none is awaited.
        """
        with _pg_transaction.spare(self) as conn:
            yield conn

    def cover(self, cur: Any) -> int:
        """:func:`cover_limit` when the covering index exists (looked up once), else 0."""
        if self._cover is None:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (COVER_INDEX,))
            found = bool(cur.fetchone()["found"])
            self._cover = cover_limit(vector_dims(cur)) if found else 0
        return self._cover

    # -- ranking -------------------------------------------------------------------------

    def active_ranking(self) -> Ranking | None:
        """The hybrid ranking's parameters, ``None`` when ranking by cosine only."""
        if not self.hybrid:
            return None
        self.ranking = _ranking_arg.checked(self.ranking, "PostgresStore")  # set later, maybe
        return self.ranking

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

        As :meth:`langmem.stores.SqliteStore.explain`: the same items as :meth:`search` with the
        same arguments, in the same order, each paired with an
        :class:`~langmem.stores.ranking.Explanation` (its ``item`` is ``(prefix, key)``).
        """
        op = _pg_queries.explain_op(self, SearchOp(namespace_prefix, filter, limit, offset, query))
        assert self.embeddings is not None
        vector = _pg_queries.query_vector(self, query, self.embeddings.embed_query(query))
        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return _pg_queries.explained(self, op, vector)
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
        import asyncio

        op = _pg_queries.explain_op(self, SearchOp(namespace_prefix, filter, limit, offset, query))
        assert self.embeddings is not None
        vector = _pg_queries.query_vector(self, query, await self.embeddings.aembed_query(query))
        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return await asyncio.to_thread(_pg_queries.explained, self, op, vector)
        flow = _rerank.explain_flow(op, ranking, self._explainer(vector), self._rerank_fields())
        return await run_async(flow)

    def _explainer(self, vector: list[float]) -> _rerank.Inner:
        """:meth:`explain` of an op with this query vector, without the re-ranking stage."""
        import asyncio

        return _rerank.Inner(
            lambda op: _pg_queries.explained(self, op, vector),
            lambda op: asyncio.to_thread(_pg_queries.explained, self, op, vector),
        )

    # -- batches -------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in one transaction: reads first, then writes (as LangGraph does; with a
        re-ranker, see :mod:`langmem.stores._rerank`)."""
        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return self._batch(ops)
        return _rerank.batch(ops, ranking, self._inner, self._rerank_fields())

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async :meth:`batch` (the database work on a thread; an async re-ranker's
        ``arerank`` on the event loop)."""
        import asyncio

        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return await asyncio.to_thread(self._batch, ops)
        return await _rerank.abatch(ops, ranking, self._inner, self._rerank_fields())

    @property
    def _inner(self) -> _rerank.Inner:
        import asyncio

        return _rerank.Inner(self._batch, lambda ops: asyncio.to_thread(self._batch, ops))

    def _rerank_fields(self) -> _writes.IndexPaths | None:
        """The fields a re-ranker reads (``None`` without an index: nothing is ranked)."""
        if not self.index_config or self.embeddings is None:
            return None
        return _writes.index_paths(self.index_config.get("fields") or ["$"])

    def batch_expecting(self, ops: Iterable[Op], expect: Sequence[Expected]) -> list[Result]:
        """:meth:`batch`, written only if each memory in ``expect`` is still as its writer read
        it, checked in the batch's own transaction with those rows locked (so against every
        writer of the database); else nothing is written and
        :class:`~langmem.errors.WriteConflictError` names what was found (see
        :mod:`langmem._expect`). Searches here are not re-ranked."""
        return _pg_batch.run(self, ops, expect)

    async def abatch_expecting(self, ops: Iterable[Op], expect: Sequence[Expected]) -> list[Result]:
        """Async :meth:`batch_expecting`."""
        import asyncio

        return await asyncio.to_thread(_pg_batch.run, self, ops, expect)

    def _batch(self, ops: Iterable[Op]) -> list[Result]:
        return _pg_batch.run(self, ops)

    def restore(
        self,
        items: Iterable[Item],
        *,
        ttls: _pg_writes.Ttls | None = None,
    ) -> int:
        """Write ``items`` as they are, timestamps included, in one transaction.

        The Postgres twin of :meth:`SqliteStore.restore <langmem.stores.SqliteStore.restore>`
        (imports, copies between stores): each item keeps its ``created_at`` and ``updated_at``
        (a naive time is taken as UTC); texts are embedded before the transaction opens; an
        existing item with the same namespace and key is overwritten. All or nothing. Returns
        how many items were written.

        ``ttls`` maps ``(namespace, key)`` to ``(ttl_minutes, expires_at)``: those items keep
        that TTL and that exact expiry, even one already past (such an item is then expired:
        left out of reads unless ``omit_expired=False``, and swept); the others get none (not
        the store's ``default_ttl``: a restored item is as it was).
        """
        self._refuse_writes()
        return _pg_writes.restore(self, items, ttls)

    def reembed(
        self,
        index: PostgresIndexConfig | dict[str, Any] | None = None,
        *,
        progress: Callable[[int, int], object] | None = None,
        batch_size: int = 64,
        allow_unindexed: bool = False,
    ) -> int:
        """Re-embed every indexed item for ``index`` (default: this handle's), and record it.

        The explicit way to change the database's embedder, dims or fields, as
        :meth:`SqliteStore.reembed <langmem.stores.SqliteStore.reembed>` does for a file.
        Texts are embedded in batches of ``batch_size``, each batch committed to a stage table
        (``progress(done, total)`` after each); the store keeps serving with its old vectors
        meanwhile. Then one transaction swaps every vector and records the new index; writes
        wait for it, reads go on (new dims: they wait too). If the run is interrupted, nothing
        changed in the store, and running it again for the same index embeds only what was not
        staged yet. Afterwards, handles with another index are refused
        (:class:`~langmem.errors.IndexMismatchError`) until reopened with the new one.

        New fields that find no text in some indexed items are refused, before anything is
        embedded, as on the embedded store (``allow_unindexed=True`` re-embeds anyway).

        Returns:
            How many distinct texts the new index holds.
        """
        from langmem.stores import _pg_reembed

        self._refuse_writes()
        return _pg_reembed.reembed(
            self,
            index,
            progress=progress,
            batch_size=batch_size,
            allow_unindexed=allow_unindexed,
        )

    def _configure_index(
        self, config: PostgresIndexConfig, embeddings: Any, identity: _pg_identity.Identity
    ) -> None:
        """Index with ``config`` from now on (after a re-embed): caches of the old one go."""
        from langgraph.store.postgres.base import _ensure_index_config

        _, self.index_config = _ensure_index_config(config)
        self.embeddings = embeddings
        self._identity = identity
        self._cover = None
        self.word_counts = _pg_stats.WordCounts()
        self.namespace_sizes = _pg_stats.NamespaceSizes()
