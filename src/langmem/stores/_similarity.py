"""The cosines between candidate texts that :func:`langmem.stores.ranking.rank` asks for to
mark near-duplicates down (``Ranking.redundancy``), on the SQLite store and on PostgreSQL.

Both compute them the same way from the stored vectors: each vector normalised in double
precision, then every pairwise dot product in single precision, so the two stores agree to
about 1e-6.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from langmem.stores import ranking as rules

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._vectors import VectorIndex


_vecdot = getattr(np, "vecdot", None)  # numpy >= 2


def cosine_matrix(vectors: NDArray[Any]) -> list[list[float]]:
    """Pairwise cosines of the rows of ``vectors`` (a zero row has cosine 0 with every row).

    Example:
        >>> np.round(cosine_matrix(np.array([[3.0, 4.0], [6.0, 8.0], [0.0, 0.0]])), 6).tolist()
        [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]
    """
    rows = np.asarray(vectors, dtype=np.float64)
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))
    norms[norms == 0] = 1.0  # a zero row stays zero: cosine 0 with every row
    # normalised in double precision (the stores keep them normalised or not), multiplied in
    # single: within ~3e-7 of the double product, and half its cost
    unit = (rows / norms[:, None]).astype(np.float32)
    # numpy's own loops, not BLAS: a BLAS product wakes its threads, which then spin on the
    # core the search's cosines need (measured: +0.4 ms CPU per search on a busy 2-core box)
    products = (
        _vecdot(unit[:, None, :], unit[None, :, :])
        if _vecdot is not None
        else np.einsum("ik,jk->ij", unit, unit)
    )
    out: list[list[float]] = products.tolist()
    return out


def sqlite_similarity(vectors: VectorIndex) -> rules.Similarity:
    """The cosines between candidates whose ``text`` is their row in the store's matrix."""

    def similarity(candidates: Sequence[rules.Candidate]) -> list[list[float]]:
        return cosine_matrix(vectors.matrix[[int(c.text) for c in candidates]])

    return similarity


def postgres_similarity(cur: Any) -> rules.Similarity:
    """The cosines between candidates whose ``text`` is their ``(prefix, key, field_name)`` in
    ``store_vectors``, read in one query."""

    def similarity(candidates: Sequence[rules.Candidate]) -> list[list[float]]:
        wanted = [tuple(c.text) for c in candidates]
        cur.execute(
            "SELECT v.prefix, v.key, v.field_name, v.embedding::text AS embedding"
            " FROM store_vectors v JOIN unnest(%s::text[], %s::text[], %s::text[])"
            " AS w(prefix, key, field_name) ON v.prefix = w.prefix AND v.key = w.key"
            " AND v.field_name = w.field_name",
            [[w[0] for w in wanted], [w[1] for w in wanted], [w[2] for w in wanted]],
        )
        found = {
            (r["prefix"], r["key"], r["field_name"]): np.array(
                r["embedding"].strip("[]").split(","), dtype=np.float64
            )
            for r in cur.fetchall()
        }
        return cosine_matrix(np.stack([found[w] for w in wanted]))

    return similarity
