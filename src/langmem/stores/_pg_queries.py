"""The query side of :class:`~langmem.stores.PostgresStore`: query vectors, ``explain`` and the
get queries.

A batch's query texts are embedded together before its transaction opens, and each vector is
checked as the embedded store checks it (length, NaN or infinity: ``ModelOutputError`` naming
the query). ``explain`` runs the same ranking as a search (:mod:`langmem.stores._pg_search`)
and returns each result with its score's parts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langgraph.store.base import GetOp, SearchItem, SearchOp

from langmem.errors import ConfigurationError
from langmem.stores import _pg_checks, _pg_search, _writes
from langmem.stores.ranking import Explanation

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore


def query_vector(store: PostgresStore, query: str, vector: Sequence[float]) -> list[float]:
    """``vector`` as a list, refused (``ModelOutputError``) when it holds NaN or infinity or
    has the wrong length."""
    listed = list(vector)
    dims = int(store.index_config["dims"]) if store.index_config else len(listed)
    # the sum is NaN or infinite when a value is: ~2 us, where numpy's check takes ~30
    if len(listed) != dims or not math.isfinite(sum(listed)):
        _writes.query_vector(listed, dims, query)  # raises, naming the query
    return listed


def query_vectors(
    store: PostgresStore, searches: Sequence[tuple[int, SearchOp]]
) -> dict[int, list[float]]:
    """The checked query vector of each search (by its index in the batch) that has a query."""
    asked = [(idx, op.query) for idx, op in searches if op.query]
    if not asked or store.embeddings is None:
        return {}
    embedded = store.embeddings.embed_documents([query for _, query in asked if query])
    return {
        idx: query_vector(store, query or "", vector)
        for (idx, query), vector in zip(asked, embedded)
    }


def explain_op(store: PostgresStore, op: SearchOp) -> SearchOp:
    """``op``'s arguments checked as a search's (same errors as on the embedded store)."""
    (op,) = _pg_checks.checked([op])  # type: ignore[assignment]
    if store.embeddings is None or not op.query:
        raise ConfigurationError(
            f"explain(query={op.query!r}) needs a store with an index and a non-empty "
            'query: open the store with index={"dims": ...} and pass the text you searched '
            "for."
        )
    return op


def explained(
    store: PostgresStore, op: SearchOp, vector: list[float]
) -> list[tuple[SearchItem, Explanation]]:
    """The page ``op`` asks for, each result with its explanation."""
    offset, want = op.offset, op.offset + op.limit
    with store._transaction(pipeline=True) as cur:
        store._check_index(cur, writes=False)
        ranked = _pg_search.explain(store, cur, op, vector, store.active_ranking())
    return [(_pg_search.search_item(row, e.score), e) for row, e in ranked[offset:want]]


def get_queries(
    gets: Sequence[tuple[int, GetOp]], omit_expired: bool
) -> list[tuple[str, tuple[Any, ...], tuple[str, ...], list[tuple[int, str]]]]:
    """LangGraph's get queries (one per namespace: the SQL, its parameters, the namespace and
    the ``(index, key)`` asked) without its TTL refresh. The store restarts the TTLs of what the
    gets found itself (``_pg_writes.refresh``, which skips rows another transaction holds:
    LangGraph's refresh waits for each row in no set order, and concurrent batches deadlocked),
    and a read-only database or user refuses LangGraph's ``UPDATE`` even when it would change
    no row."""
    grouped: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    for idx, op in gets:
        grouped.setdefault(tuple(op.namespace), []).append((idx, op.key))
    expiry = " AND (s.expires_at IS NULL OR s.expires_at > NOW())" if omit_expired else ""
    return [
        (
            "SELECT s.key, s.value, s.created_at, s.updated_at FROM store s"
            f" WHERE s.prefix = %s AND s.key = ANY(%s::text[]){expiry}",
            (".".join(namespace), [key for _, key in items]),
            namespace,
            items,
        )
        for namespace, items in grouped.items()
    ]
