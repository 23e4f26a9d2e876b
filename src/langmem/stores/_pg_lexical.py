"""The lexical side of a PostgreSQL search: each query term's document frequency, and the
allowed texts holding the query's rarer words, the same ones the embedded store takes (see
:mod:`._pg_search`; when many texts hold them, the best of the whole store by FTS5's
``bm25()``, computed in SQL by :func:`fts5_rank` to SQLite's last bit, then the allowed ones).
Without a filter, how far to look for enough allowed ones is found in one statement
(:func:`_widened`), from the start in a namespace holding a small part of the store;
bench/pg_lexical_cut.py measures the cost against the rule before (the best of the namespace by
the ranking's BM25)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from langgraph.store.base import SearchOp

from langmem.stores import _filters, _lexicon, _pg_search
from langmem.stores import ranking as rules
from langmem.stores._search import COMMON_FLOOR, COMMON_SHARE

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore


def lexical_side(
    store: PostgresStore,
    cur: Any,
    op: SearchOp,
    terms: list[str],
    corpus: rules.Corpus,
    tokens: int,
    scope: tuple[tuple[str, list[Any]], tuple[str, list[Any]], _pg_search.QueryVector],
    want: int,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Document frequency of each term, and the allowed rows of texts holding the rarer ones.

    ``tokens``: the indexed texts' words in all, read with ``corpus.documents`` (one
    ``word_counts.documents()`` per search, so both are of one moment); ``scope``: the namespace
    condition, the item condition and the query vector's literal."""
    documents = corpus.documents
    words = {t: rules.forms(t) for t in terms}
    counts = store.word_counts.count(cur, [w for forms in words.values() for w in forms])
    frequencies = {t: min(sum(counts[w] for w in words[t]), documents) for t in terms}
    common = max(COMMON_SHARE * documents, COMMON_FLOOR)
    search = {w: counts[w] for t in terms for w in words[t] if 0 < counts[w] <= common}
    return frequencies, _lexical_rows(store, cur, op, search, (documents, tokens), scope, want)


def _lexical_rows(
    store: PostgresStore,
    cur: Any,
    op: SearchOp,
    search: dict[str, int],
    totals: tuple[int, int],
    scope: tuple[tuple[str, list[Any]], tuple[str, list[Any]], _pg_search.QueryVector],
    want: int,
) -> list[dict[str, Any]]:
    """Allowed rows of texts holding any of ``search`` (word -> texts holding it): all of them
    when few, else the best of the whole store by FTS5's ``bm25()`` (:func:`fts5_rank`), the
    allowed ones kept and the scan widened while fewer than ``want`` remain, exactly as the
    embedded store's ``ORDER BY bm25(langmem_fts) LIMIT n`` (equal scores in the order texts
    were written in, as SQLite's rowids)."""
    if not search:
        return []
    (ns_sql, ns_params), (post_sql, post_params), literal = scope
    expiry, index = _pg_search._expiry(store), _pg_search._index_column(store)
    fetch = max(want * 2, 30)
    query = _pg_search.tsquery(list(search))
    if sum(search.values()) <= fetch:  # usually every match fits: no ordering needed
        # listed in the order texts were written in (``lm_seq``), as SQLite's rowids (the
        # ranking's ties keep the order candidates are listed in)
        cur.execute(
            f"WITH hits AS (SELECT sv.prefix, sv.key, sv.field_name, sv.lm_seq AS place"
            f" FROM store_vectors sv WHERE sv.lm_words @@ %s::tsquery AND {ns_sql})"
            f" SELECT {_columns()}{index} FROM hits{_LEXICAL_JOIN}"
            f" WHERE {expiry}{post_sql} ORDER BY hits.place",
            [query, *ns_params, literal, *post_params],
        )
        found = list(cur.fetchall())
        _pg_search._same_index(store, found)
        return [r for r in found if _filters.matches(r["value"], op.filter)]
    documents, tokens = totals
    rank, rank_params = fts5_rank(search, documents, tokens)
    prefix = tuple(op.namespace_prefix)
    if not op.filter and prefix and 4 * store.namespace_sizes.estimate(cur, prefix) < documents:
        # a small part of the store: few of its best are allowed, so look as far as needed
        return _widened(store, cur, op, (rank, rank_params, query), scope, (fetch, want))
    where = _pg_search.namespace_condition("hits.prefix", prefix)
    while True:
        # the best texts of the whole store; values, texts and cosines for the allowed ones
        cur.execute(
            f"WITH hits AS MATERIALIZED (SELECT sv.prefix, sv.key, sv.field_name,"
            f" sv.lm_seq AS place, {rank} AS rank FROM store_vectors sv"
            " WHERE sv.lm_words @@ %s::tsquery ORDER BY rank DESC, place LIMIT %s)"
            f" SELECT {_columns()}, (SELECT count(*) FROM hits) AS hits"
            f"{index} FROM hits{_LEXICAL_JOIN}"
            f" WHERE {where[0]} AND {expiry}{post_sql}"
            " ORDER BY hits.rank DESC, hits.place",
            [*rank_params, query, fetch, literal, *where[1], *post_params],
        )
        found = list(cur.fetchall())
        _pg_search._same_index(store, found)
        rows = [r for r in found if _filters.matches(r["value"], op.filter)]
        if len(rows) >= want:
            return rows
        if not op.filter:  # every condition in SQL: where the widening stops, in one statement
            return _widened(store, cur, op, (rank, rank_params, query), scope, (fetch, want))
        if found:
            hits = int(found[0]["hits"])
        else:
            cur.execute(
                "SELECT count(*) AS n FROM (SELECT 1 FROM store_vectors sv"
                " WHERE sv.lm_words @@ %s::tsquery LIMIT %s) t",
                [query, fetch],
            )
            hits = int(cur.fetchone()["n"])
        # widen the scan when namespaces, filters or expiry dropped too many of the best rows
        if hits < fetch:
            return rows
        fetch *= 4


