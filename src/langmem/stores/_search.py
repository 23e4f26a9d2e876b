"""Ranking a query over one store: exact dense scores, FTS5 candidates, and their fusion.

Pure functions over a SQLite connection and the store's :class:`VectorIndex`; the store decides
which rows are allowed (namespace, filter) and turns the ranked item ids into results.
See ``_lexical`` for what the returned scores mean.
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import numpy as np

from langmem.stores import _fusion, _lexical
from langmem.stores._writes import chunks

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._vectors import VectorIndex


def term_weights(
    conn: sqlite3.Connection,
    terms: list[str],
    documents: int,
    counts: dict[str, int] | None = None,
) -> tuple[dict[str, float], dict[str, str], dict[str, int]]:
    """:func:`_fusion.term_weights` with the document counts of this store's FTS5 vocabulary.

    Args:
        conn: the store's connection.
        terms: the query's informative words (:func:`_lexical.query_terms`).
        documents: how many texts the store holds.
        counts: a cache of word -> document count, valid until the store changes.
    """
    cache = counts if counts is not None else {}

    def count(words: list[str]) -> dict[str, int]:
        missing = [word for word in words if word not in cache]
        for chunk in chunks(missing):
            cache.update(dict.fromkeys(chunk, 0))
            cache.update(
                conn.execute(
                    "SELECT term, doc FROM langmem_fts_vocab"
                    f" WHERE term IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            )
        return cache

    return _fusion.term_weights(terms, documents, count)


def lexical_rows(
    conn: sqlite3.Connection,
    words: dict[str, int],
    vectors: VectorIndex,
    allowed: NDArray[np.bool_],
    want: int,
) -> list[int]:
    """Matrix rows of the best BM25 matches for any of ``words`` (word -> texts holding it)
    among the allowed rows (at least ``want`` items' worth when the store has them)."""
    expression = _lexical.fts_query(words)
    if expression is None:
        return []
    fetch = max(want * 2, 30)
    # usually the searched words are rare and every match fits: then no BM25 ordering is needed;
    # when one word alone has more texts than fit, that unordered scan would be thrown away
    if max(words.values(), default=0) <= fetch:
        found = conn.execute(
            "SELECT rowid FROM langmem_fts WHERE langmem_fts MATCH ? LIMIT ?",
            (expression, fetch + 1),
        ).fetchall()
        if len(found) <= fetch:
            return _allowed_rows(found, vectors, allowed)
    while True:
        found = conn.execute(
            "SELECT rowid FROM langmem_fts WHERE langmem_fts MATCH ?"
            " ORDER BY bm25(langmem_fts) LIMIT ?",
            (expression, fetch),
        ).fetchall()
        rows = _allowed_rows(found, vectors, allowed)
        # widen the scan when namespace or filter masks dropped too many of the best rows
        if len(rows) >= want or len(found) < fetch:
            return rows
        fetch *= 4


def _allowed_rows(
    found: list[tuple[int]], vectors: VectorIndex, allowed: NDArray[np.bool_]
) -> list[int]:
    rows = [vectors.row_of.get(vector_id) for (vector_id,) in found]
    return [r for r in rows if r is not None and allowed[r]]


def _dense(
    vectors: VectorIndex, query: NDArray[np.float32], allowed: NDArray[np.bool_], top: int
) -> tuple[NDArray[np.float32], list[int]]:
    """The cosine of every row, and the ``top`` allowed rows by cosine."""
    cosines = vectors.cosines(query)
    rows, _ = vectors.best(cosines, allowed, top)
    return cosines, rows.tolist()


def _lexical_side(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    text: str,
    allowed: NDArray[np.bool_],
    want: int,
    counts: dict[str, int] | None,
) -> tuple[dict[str, float], dict[str, str], list[int], dict[int, float]]:
    """``(weights, forms, rows, coverage)``: the query's term IDFs and stored forms (see
    :func:`term_weights`), the BM25 candidate rows and their coverage."""
    terms = _lexical.query_terms(text)
    weights, forms, search = term_weights(conn, terms, len(vectors), counts)
    if not weights:
        return weights, forms, [], {}
    rows = lexical_rows(conn, search, vectors, allowed, want)
    texts = vectors.texts
    coverage = {
        row: _lexical.coverage_in_text(texts.get(vector_id, ""), forms, weights)
        for row, vector_id in zip(rows, vectors.vector_ids[rows].tolist())
    }
    return weights, forms, rows, coverage


def rank(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    query: NDArray[np.float32],
    text: str,
    allowed: NDArray[np.bool_],
    want: int,
    *,
    lexical: bool,
    counts: dict[str, int] | None = None,
    worker: Executor | None = None,
) -> list[tuple[float, int]]:
    """``(score, item id)`` of the candidate items, best first.

    Args:
        conn: the store's connection, inside a read transaction.
        vectors: the store's vector matrix (up to date).
        query: the query's embedding.
        text: the query's text (for the lexical side).
        allowed: mask over matrix rows that may be returned.
        want: how many results the caller needs (offset + limit).
        lexical: fuse with the lexical ranking (hybrid) or rank by cosine only.
        counts: the store's cache of word document counts.
        worker: a thread for the dense side while this one runs the lexical side.
    """
    top = max(want * 2, 20)
    # The cosines are a memory-bound numpy loop and the lexical side mostly SQLite; both release
    # the GIL, so on two cores they overlap (10k rows: ~0.25 ms of ~1.2 ms saved). Each side
    # computes exactly what it would alone.
    dense = None
    if worker is not None and lexical:
        dense = worker.submit(_dense, vectors, query, allowed, top)
    try:
        side = _lexical_side(conn, vectors, text, allowed, want, counts) if lexical else None
    finally:
        computed = dense.result() if dense is not None else None
    cosines, rows = computed if computed is not None else _dense(vectors, query, allowed, top)
    weights, forms, found, coverage_of = side if side is not None else ({}, {}, [], {})
    if weights:
        seen = set(rows)
        rows += [r for r in found if r not in seen]
    # per-row values as Python numbers in one conversion each (numpy scalars cost per access)
    coverage: list[float] = []
    if weights:
        texts = vectors.texts
        coverage = [
            coverage_of[row]
            if row in coverage_of
            else _lexical.coverage_in_text(texts.get(vector_id, ""), forms, weights)
            for row, vector_id in zip(rows, vectors.vector_ids[rows].tolist())
        ]
    scores = _fusion.fused_scores(cosines[rows].tolist(), coverage)
    return _fusion.best_per_item(scores, vectors.item_ids[rows].tolist())
