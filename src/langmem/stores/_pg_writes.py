"""Writes of :class:`~langmem.stores.PostgresStore`: puts, restores, TTL refreshes, vector rows.

A batch's puts are planned before its transaction opens (LangGraph's SQL for the items, and
every embedding computed and checked: :func:`plan`), then applied inside it (:func:`apply`):
an item's vector rows are replaced as a whole, after the index check. :func:`restore` writes
items as they were (timestamps, TTL and expiry kept). :func:`insert_vectors` writes vector rows
with langmem's text columns; re-embeds (their stage) and copies use it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from langgraph.store.base import Item, PutOp

from langmem.errors import ConfigurationError
from langmem.stores import _pg_checks, _pg_connect, _pg_search, _pg_tokens, _writes
from langmem.stores._pg_schema import SEQUENCE, fts5_counts
from langmem.stores.ranking import length

if TYPE_CHECKING:
    from langmem._expect import Expected
    from langmem.stores._postgres import PostgresStore

Ttls = Mapping[tuple[tuple[str, ...], str], tuple[float, datetime]]
"""``(namespace, key)`` -> ``(ttl_minutes, expires_at)`` of restored items."""


@dataclass(slots=True)
class PutPlan:
    """A batch's puts, ready to run: SQL, the items they touch, the texts and their vectors."""

    queries: list[tuple[str, Sequence[Any]]]
    touched: list[tuple[str, str]]  # (prefix, key)
    texts: list[tuple[str, str, str, str]]  # (prefix, key, field, text)
    vectors: list[list[float]]  # one per text


def plan(store: PostgresStore, puts: Sequence[tuple[int, PutOp]]) -> PutPlan:
    """SQL of the writes, with every embedding computed before the transaction opens."""
    last = {(op.namespace, op.key): op for _, op in puts}  # keys in first-write order
    # LangGraph's SQL for the writes in one order shared by every batch (sorted by prefix
    # and key), so its inserts lock new rows in that order (see :func:`lock_rows`)
    ordered = sorted(puts, key=lambda put: (".".join(put[1].namespace), put[1].key))
    queries, request = store._prepare_batch_PUT_queries(ordered)
    touched = sorted({(".".join(ns), key) for ns, key in last})
    place = {(".".join(ns), key): n for n, (ns, key) in enumerate(last)}
    # texts in the batch's first-write order, as before: their place in the write order
    # (``lm_seq``, the ties' order) is the embedded store's
    texts = sorted(request[1], key=lambda t: place[t[0], t[1]]) if request else []
    if any(field == "$" for _, _, field, _ in texts):  # as the embedded store writes it
        values = {(".".join(op.namespace), op.key): op.value for op in last.values()}
        texts = [
            (p, k, f, _writes.whole_text(values[p, k]) if f == "$" else t) for p, k, f, t in texts
        ]
    vectors: list[list[float]] = []
    if texts and store.embeddings is not None:
        strings = [t[3] for t in texts]
        vectors = [list(v) for v in store.embeddings.embed_documents(strings)]
        dims = int(store.index_config["dims"]) if store.index_config else 0
        _writes.to_blobs(vectors, len(strings), dims, strings)  # NaN, infinity, length
    return PutPlan(queries, touched, texts, vectors)


def apply(
    store: PostgresStore, cur: Any, plan: PutPlan, expect: Sequence[Expected] = ()
) -> set[str]:
    """Run the writes; returns the words of the texts they added or removed. With
    ``expect``: only when those memories are as their writer read them (``_pg_expect``)."""
    changed: set[str] = set()
    kept: dict[tuple[str, str, str, str], int] = {}  # rows rewritten with the same text
    indexed = bool(store.index_config and plan.touched)
    if indexed:
        store._check_index(cur, writes=True)  # before any vector changes
    if expect:  # the expected memories' rows locked with the written ones, and read
        from langmem.stores import _pg_expect

        _pg_expect.check(store, cur, expect, plan.touched)
    else:
        lock_rows(cur, plan.touched)  # before any row changes
    if indexed:
        # an item's vectors are replaced as a whole (index=False or fewer fields leave none;
        # a deleted item keeps none): removed first, to learn which words they held
        cur.execute(
            "DELETE FROM store_vectors sv USING unnest(%s::text[], %s::text[]) AS t(p, k)"
            " WHERE sv.prefix = t.p AND sv.key = t.k"
            " RETURNING tsvector_to_array(sv.lm_words) AS words, sv.prefix, sv.key,"
            " sv.field_name, sv.lm_text, sv.lm_seq",
            ([p for p, _ in plan.touched], [k for _, k in plan.touched]),
        )
        for row in cur.fetchall():
            changed.update(row["words"] or ())
            if row["lm_seq"] is not None and row["lm_text"] is not None:
                kept[row["prefix"], row["key"], row["field_name"], row["lm_text"]] = row["lm_seq"]
    for query, params in plan.queries:
        cur.execute(query, params)
    if plan.texts:
        changed |= insert_vectors(
            cur,
            [
                (ns, key, path, text, vector)
                for (ns, key, path, text), vector in zip(plan.texts, plan.vectors)
            ],
            kept=kept,
        )
    return changed


