"""Centering: the dense side from the query minus a share of the dense candidates' mean vector
("Centering" in :mod:`langmem.stores.ranking`), computed from the cosines a backend gives.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

from langmem.stores._ranking_options import Ranking
from langmem.stores._scoring import Candidate, Similarity


def centred(
    candidates: list[Candidate], ranking: Ranking, similarity: Similarity
) -> tuple[list[Candidate], dict[int, float]]:
    """The candidates with their cosine taken with the centred query (see "Centering"), and
    ``id`` of each new candidate -> its plain cosine."""
    if not candidates:
        return candidates, {}
    cosines = [c.cosine for c in candidates]
    inside = dense_members(cosines, ranking.depth)
    count = sum(inside)
    near = near_sums(candidates, inside, similarity)
    spread = sum(value for value, member in zip(near, inside) if member)
    share = ranking.centering
    to_mean = sum(c for c, member in zip(cosines, inside) if member) / count
    squared = 1.0 - 2.0 * share * to_mean + share * share * spread / (count * count)
    norm = math.sqrt(squared) if squared > 1e-12 else 1.0
    out: list[Candidate] = []
    plain: dict[int, float] = {}
    for candidate, cosine, alike_mean in zip(candidates, cosines, near):
        moved = Candidate(
            candidate.item,
            (cosine - share * alike_mean / count) / norm,
            candidate.document,
            candidate.thread,
            candidate.time,
            candidate.text,
        )
        out.append(moved)
        plain[id(moved)] = cosine
    return out, plain


def dense_members(cosines: Sequence[float], depth: int) -> list[bool]:
    """Which of ``cosines`` are among the ``depth`` best (and those tied with the last)."""
    floor = heapq.nlargest(min(depth, len(cosines)), cosines)[-1]
    return [c >= floor for c in cosines]


def near_sums(
    candidates: Sequence[Candidate], inside: Sequence[bool], similarity: Similarity
) -> list[float]:
    """For each candidate, the sum of the cosines of its text with the texts of the candidates
    marked ``inside`` (itself, when inside, at 1; a pair whose cosine is not a number, as
    pgvector gives for a zero vector, at 0). From the backend's pairwise cosines
    (``similarity`` with the floor -1), or from its ``sums`` when it offers them (the same
    values, up to rounding, without listing every pair: the SQLite store)."""
    sums = getattr(similarity, "sums", None)
    if sums is not None:
        return list(sums(candidates, inside))
    near = [1.0 if member else 0.0 for member in inside]
    for first, second, cosine in similarity(candidates, -1.0):
        if not math.isfinite(cosine):
            continue
        if inside[second]:
            near[first] += cosine
        if inside[first]:
            near[second] += cosine
    return near