def _widened(
    store: PostgresStore,
    cur: Any,
    op: SearchOp,
    ranked: tuple[str, list[Any], str],
    scope: tuple[tuple[str, list[Any]], tuple[str, list[Any]], _pg_search.QueryVector],
    sizes: tuple[int, int],
) -> list[dict[str, Any]]:
    """:func:`_lexical_rows`' widening loop in one statement, for a search without filters
    (namespace and expiry only, both in SQL): every match of the store in FTS5's order
    (``pos``), the allowed ones, and the first of ``fetch``, ``4 * fetch``, ``16 * fetch``...
    that holds ``want`` allowed ones or every match (``ranked``: the rank's SQL and parameters
    and the tsquery; ``sizes``: ``fetch`` and ``want``); the allowed rows up to it."""
    rank, rank_params, query = ranked
    _, _, literal = scope
    fetch, want = sizes
    where = _pg_search.namespace_condition("o.prefix", tuple(op.namespace_prefix))
    expiry, index = _pg_search._expiry(store), _pg_search._index_column(store)
    cur.execute(
        f"WITH ordered AS MATERIALIZED (SELECT m.*, row_number() OVER (ORDER BY m.rank DESC,"
        " m.place) AS pos, count(*) OVER () AS total FROM (SELECT sv.prefix, sv.key,"
        f" sv.field_name, sv.lm_seq AS place, {rank} AS rank FROM store_vectors sv"
        " WHERE sv.lm_words @@ %s::tsquery) m),"
        " allowed AS MATERIALIZED (SELECT o.* FROM ordered o JOIN store s"
        f" ON s.prefix = o.prefix AND s.key = o.key WHERE {where[0]} AND {expiry}),"
        " bound AS (SELECT coalesce((SELECT pos FROM allowed ORDER BY pos OFFSET %s LIMIT 1),"
        " (SELECT max(total) + 1 FROM ordered), 0) AS b),"
        " cut AS (SELECT min(f) AS f FROM (SELECT %s::bigint << (2 * k) AS f"
        " FROM generate_series(0, 24) k) fs, bound WHERE fs.f >= bound.b)"
        f" SELECT {_columns()}{index} FROM allowed hits{_LEXICAL_JOIN}"
        " WHERE hits.pos <= (SELECT f FROM cut) ORDER BY hits.pos",
        [*rank_params, query, *where[1], max(want - 1, 0), fetch, literal],
    )
    rows = list(cur.fetchall())
    _pg_search._same_index(store, rows)
    return rows


