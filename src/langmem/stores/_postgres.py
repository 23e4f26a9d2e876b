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
  not, unless ``TTLConfig(omit_expired=False)`` (as on the embedded store);
- filters follow langmem's exact rule (``$ne`` matches a missing key, numeric strings compare
  as numbers), as on the embedded store;
- every operation is checked as on the embedded store, with the same errors, before anything
  is written; PostgreSQL's own limits (no NUL in text, no NaN in jsonb) are named
  (``_pg_checks``);
- ``setup()`` runs under an advisory lock, so several processes may start at once;
- an unusable server raises :class:`~langmem.errors.StoreConnectionError` naming the URL
  without its password.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, cast

from langgraph.store.base import (
    GetOp,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)
from langgraph.store.postgres import PostgresStore as _LangGraphPostgresStore
from langgraph.store.postgres.base import PostgresIndexConfig, _group_ops

from langmem.errors import ConfigurationError
from langmem.stores import (
    _pg_checks,
    _pg_connect,
    _pg_expiry,
    _pg_identity,
    _pg_search,
    _pg_stats,
    _ttl,
    _writes,
)
from langmem.stores._pg_schema import (
    COVER_INDEX,
    STORE_STEPS,
    VECTOR_STEPS,
    cover_limit,
    vector_dims,
)
from langmem.stores.ranking import Explanation, Ranking, length, tokens

if TYPE_CHECKING:
    from langmem.tasks import TaskQueue

