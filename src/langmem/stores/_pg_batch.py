"""A batch of :class:`~langmem.stores.PostgresStore` operations, in one transaction.

Before the transaction opens: every operation checked (``_pg_checks``), the puts planned with
their embeddings (``_pg_writes.plan``), the queries embedded (``_pg_queries``); a read-only
database refuses writes here, before anything is embedded, and its reads refresh no TTL. In
it: gets (TTLs refreshed as a search's are), searches, namespace listings, then the writes (as
LangGraph orders them). A transaction the server rolled back for a deadlock or a serialization
failure is run again (``_pg_connect.retried``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

from langgraph.store.base import GetOp, ListNamespacesOp, Op, PutOp, Result, SearchOp
from langgraph.store.postgres.base import _group_ops

from langmem.stores import (
    _pg_checks,
    _pg_connect,
    _pg_expect,
    _pg_expiry,
    _pg_namespaces,
    _pg_queries,
    _pg_read_only,
    _pg_search,
    _pg_writes,
)

if TYPE_CHECKING:
    from langmem._expect import Expected
    from langmem.stores._postgres import PostgresStore


def run(store: PostgresStore, ops: Iterable[Op], expect: Sequence[Expected] = ()) -> list[Result]:
    """The results of ``ops``, in their order (see the module); with ``expect``, written only
    if those memories are as their writer read them (``_pg_expect``)."""
    grouped, count = _group_ops(_pg_checks.checked(ops))
    puts = cast(Sequence[tuple[int, PutOp]], grouped.get(PutOp, []))
    if store._read_only_now() is not None:  # before anything is embedded; no TTL refresh
        if puts:
            store._refuse_writes()
        grouped = _pg_read_only.without_refresh(grouped)
    searches = cast(Sequence[tuple[int, SearchOp]], grouped.get(SearchOp, []))
    plan = _pg_writes.plan(store, puts) if puts else None
    vectors = _pg_queries.query_vectors(store, searches)
    # a deadlock or serialization failure rolled the transaction back: run it again
    return _pg_connect.retried(
        lambda: _run(store, grouped, count, plan, vectors, expect), store.url
    )


def _run(
    store: PostgresStore,
    grouped: dict[type, list[tuple[int, Any]]],
    count: int,
    plan: _pg_writes.PutPlan | None,
    vectors: dict[int, Any],
    expect: Sequence[Expected],
) -> list[Result]:
    """:func:`run`'s transaction: the reads, then the expectations, then the planned writes."""
    results: list[Result] = [None] * count
    searches = cast(Sequence[tuple[int, SearchOp]], grouped.get(SearchOp, []))
    with store._transaction(pipeline=bool(vectors)) as cur:
        if vectors:  # ranks with this handle's query vectors
            store._check_index(cur, writes=False)
        if GetOp in grouped:
            gets = cast(Sequence[tuple[int, GetOp]], grouped[GetOp])
            if not _pg_expiry.NATIVE and store._omit_expired:
                gets = _pg_expiry.live_gets(cur, gets)
            if gets:  # TTLs refreshed as a search's are (LangGraph's waits: deadlocks)
                store._batch_get_ops(gets, results, cur)
                read = [
                    (".".join(op.namespace), op.key)
                    for i, op in gets
                    if op.refresh_ttl and results[i] is not None
                ]
                if read:  # items with a TTL (put(..., ttl=) works without a ttl config)
                    _pg_writes.refresh(cur, read)
        for idx, op in searches:
            vector = vectors.get(idx)
            found = (
                _pg_search.ranked_search(store, cur, op, vector)
                if vector is not None
                else _pg_search.list_search(store, cur, op)
            )
            results[idx] = found
            if op.refresh_ttl and found:
                _pg_writes.refresh(cur, [(".".join(i.namespace), i.key) for i in found])
        if ListNamespacesOp in grouped:
            lists = cast(Sequence[tuple[int, ListNamespacesOp]], grouped[ListNamespacesOp])
            for idx, listing in lists:
                results[idx] = _pg_namespaces.list_namespaces(
                    cur, listing, omit_expired=store._omit_expired
                )
        if plan is None and expect:
            _pg_expect.check(store, cur, expect, [])
        changed = _pg_writes.apply(store, cur, plan, expect) if plan is not None else None
    if changed is not None:
        store.word_counts.forget(changed)  # this handle's next query sees its own writes
    return results