def _columns() -> str:
    """The select list of a lexical row (its item's columns, its text and its cosine)."""
    return (
        f"{_pg_search._COLUMNS}, v.field_name, v.lm_text, v.lm_length,"
        " 1 - (v.embedding <=> %s::vector) AS cosine"
    )


_LEXICAL_JOIN = (
    " JOIN store_vectors v ON v.prefix = hits.prefix AND v.key = hits.key"
    " AND v.field_name = hits.field_name"
    " JOIN store s ON s.prefix = hits.prefix AND s.key = hits.key"
)
_K1, _B = _lexicon._K1, _lexicon._B
"""FTS5's ``bm25()`` constants (fts5_aux.c), the ones :mod:`._lexicon` computes it with."""


def fts5_rank(search: dict[str, int], documents: int, words: int) -> tuple[str, list[Any]]:
    """SQL of a ``store_vectors sv`` row's FTS5 ``bm25()`` over the words of ``search`` (word
    -> texts holding it), with its parameters: the same formula, constants and floating-point
    operations in the same order as FTS5 (and :meth:`._lexicon.Lexicon.fts5_order`), so the
    scores are SQLite's to the last bit. ``documents``: the store's texts; ``words``: their
    words in all (``lm_tokens``). Per word: its IDF (at least 1e-6) times
    ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * words / average words))``, ``tf`` counted from
    ``lm_words`` and ``lm_repeats``; the words' parts added in order."""
    total = documents if documents > 0 else 1
    average = float(words) / float(total)
    if average <= 0.0:  # only texts written without langmem's columns: no word counts
        average = 1.0
    norm = "(%s::float8 * (%s::float8 + %s::float8 * coalesce(sv.lm_tokens, 0) / %s::float8))"
    norm_params = [_K1, 1 - _B, _B, average]
    idfs: list[float] = []
    for found in search.values():
        hits = min(found, total)  # counts read apart from the total may be ahead of it
        idf = math.log(((total - hits) + 0.5) / (hits + 0.5))
        idfs.append(idf if idf > 0.0 else 1e-6)
    if len(search) > _INLINE_WORDS:  # one parameter per word list: any number of words
        tf = "coalesce((sv.lm_repeats ->> q.w)::float8, 1::float8)"
        return (
            f"(SELECT sum(CASE WHEN sv.lm_words @@ q.t THEN q.idf * (({tf} * %s::float8)"
            f" / ({tf} + {norm})) ELSE 0::float8 END ORDER BY q.n)"
            " FROM unnest(%s::text[], %s::tsquery[], %s::float8[]) WITH ORDINALITY"
            " AS q(w, t, idf, n))",
            [_K1 + 1.0, *norm_params, list(search), [f"'{w}'" for w in search], idfs],
        )
    parts: list[str] = []
    params: list[Any] = []
    for word, idf in zip(search, idfs):
        tf = "coalesce((sv.lm_repeats ->> %s::text)::float8, 1::float8)"
        parts.append(
            f"CASE WHEN sv.lm_words @@ %s::tsquery THEN %s::float8 * (({tf} * %s::float8)"
            f" / ({tf} + {norm})) ELSE 0::float8 END"
        )
        params += [f"'{word}'", idf, word, _K1 + 1.0, word, *norm_params]
    return "(" + " + ".join(parts) + ")", params


_INLINE_WORDS = 64
"""Up to this many words, :func:`fts5_rank` writes each word's part out (9 parameters each,
the fastest plan); past it, one sum over arrays of the words (PostgreSQL takes at most 65,535
parameters per statement: a query of thousands of rare words passed that). Both add the words'
parts in the same order: the same bits."""
