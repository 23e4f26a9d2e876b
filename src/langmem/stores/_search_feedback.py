"""The embedded store's reads for the second ranking pass (see :mod:`._feedback`)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import numpy as np

from langmem.stores import _feedback, _search
from langmem.stores import ranking as rules
from langmem.stores._writes import chunks

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._vectors import VectorIndex

Reads = tuple[
    sqlite3.Connection,
    "VectorIndex",
    "NDArray[np.bool_]",
    int,
    "dict[str, _search.Forms] | None",
    "_search.Origins | None",
]
"""The connection, the matrix, the allowed rows, how many results are wanted, the store's
caches of term forms and of item origins (see :func:`_search.explain`)."""

Matrix = tuple[list[int], "NDArray[np.float32]"]
"""The first pass's candidates' matrix rows, and every row's cosine."""


class SqliteSource:
    """:class:`_feedback.Source` over the SQLite store's FTS5 index and vector matrix."""

    def __init__(
        self,
        reads: Reads,
        candidates: list[rules.Candidate],
        matrix: Matrix,
        ranking: rules.Ranking,
    ) -> None:
        self.conn, self.vectors, self.allowed, self.want, cache, self.origins = reads
        self.cache: dict[str, _search.Forms] = {} if cache is None else cache
        self.first = candidates
        self.rows, self.cosines = matrix
        self.ranking = ranking

    def documents(self, positions: list[int]) -> list[rules.Document]:
        ids = self.vectors.vector_ids[[self.rows[at] for at in positions]].tolist()
        return [self.vectors.document(vector_id) for vector_id in ids]

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        forms = _search.term_forms(self.conn, terms, self.cache)
        return _search.term_frequencies(forms, terms, len(self.vectors))

    def identities(self, items: list[int]) -> dict[int, _feedback.Identity]:
        found: dict[int, _feedback.Identity] = {}
        for chunk in chunks(items):
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT id, prefix, key FROM langmem_items WHERE id IN ({marks})"
            for item, prefix, key in self.conn.execute(sql, list(chunk)):
                found[item] = (prefix, key)
        return found

    def candidates(self, terms: list[str], fetch: list[str]) -> list[rules.Candidate]:
        vectors = self.vectors
        found: list[int] = []
        if fetch:
            _, found = _search._lexical_side(
                self.conn, vectors, fetch, self.allowed, self.want, self.cache
            )
        seen = set(self.rows)
        extra = [row for row in dict.fromkeys(found) if row not in seen]
        rows = self.rows + extra
        documents = _search._documents(vectors, vectors.vector_ids[rows].tolist(), terms, rows)
        kept = [
            rules.Candidate(c.item, c.cosine, doc, c.thread, c.time, c.text)
            for c, doc in zip(self.first, documents)
        ]
        if not extra:
            return kept
        items = vectors.item_ids[extra].tolist()
        origin: _search.Origins = {}
        if self.ranking.provenance:
            times = self.ranking.times
            origin = _search._provenance(
                self.conn, list(dict.fromkeys(items)), times=times, cache=self.origins
            )
        none: _search.Origin = (None, None)
        cosines = self.cosines[extra].tolist()
        return kept + [
            rules.Candidate(item, cosine, doc, *origin.get(item, none), row)
            for item, cosine, doc, row in zip(items, cosines, documents[len(self.first) :], extra)
        ]
