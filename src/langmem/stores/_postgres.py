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

This module holds the class; two bases hold concerns of their own: ``_pg_handle`` (read-only
databases, TTL sweeps, transactions) and ``_pg_ranked`` (the ranking and ``explain``). Its parts
live in ``_pg_connect`` (pool,
server checks, migrations, retries), ``_pg_setup`` (what ``setup()`` does),
``_pg_transaction`` (a pooled transaction, the server's errors named), ``_pg_batch`` (a
batch: reads, then writes), ``_pg_writes`` (puts, restores, vector rows; ``_pg_tokens`` splits
their words as FTS5 does), ``_pg_queries`` (query vectors, explain), ``_pg_search`` (ranked
and listed search; ``_pg_candidates`` builds its candidates from the rows it reads, and
``_pg_lexical`` its lexical side), ``_pg_read_only``, ``_pg_namespaces``, ``_pg_reembed``,
``_pg_identity``, ``_pg_expiry`` and ``_pg_checks``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langgraph.store.base import (
    Item,
    Op,
    Result,
    TTLConfig,
)
from langgraph.store.postgres.base import PostgresIndexConfig

from langmem.stores import (
    _pg_batch,
    _pg_connect,
    _pg_identity,
    _pg_read_only,
    _pg_setup,
    _pg_stats,
    _pg_untexted,
    _pg_writes,
    _ranking_arg,
    _rerank,
    _ttl,
)
from langmem.stores._pg_ranked import RankedSearch
from langmem.stores._pg_writes import insert_vectors
from langmem.stores.ranking import Ranking

if TYPE_CHECKING:
    from langmem._expect import Expected
    from langmem.tasks import TaskQueue

logger = logging.getLogger("langmem.stores")

__all__ = ["EXACT_MAX", "PostgresStore", "SearchMode", "insert_vectors"]
# insert_vectors lives in _pg_writes; still importable from here (copies use it)

EXACT_MAX = 5_000
"""Namespaces with at most this many indexed texts are searched exactly (no HNSW)."""

SearchMode = Literal["auto", "exact", "hnsw"]


class PostgresStore(RankedSearch):
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
        self._paths = self._index_paths()
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
        self._paths = self._index_paths()
        self._cover = None
        self.word_counts = _pg_stats.WordCounts()
        self.namespace_sizes = _pg_stats.NamespaceSizes()