def lock_rows(cur: Any, touched: Sequence[tuple[str, str]]) -> None:
    """Lock the stored rows of the ``(prefix, key)`` items a batch writes, in one order (by
    prefix and key, bytewise: Python's order of ``touched``), before it changes anything.

    Every write of an item (its row, its vector rows) then waits for that lock, taken in the
    same order by every batch, so two batches writing the same items in different orders wait
    for each other instead of deadlocking (LangGraph's SQL locks rows in the batch's order:
    deletes per namespace, then inserts). Items not stored yet are locked by the insert, whose
    rows come in the same order (:func:`plan`)."""
    _lock(cur, touched, "s.prefix, s.key")


def lock_and_read(
    cur: Any, touched: Sequence[tuple[str, str]], *, omit_expired: bool
) -> dict[tuple[str, str], dict[str, Any]]:
    """:func:`lock_rows`, returning the locked rows by ``(prefix, key)``: value,
    ``created_at``, ``updated_at`` and ``expired`` (with ``omit_expired``, whether the row's
    TTL has passed, so that it reads as none; else never)."""
    expired = "s.expires_at IS NOT NULL AND s.expires_at <= NOW()" if omit_expired else "FALSE"
    columns = f"s.prefix, s.key, s.value, s.created_at, s.updated_at, {expired} AS expired"
    found = _lock(cur, touched, columns)
    return {} if found is None else {(row["prefix"], row["key"]): row for row in found.fetchall()}


def _lock(cur: Any, touched: Sequence[tuple[str, str]], columns: str) -> Any:
    """Run the locking select of ``touched`` reading ``columns`` (``None``: nothing to lock)."""
    if not touched:
        return None
    # on a cursor of its own: in pipeline mode (a batch with searches), its rows are never
    # read, and a result left unread on ``cur`` could be taken for the next statement's
    return cur.connection.execute(
        f"SELECT {columns} FROM store s WHERE (s.prefix, s.key) IN"
        " (SELECT * FROM unnest(%s::text[], %s::text[]))"
        ' ORDER BY s.prefix COLLATE "C", s.key COLLATE "C" FOR UPDATE OF s',
        ([p for p, _ in touched], [k for _, k in touched]),
    )


def restore(store: PostgresStore, items: Iterable[Item], ttls: Ttls | None) -> int:
    """:meth:`PostgresStore.restore <langmem.stores.PostgresStore.restore>`: checked, then
    written in one transaction with each item's timestamps and TTL."""
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
    planned = plan(store, [(n, cast(PutOp, op)) for n, op in enumerate(ops)])
    changed = _pg_connect.retried(lambda: _restored(store, planned, listed, kept), store.url)
    store.word_counts.forget(changed)
    return len(listed)


def _restored(
    store: PostgresStore,
    planned: PutPlan,
    listed: list[Item],
    kept: list[tuple[float, datetime] | None],
) -> set[str]:
    """:func:`restore`'s transaction; returns the words of the texts it added or removed."""
    with store._transaction() as cur:
        changed = apply(store, cur, planned)
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
    return changed


