"""The PostgreSQL store's ranking: its parameters, ``explain`` and the re-ranker's fields.

:class:`RankedSearch` is the base of :class:`~langmem.stores.PostgresStore` that holds the
hybrid ranking's parameters (``hybrid``, ``ranking``) and explains a search's order, with the
re-ranking stage when the ranking has one (``_rerank``), as
:meth:`langmem.stores.SqliteStore.explain` does.
"""

from __future__ import annotations

from typing import Any

from langgraph.store.base import SearchItem, SearchOp

from langmem._flow import run_async, run_sync
from langmem.stores import _pg_queries, _ranking_arg, _rerank, _writes
from langmem.stores._pg_handle import DatabaseHandle
from langmem.stores.ranking import Explanation, Ranking

__all__ = ["RankedSearch"]


class RankedSearch(DatabaseHandle):
    """A store handle's ranking and its explanation."""

    hybrid: bool
    ranking: Ranking | None
    _paths: _writes.IndexPaths | None  # the fields a re-ranker reads, set with the index

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
        op = _pg_queries.explain_op(
            self._as_store, SearchOp(namespace_prefix, filter, limit, offset, query)
        )
        assert self.embeddings is not None
        vector = _pg_queries.query_vector(self._as_store, query, self.embeddings.embed_query(query))
        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return _pg_queries.explained(self._as_store, op, vector)
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

        op = _pg_queries.explain_op(
            self._as_store, SearchOp(namespace_prefix, filter, limit, offset, query)
        )
        assert self.embeddings is not None
        vector = _pg_queries.query_vector(
            self._as_store, query, await self.embeddings.aembed_query(query)
        )
        ranking = _rerank.active(self.ranking)
        if ranking is None:
            return await asyncio.to_thread(_pg_queries.explained, self._as_store, op, vector)
        flow = _rerank.explain_flow(op, ranking, self._explainer(vector), self._rerank_fields())
        return await run_async(flow)

    def _explainer(self, vector: list[float]) -> _rerank.Inner:
        """:meth:`explain` of an op with this query vector, without the re-ranking stage."""
        import asyncio

        return _rerank.Inner(
            lambda op: _pg_queries.explained(self._as_store, op, vector),
            lambda op: asyncio.to_thread(_pg_queries.explained, self._as_store, op, vector),
        )

    def _rerank_fields(self) -> _writes.IndexPaths | None:
        """The fields a re-ranker reads (``None`` without an index: nothing is ranked)."""
        return self._paths

    def _index_paths(self) -> _writes.IndexPaths | None:
        """:meth:`_rerank_fields`' answer, computed when the index is set (not per batch)."""
        if not self.index_config or self.embeddings is None:
            return None
        return _writes.index_paths(self.index_config.get("fields") or ["$"])
