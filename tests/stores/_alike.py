"""A backend's ``similarity`` (see :data:`langmem.stores.ranking.Similarity`) over given vectors,
for tests that apply the ranking rule by hand: candidate ``text`` is the row of its vector."""

from __future__ import annotations

from typing import Any

from langmem.stores import ranking as rules


def similarity_of(vectors: Any) -> rules.Similarity:
    """Every pair of the chosen candidates whose rows' dot product reaches the floor."""

    def similarity(chosen: Any, floor: float) -> list[tuple[int, int, float]]:
        rows = vectors[[c.text for c in chosen]]
        cosines = rows @ rows.T
        return [
            (i, j, float(cosines[i, j]))
            for i in range(len(chosen))
            for j in range(i + 1, len(chosen))
            if cosines[i, j] >= floor
        ]

    return similarity