logger = logging.getLogger("langmem.stores")

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
        self.ranking = ranking if ranking is not None else Ranking()
        self.exact_max = exact_max
        self.search_mode: SearchMode = search_mode
        self.word_counts = _pg_stats.WordCounts()
        self.namespace_sizes = _pg_stats.NamespaceSizes()
        self._cover: int | None = None
        self._conninfo, _ = _pg_connect.split_url(url)
        self._identity = (
            _pg_identity.Identity.of(self.index_config, self.embeddings)
            if self.index_config
            else None
        )
        self._checks: bool | None = None  # whether the database has langmem_index_check

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
        """Create or upgrade the tables, one process at a time (advisory lock)."""
        import psycopg

        with _pg_connect.migration_lock(self._conninfo, self.url):
            try:
                super().setup()
                with self._cursor() as cur:
                    _pg_connect.run_migrations(cur, "langmem_store_migrations", STORE_STEPS)
                    if self.index_config and self._identity is not None:
                        _pg_connect.run_migrations(cur, "langmem_vector_migrations", VECTOR_STEPS)
                        where = _pg_connect.redact(self.url)
                        _pg_identity.claim(cur, self._identity, where, vector_dims(cur))
                        self._checks = True
            except psycopg.Error as exc:
                raise _pg_connect.explain_failure(self.url, exc) from None

    def task_queue(self) -> TaskQueue:
        """The durable queue of background tasks in this database, on the store's pool.

        Several processes (apps and workers) share it: see :mod:`langmem.tasks`.
        """
        from langmem.tasks._postgres import PostgresTaskQueue

        return PostgresTaskQueue(self.conn)

    @property
    def _omit_expired(self) -> bool:
        """Whether reads leave out expired items not yet swept: as on the embedded store, yes
        unless the TTL config says ``omit_expired=False`` (read at every call: the config may
        be changed on a live store)."""
        return _ttl.omits_expired(self.ttl_config)

    @contextmanager
    def _transaction(self, *, pipeline: bool = False) -> Iterator[Any]:
        """A cursor in one transaction on a pooled connection. With ``pipeline``, statements
        are sent without waiting for the previous one's result (psycopg's pipeline mode): a
        search's first statements travel together, with the ``BEGIN``."""
        import psycopg
        from psycopg.rows import dict_row

        try:
            pool = cast(Any, self.conn)
            with (
                pool.connection() as conn,
                conn.pipeline() if pipeline and _pg_connect.pipelines() else nullcontext(),
                conn.transaction(),
                conn.cursor(binary=True, row_factory=dict_row) as cur,
            ):
                yield cur
        except psycopg.OperationalError as exc:
            raise _pg_connect.explain_failure(self.url, exc) from exc
        except psycopg.Error as exc:
            if exc.sqlstate != _pg_identity.SQLSTATE or self._identity is None:
                raise
            found = _pg_identity.Identity.parse(exc.diag.message_primary or "")
            where = _pg_connect.redact(self.url)
            raise _pg_identity.mismatch(where, found, self._identity, changed=True) from None

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
        from psycopg_pool import PoolTimeout

        pool = cast(Any, self.conn)
        free = getattr(pool, "get_stats", None)
        if not _pg_connect.pipelines() or free is None or free().get("pool_available", 0) < 1:
            yield None
            return
        try:
            conn = pool.getconn(timeout=_pg_connect.SPARE_WAIT)
        except PoolTimeout:
            yield None
            return
        try:
            with conn.pipeline():  # statements up to the pipeline's end: one transaction
                yield conn
        finally:
            pool.putconn(conn)

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
        return self.ranking if self.hybrid else None

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
        op = self._check_explain(SearchOp(namespace_prefix, filter, limit, offset, query))
        assert self.embeddings is not None
        vector = self._query_vector(query, self.embeddings.embed_query(query))
        return self._explain(op, vector)

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

        op = self._check_explain(SearchOp(namespace_prefix, filter, limit, offset, query))
        assert self.embeddings is not None
        vector = self._query_vector(query, await self.embeddings.aembed_query(query))
        return await asyncio.to_thread(self._explain, op, vector)

    def _check_explain(self, op: SearchOp) -> SearchOp:
        """``op``'s arguments checked as a search's (same errors as on the embedded store)."""
        _pg_checks.checked([op])
        if self.embeddings is None or not op.query:
            raise ConfigurationError(
                f"explain(query={op.query!r}) needs a store with an index and a non-empty "
                'query: open the store with index={"dims": ...} and pass the text you searched '
                "for."
            )
        return op

    def _query_vector(self, query: str, vector: Sequence[float]) -> list[float]:
        """``vector`` as a list, refused (``ModelOutputError``) when it holds NaN or infinity or
        has the wrong length."""
        listed = list(vector)
        dims = int(self.index_config["dims"]) if self.index_config else len(listed)
        # the sum is NaN or infinite when a value is: ~2 us, where numpy's check takes ~30
        if len(listed) != dims or not math.isfinite(sum(listed)):
            _writes.query_vector(listed, dims, query)  # raises, naming the query
        return listed

    def _explain(self, op: SearchOp, vector: list[float]) -> list[tuple[SearchItem, Explanation]]:
        offset, want = op.offset, op.offset + op.limit
        with self._transaction(pipeline=True) as cur:
            self._check_index(cur, writes=False)
            ranked = _pg_search.explain(self, cur, op, vector, self.active_ranking())
        return [(_pg_search.search_item(row, e.score), e) for row, e in ranked[offset:want]]

    # -- batches -------------------------------------------------------------------------

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` in one transaction: reads first, then writes (as LangGraph does)."""
        grouped, count = _group_ops(_pg_checks.checked(ops))
        results: list[Result] = [None] * count
        puts = cast(Sequence[tuple[int, PutOp]], grouped.get(PutOp, []))
        searches = cast(Sequence[tuple[int, SearchOp]], grouped.get(SearchOp, []))
        plan = self._plan_puts(puts) if puts else None
        vectors = self._query_vectors(searches)
        with self._transaction(pipeline=bool(vectors)) as cur:
            if vectors:  # ranks with this handle's query vectors
                self._check_index(cur, writes=False)
            if GetOp in grouped:
                gets = cast(Sequence[tuple[int, GetOp]], grouped[GetOp])
                if not _pg_expiry.NATIVE and self._omit_expired:
                    gets = _pg_expiry.live_gets(cur, gets)
                if gets:
                    self._batch_get_ops(gets, results, cur)
            for idx, op in searches:
                vector = vectors.get(idx)
                found = (
                    _pg_search.ranked_search(self, cur, op, vector)
                    if vector is not None
                    else _pg_search.list_search(self, cur, op)
                )
                results[idx] = found
                if op.refresh_ttl and self.ttl_config and found:
                    self._refresh(cur, [(".".join(i.namespace), i.key) for i in found])
            if ListNamespacesOp in grouped:
                lists = cast(Sequence[tuple[int, ListNamespacesOp]], grouped[ListNamespacesOp])
                if not _pg_expiry.NATIVE and self._omit_expired:
                    for idx, listing in lists:
                        results[idx] = _pg_expiry.list_namespaces(cur, listing)
                else:
                    self._batch_list_namespaces_ops(lists, results, cur)
            changed = self._apply_puts(cur, plan) if plan is not None else None
        if changed is not None:
            self.word_counts.forget(changed)  # this handle's next query sees its own writes
        return results

    def restore(
        self,
        items: Iterable[Item],
        *,
        ttls: Mapping[tuple[tuple[str, ...], str], tuple[float, datetime]] | None = None,
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
        listed = list(items)
        if len({(tuple(i.namespace), i.key) for i in listed}) != len(listed):
            raise ConfigurationError(
                f"restore() was given {len(listed)} items with repeated (namespace, key) pairs: "
                "give each item once."
            )
        if not listed:
            return 0
        kept = [(ttls or {}).get((tuple(i.namespace), i.key)) for i in listed]
        for item, ttl in zip(listed, kept):
            if ttl is not None and not (isinstance(ttl[0], (int, float)) and ttl[0] > 0):
                raise ConfigurationError(
                    f"restore(): item {'/'.join(item.namespace)}/{item.key} has ttl_minutes "
                    f"{ttl[0]!r}: give a positive number of minutes, or leave the item out "
                    "of ttls for no TTL."
                )
        _pg_checks.refuse_unholdable(
            ((".".join(map(str, i.namespace)), i.key, i.value) for i in listed),
            "Nothing was written.",
        )
        ops = _pg_checks.checked(PutOp(tuple(i.namespace), i.key, i.value) for i in listed)
        puts = [(n, cast(PutOp, op)) for n, op in enumerate(ops)]
        plan = self._plan_puts(puts)
        with self._transaction() as cur:
            changed = self._apply_puts(cur, plan)
            cur.execute(
                "UPDATE store s SET created_at = t.c, updated_at = t.u, expires_at = t.e,"
                " ttl_minutes = t.m FROM unnest(%s::text[], %s::text[], %s::timestamptz[],"
                " %s::timestamptz[], %s::timestamptz[], %s::float8[]) AS t(p, k, c, u, e, m)"
                " WHERE s.prefix = t.p AND s.key = t.k",
                (
                    [".".join(i.namespace) for i in listed],
                    [i.key for i in listed],
                    [_utc(i.created_at) for i in listed],
                    [_utc(i.updated_at) for i in listed],
                    [None if t is None else _utc(t[1]) for t in kept],
                    [None if t is None else _pg_checks.capped_ttl(t[0]) for t in kept],
                ),
            )
        self.word_counts.forget(changed)
        return len(listed)

    def reembed(
        self,
        index: PostgresIndexConfig | dict[str, Any] | None = None,
        *,
        progress: Callable[[int, int], object] | None = None,
        batch_size: int = 64,
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

        Returns:
            How many distinct texts the new index holds.
        """
        from langmem.stores import _identity, _pg_reembed

        if index is None:
            if self.index_config is None:
                raise ConfigurationError(
                    f"reembed() on {_pg_connect.redact(self.url)}: this handle has no index; "
                    "pass one, e.g. store.reembed({'dims': 384, 'embed': <embeddings>, "
                    "'fields': ['$']})."
                )
            index = {k: self.index_config.get(k) for k in ("dims", "embed", "fields")}
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(f"reembed(batch_size={batch_size!r}): use 1 or more.")
        config, embeddings, found = _identity.index_setup(index)
        wanted = _pg_identity.Identity(found.embedder, found.dims, found.fields or ("$",))
        extras = {k: v for k, v in (self.index_config or {}).items() if not k.startswith("__")}
        extras.update(dims=config["dims"], embed=index.get("embed"), fields=config["fields"])
        with self._transaction() as cur:
            cur.execute("SELECT to_regclass('store_vectors') IS NOT NULL AS ok")
            indexed = bool(cur.fetchone()["ok"])
        if not indexed:  # a store never indexed: create its vector tables, nothing to embed
            self._configure_index(cast(PostgresIndexConfig, extras), embeddings, wanted)
            self.setup()
            return 0
        with _pg_connect.migration_lock(self._conninfo, self.url), self._transaction() as cur:
            # the stage and the checks, for a handle that skipped setup()
            _pg_connect.run_migrations(cur, "langmem_vector_migrations", VECTOR_STEPS)
        count = _pg_reembed.run(
            self, config["fields"], embeddings, wanted, batch_size=batch_size, progress=progress
        )
        self._configure_index(cast(PostgresIndexConfig, extras), embeddings, wanted)
        self._checks = True
        return count

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

    def _query_vectors(self, searches: Sequence[tuple[int, SearchOp]]) -> dict[int, list[float]]:
        asked = [(idx, op.query) for idx, op in searches if op.query]
        if not asked or self.embeddings is None:
            return {}
        embedded = self.embeddings.embed_documents([query for _, query in asked if query])
        return {
            idx: self._query_vector(query or "", vector)
            for (idx, query), vector in zip(asked, embedded)
        }

    def _refresh(self, cur: Any, items: list[tuple[str, str]]) -> None:
        # on a cursor of its own: in pipeline mode, a result left unread on ``cur`` could be
        # taken for the next statement's
        cur.connection.execute(
            "UPDATE store s SET expires_at = NOW() + (s.ttl_minutes || ' minutes')::interval"
            " FROM unnest(%s::text[], %s::text[]) AS t(prefix, key)"
            " WHERE s.prefix = t.prefix AND s.key = t.key AND s.ttl_minutes IS NOT NULL",
            ([p for p, _ in items], [k for _, k in items]),
        )

    def _plan_puts(self, puts: Sequence[tuple[int, PutOp]]) -> _PutPlan:
        """SQL of the writes, with every embedding computed before the transaction opens."""
        queries, request = self._prepare_batch_PUT_queries(puts)
        last = {(op.namespace, op.key): op for _, op in puts}
        touched = [(".".join(ns), key) for ns, key in last]
        texts = list(request[1]) if request else []
        vectors: list[list[float]] = []
        if texts and self.embeddings is not None:
            strings = [t[3] for t in texts]
            vectors = [list(v) for v in self.embeddings.embed_documents(strings)]
            dims = int(self.index_config["dims"]) if self.index_config else 0
            _writes.to_blobs(vectors, len(strings), dims, strings)  # NaN, infinity, length
        return _PutPlan(queries, touched, texts, vectors)

    def _apply_puts(self, cur: Any, plan: _PutPlan) -> set[str]:
        """Run the writes; returns the words of the texts they added or removed."""
        changed: set[str] = set()
        if self.index_config and plan.touched:
            self._check_index(cur, writes=True)  # before any vector changes
            # an item's vectors are replaced as a whole (index=False or fewer fields leave none;
            # a deleted item keeps none): removed first, to learn which words they held
            cur.execute(
                "DELETE FROM store_vectors sv USING unnest(%s::text[], %s::text[]) AS t(p, k)"
                " WHERE sv.prefix = t.p AND sv.key = t.k"
                " RETURNING tsvector_to_array(sv.lm_words) AS words",
                ([p for p, _ in plan.touched], [k for _, k in plan.touched]),
            )
            for row in cur.fetchall():
                changed.update(row["words"] or ())
        for query, params in plan.queries:
            cur.execute(query, params)
        if plan.texts:
            for _, _, _, text in plan.texts:
                changed.update(tokens(text))
            insert_vectors(
                cur,
                [
                    (ns, key, path, text, vector)
                    for (ns, key, path, text), vector in zip(plan.texts, plan.vectors)
                ],
            )
        return changed


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class _PutPlan:
    __slots__ = ("queries", "texts", "touched", "vectors")

    def __init__(
        self,
        queries: list[tuple[str, Sequence[Any]]],
        touched: list[tuple[str, str]],
        texts: list[tuple[str, str, str, str]],
        vectors: list[list[float]],
    ) -> None:
        self.queries = queries
        self.touched = touched
        self.texts = texts
        self.vectors = vectors


def insert_vectors(
    cur: Any,
    rows: Sequence[tuple[str, str, str, str, Sequence[float]]],
    *,
    stamps: Sequence[tuple[Any, Any]] | None = None,
    table: str = "store_vectors",
) -> None:
    """Insert (or replace) ``(prefix, key, field, text, vector)`` rows of ``store_vectors``
    (or of ``table``, shaped like it: a re-embed's stage).

    Each row also gets its text and its words (for full-text search); ``stamps`` gives each
    row's ``(created_at, updated_at)`` (default: now).
    """
    if not rows:
        return
    columns: list[list[Any]] = [[], [], [], [], [], [], [], [], []]
    for i, (prefix, key, field, text, vector) in enumerate(rows):
        created, updated = stamps[i] if stamps is not None else (None, None)
        values = (
            prefix,
            key,
            field,
            _pg_search.vector_literal(vector),
            text,
            " ".join(dict.fromkeys(tokens(text))),
            length(text),
            created,
            updated,
        )
        for column, value in zip(columns, values):
            column.append(value)
    cur.execute(
        f"INSERT INTO {table}"
        " (prefix, key, field_name, embedding, lm_text, lm_words, lm_length, created_at,"
        " updated_at)"
        " SELECT p, k, f, e::vector, t,"
        " array_to_tsvector(coalesce(string_to_array(nullif(w, ''), ' '), '{}'::text[])), n,"
        " coalesce(c, CURRENT_TIMESTAMP), coalesce(u, CURRENT_TIMESTAMP)"
        " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
        " %s::int[], %s::timestamptz[], %s::timestamptz[]) AS r(p, k, f, e, t, w, n, c, u)"
        " ON CONFLICT (prefix, key, field_name) DO UPDATE SET embedding = EXCLUDED.embedding,"
        " lm_text = EXCLUDED.lm_text, lm_words = EXCLUDED.lm_words,"
        " lm_length = EXCLUDED.lm_length,"
        " updated_at = EXCLUDED.updated_at",
        columns,
    )
