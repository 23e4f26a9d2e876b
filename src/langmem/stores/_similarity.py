"""Which candidate texts are near-copies of each other, as :func:`langmem.stores.ranking.rank`
asks to mark near-duplicates down (``Ranking.redundancy``) and older near-copies of newer items
(``Ranking.supersede``), on the SQLite store and PostgreSQL.

The SQLite store's matrix rows are already normalised (single precision): their pairwise dot
products, in single precision, are the cosines (a zero vector is alike to nothing);
PostgreSQL has pgvector compare the same vectors (single precision sums) in one query that
returns only the pairs at or above the threshold. The cosines agree to about 1e-6, so only a
pair within that of the threshold could differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from langmem.stores import ranking as rules
from langmem.stores._vectors import _vecdot

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._vectors import VectorIndex


def unit_cosines(rows: NDArray[np.float32]) -> NDArray[np.float32]:
    """Pairwise cosines of rows that are normalised already (NaN for a zero row).

    Example:
        >>> rows = np.array([[0.6, 0.8], [1.0, 0.0], [0.0, 0.0]], dtype=np.float32)
        >>> np.round(unit_cosines(rows).astype(np.float64), 6).tolist()
        [[1.0, 0.6, nan], [0.6, 1.0, nan], [nan, nan, nan]]
    """
    # numpy's own loops, not BLAS: a BLAS product wakes its threads, which then spin on the
    # core the search's cosines need (measured: +0.4 ms CPU per search on a busy 2-core box);
    # no copies: a search calls this once
    products: NDArray[np.float32] = (
        _vecdot(rows[:, None, :], rows[None, :, :])
        if _vecdot is not None
        else np.einsum("ik,jk->ij", rows, rows)
    )
    zero = ~rows.any(axis=1)
    if zero.any():
        products[zero, :] = np.nan
        products[:, zero] = np.nan
    return products


def alike(cosines: NDArray[Any], floor: float) -> list[tuple[int, int, float]]:
    """The pairs ``(i, j, cosine)``, ``i < j``, of a square matrix of cosines at or above
    ``floor``.

    Example:
        >>> alike(np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.8], [0.2, 0.8, 1.0]]), 0.8)
        [(0, 1, 0.9), (1, 2, 0.8)]
    """
    first, second = np.nonzero((cosines >= floor) & upper(len(cosines)))
    return list(zip(first.tolist(), second.tolist(), cosines[first, second].tolist()))


@lru_cache(maxsize=64)
def upper(size: int) -> NDArray[np.bool_]:
    """The cells above the diagonal of a square matrix (read-only; built once per size)."""
    mask = np.triu(np.ones((size, size), dtype=bool), 1)
    mask.setflags(write=False)
    return mask


def sqlite_similarity(vectors: VectorIndex) -> rules.Similarity:
    """Which candidates are alike, for candidates whose ``text`` is their row in the matrix."""

    def similarity(
        candidates: Sequence[rules.Candidate], floor: float
    ) -> list[tuple[int, int, float]]:
        rows = vectors.matrix[[int(c.text) for c in candidates]]
        return alike(unit_cosines(rows), floor)

    def sums(candidates: Sequence[rules.Candidate], inside: Sequence[bool]) -> list[float]:
        """:func:`ranking.near_sums` from one product with the members' summed rows."""
        rows = vectors.matrix[[int(c.text) for c in candidates]]
        members = np.asarray(inside, dtype=bool)
        near = np.einsum("ij,j->i", rows, rows[members].sum(axis=0))  # numpy's loops, not BLAS
        # a member's own cosine counts 1 (also for a zero vector, as in the pairs' rule)
        near[members] += 1.0 - np.einsum("ij,ij->i", rows[members], rows[members])
        return [float(x) for x in near]

    similarity.sums = sums  # type: ignore[attr-defined]
    return similarity


def postgres_similarity(cur: Any) -> rules.Similarity:
    """Which candidates are alike, for candidates whose ``text`` is their ``(prefix, key,
    field_name)`` in ``store_vectors``: pgvector compares them in one query, and only the
    alike pairs travel."""

    def similarity(
        candidates: Sequence[rules.Candidate], floor: float
    ) -> list[tuple[int, int, float]]:
        wanted = [tuple(c.text) for c in candidates]
        cur.execute(
            "WITH w AS (SELECT u.n, v.embedding FROM unnest(%s::text[], %s::text[], %s::text[])"
            " WITH ORDINALITY AS u(prefix, key, field_name, n) JOIN store_vectors v"
            " ON v.prefix = u.prefix AND v.key = u.key AND v.field_name = u.field_name),"
            " pairs AS (SELECT a.n AS i, b.n AS j, 1 - (a.embedding <=> b.embedding) AS c"
            " FROM w a JOIN w b ON a.n < b.n)"
            " SELECT array_agg(i) AS i, array_agg(j) AS j, array_agg(c) AS c FROM pairs"
            # a zero vector's distance is NaN, which PostgreSQL orders above every number
            " WHERE c >= %s AND c <> 'NaN'::float8",
            [[w[0] for w in wanted], [w[1] for w in wanted], [w[2] for w in wanted], floor],
        )
        row = cur.fetchone()
        return [
            (int(i) - 1, int(j) - 1, float(c))
            for i, j, c in zip(row["i"] or [], row["j"] or [], row["c"] or [])
        ]

    def sums(candidates: Sequence[rules.Candidate], inside: Sequence[bool]) -> list[float]:
        """:func:`ranking.near_sums` in one query: pgvector sums the members' normalised
        vectors once and takes one inner product per candidate (a zero vector normalises to
        zero, so its pairs count 0; a member's own cosine is made 1, as in the pairs' rule);
        one number per candidate travels."""
        wanted = [tuple(c.text) for c in candidates]
        cur.execute(
            "WITH w AS (SELECT u.n, u.inside, l2_normalize(v.embedding) AS e"
            " FROM unnest(%s::text[], %s::text[], %s::text[], %s::bool[])"
            " WITH ORDINALITY AS u(prefix, key, field_name, inside, n) JOIN store_vectors v"
            " ON v.prefix = u.prefix AND v.key = u.key AND v.field_name = u.field_name),"
            " m AS MATERIALIZED (SELECT sum(e) AS total FROM w WHERE inside)"
            " SELECT array_agg(w.n) AS n, array_agg(-(w.e <#> m.total)"
            " + CASE WHEN w.inside THEN 1 + (w.e <#> w.e) ELSE 0 END) AS s FROM w, m",
            [
                [w[0] for w in wanted],
                [w[1] for w in wanted],
                [w[2] for w in wanted],
                [bool(member) for member in inside],
            ],
        )
        row = cur.fetchone()
        near = [1.0 if member else 0.0 for member in inside]  # a text without a row: itself
        for n, total in zip(row["n"] or [], row["s"] or []):
            if total is not None:  # None: no member has a stored vector
                near[int(n) - 1] = float(total)
        return near

    similarity.sums = sums  # type: ignore[attr-defined]
    return similarity