def refresh(cur: Any, items: list[tuple[str, str]]) -> None:
    """Restart the TTL of ``(prefix, key)`` items read with ``refresh_ttl`` (those without a
    TTL are left alone).

    A row another transaction holds at that moment is skipped (``SKIP LOCKED``): that one
    writes, deletes or refreshes it. Waiting for it instead let two reads (searches, batches
    of gets) refreshing the same rows in different orders deadlock each other."""
    # on a cursor of its own: in pipeline mode, a result left unread on ``cur`` could be
    # taken for the next statement's
    cur.connection.execute(
        "UPDATE store s SET expires_at = NOW() + (s.ttl_minutes || ' minutes')::interval"
        " FROM (SELECT l.prefix, l.key FROM store l"
        " JOIN unnest(%s::text[], %s::text[]) AS t(prefix, key)"
        " ON l.prefix = t.prefix AND l.key = t.key WHERE l.ttl_minutes IS NOT NULL"
        " FOR NO KEY UPDATE OF l SKIP LOCKED) AS r"
        " WHERE s.prefix = r.prefix AND s.key = r.key",
        ([p for p, _ in items], [k for _, k in items]),
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def insert_vectors(
    cur: Any,
    rows: Sequence[tuple[str, str, str, str, Sequence[float]]],
    *,
    stamps: Sequence[tuple[Any, Any]] | None = None,
    table: str = "store_vectors",
    kept: Mapping[tuple[str, str, str, str], int] | None = None,
) -> set[str]:
    """Insert (or replace) ``(prefix, key, field, text, vector)`` rows of ``store_vectors``
    (or of ``table``, shaped like it: a re-embed's stage).

    Each row also gets its text and its words (for full-text search); ``stamps`` gives each
    row's ``(created_at, updated_at)`` (default: now); ``kept``: the place in the write
    order (``lm_seq``) of rows ``(prefix, key, field, text)`` rewritten with the same text
    (as the embedded store keeps their vector rows), the others come last. Returns the words
    of the texts written (split as the SQLite store's FTS5 index splits them: :mod:`._pg_tokens`).
    """
    if not rows:
        return set()
    columns: list[list[Any]] = [[] for _ in range(12)]
    places = kept or {}
    split = _pg_tokens.words_of([row[3] for row in rows])  # as the SQLite store's FTS5 index
    for i, (prefix, key, field, text, vector) in enumerate(rows):
        created, updated = stamps[i] if stamps is not None else (None, None)
        words = split[i]
        values = (
            prefix,
            key,
            field,
            _pg_search.vector_literal(vector),
            text,
            _pg_tokens.lexemes(words),
            length(text),
            *fts5_counts(words),
            places.get((prefix, key, field, text)),
            created,
            updated,
        )
        for column, value in zip(columns, values):
            column.append(value)
    # The upsert below must change lm_text, or its rows must be deleted first (as every caller
    # does): on store_vectors, an UPDATE that changes the embedding under the same lm_text is
    # LangGraph's re-put, and a trigger clears the row's text columns (_pg_untexted.SCHEMA).
    cur.execute(
        f"INSERT INTO {table}"
        " (prefix, key, field_name, embedding, lm_text, lm_words, lm_length, lm_tokens,"
        " lm_repeats, lm_seq, created_at, updated_at)"
        " SELECT p, k, f, e::vector, t,"
        " array_to_tsvector(coalesce(string_to_array(nullif(w, ''), ' '), '{}'::text[])), n,"
        f" o, r::jsonb, coalesce(q, nextval('{SEQUENCE}')), coalesce(c, CURRENT_TIMESTAMP),"
        " coalesce(u, CURRENT_TIMESTAMP)"
        " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
        " %s::int[], %s::int[], %s::text[], %s::int8[], %s::timestamptz[],"
        " %s::timestamptz[]) AS r(p, k, f, e, t, w, n, o, r, q, c, u)"
        " ON CONFLICT (prefix, key, field_name) DO UPDATE SET embedding = EXCLUDED.embedding,"
        " lm_text = EXCLUDED.lm_text, lm_words = EXCLUDED.lm_words,"
        " lm_length = EXCLUDED.lm_length, lm_tokens = EXCLUDED.lm_tokens,"
        " lm_repeats = EXCLUDED.lm_repeats,"
        " updated_at = EXCLUDED.updated_at",
        columns,
    )
    return {word for found in split for word in found}
