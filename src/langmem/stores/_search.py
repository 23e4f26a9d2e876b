"""Ranking a query over one store: exact dense scores, FTS5 candidates, and their fusion.

Pure functions over a SQLite connection and the store's :class:`VectorIndex`; the store decides
which rows are allowed (namespace, filter) and turns the ranked item ids into results.
See ``_lexical`` for what the returned scores mean.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import numpy as np

from langmem.stores import _lexical

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._vectors import VectorIndex

_MAX_PARAMS = 500


def term_weights(
    conn: sqlite3.Connection, terms: list[str], documents: int
) -> tuple[dict[str, float], list[str]]:
    """IDF of each query term in this store, and the stored words that match the terms.

    A term matches every stored word with the same :func:`_lexical.stem` ("lives" for
    "lived"); its document count is that of those words together. A term no text contains
    still counts, with the highest IDF: a query whose words are mostly unknown to the store (a
    paraphrase) gets low coverage everywhere, so its ranking stays with the dense side.
    """
    weights: dict[str, float] = {}
    words: list[str] = []
    for term in terms:
        root = _lexical.stem(term)
        count = 0
        for word, docs in conn.execute(
            "SELECT term, doc FROM langmem_fts_vocab WHERE term >= ? AND term < ?",
            (root, root + "\U0010ffff"),
        ):
            if _lexical.stem(word) == root:
                count += int(docs)
                words.append(word)
        weights[term] = _lexical.idf(documents, min(count, documents))
    return weights, words


def lexical_rows(
    conn: sqlite3.Connection,
    words: list[str],
    vectors: VectorIndex,
    allowed: NDArray[np.bool_],
    want: int,
) -> list[int]:
    """Matrix rows of the best BM25 matches for any of ``words`` among the allowed rows (at
    least ``want`` items' worth when the store has them)."""
    expression = _lexical.fts_query(words)
    if expression is None:
        return []
    fetch = max(want * 4, 100)
    while True:
        found = conn.execute(
            "SELECT rowid FROM langmem_fts WHERE langmem_fts MATCH ?"
            " ORDER BY bm25(langmem_fts) LIMIT ?",
            (expression, fetch),
        ).fetchall()
        rows = []
        for (vector_id,) in found:
            row = vectors.row_of.get(vector_id)
            if row is not None and allowed[row]:
                rows.append(row)
        # widen the scan when namespace or filter masks dropped too many of the best rows
        if len(rows) >= want or len(found) < fetch:
            return rows
        fetch *= 4


def _texts(conn: sqlite3.Connection, vector_ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for start in range(0, len(vector_ids), _MAX_PARAMS):
        chunk = vector_ids[start : start + _MAX_PARAMS]
        out.update(
            conn.execute(
                f"SELECT id, text FROM langmem_vectors WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
        )
    return out


def rank(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    query: NDArray[np.float32],
    text: str,
    allowed: NDArray[np.bool_],
    want: int,
    *,
    lexical: bool,
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
    """
    top = max(want * 4, 50)
    cosines = vectors.cosines(query)
    dense_rows, _ = vectors.best(cosines, allowed, top)
    rows = dense_rows.tolist()
    weights: dict[str, float] = {}
    if lexical:
        weights, words = term_weights(conn, _lexical.query_terms(text), len(vectors))
    if weights:
        seen = set(rows)
        rows += [r for r in lexical_rows(conn, words, vectors, allowed, top) if r not in seen]
        texts = _texts(conn, [int(vectors.vector_ids[r]) for r in rows])
    coverage: dict[int, float] = {}
    if weights:
        for row in rows:
            words = _lexical.tokens(texts.get(int(vectors.vector_ids[row]), ""))
            coverage[row] = _lexical.coverage(words, weights)
        # per query: words only count when some text holds most of what the query says
        if max(coverage.values(), default=0.0) < _lexical.LEXICAL_GATE:
            coverage = {}
    best: dict[int, float] = {}
    for row in rows:
        cosine = float(cosines[row])
        score = _lexical.fuse(cosine, coverage[row]) if coverage else cosine
        item = int(vectors.item_ids[row])
        if score > best.get(item, float("-inf")):
            best[item] = score
    return sorted(((score, item) for item, score in best.items()), reverse=True)
