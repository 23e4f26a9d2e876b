"""The optional parts of the ranking rule over arrays: centering, learned fusion, supersede and
restate.

:mod:`._fused` computes the default rule of :mod:`langmem.stores.ranking` with numpy; this
module adds, for the embedded store (whose candidate texts are rows of its normalised float32
matrix), the parts that ``Ranking(centering=...)``, ``Ranking(fusion="learned")``,
``Ranking(supersede=...)`` and ``Ranking(restate=...)`` add, which took the general path (one
Python object per candidate, +0.24-0.46 ms per search at 10k items). As in :mod:`._fused`,
every floating-point operation is the one :mod:`~langmem.stores.ranking` and
:mod:`._learned` perform, in the same order:

- the cosines of texts with each other are the same float32 products of the same matrix rows,
  taken in the same order (``_similarity.sqlite_similarity``: pairs through
  :func:`._similarity.unit_cosines`, sums over the dense candidates as its ``sums`` does);
- sums of a few Python floats (a query's IDF mass, a feature's parts) are accumulations, which
  add one value after the other as Python's ``sum`` does;
- exponentials are Python's own (``math.exp``; numpy's may round differently);
- orders are stable sorts on the same keys, ties kept in the order the rule lists them.

``tests/stores/test_fused_options.py`` compares both paths on generated candidates (ties,
copies, zero vectors, items of several texts) and a brute-force reading of each rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from langmem.stores import _learned
from langmem.stores._similarity import unit_cosines, upper

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores import ranking as rules

_COEFFICIENTS = np.array([_learned.WEIGHTS[name] for name in _learned.FEATURES])
_INTERCEPT = _learned.WEIGHTS["intercept"]


def members(cosines: NDArray[np.float64], depth: int) -> NDArray[np.bool_]:
    """:func:`ranking.dense_members`: the ``depth`` best cosines and those tied with the last."""
    keep = min(depth, len(cosines))
    floor = np.partition(cosines, len(cosines) - keep)[len(cosines) - keep]
    inside: NDArray[np.bool_] = cosines >= floor
    return inside


def near_sums(
    matrix: NDArray[np.float32], rows: NDArray[np.intp], inside: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """For each of the texts at matrix ``rows``, the sum of its cosines with the texts marked
    ``inside`` (its own at 1): the SQLite store's ``similarity.sums``, the same products."""
    return _near_sums(matrix[rows], inside)


def _near_sums(vectors: NDArray[np.float32], inside: NDArray[np.bool_]) -> NDArray[np.float64]:
    """:func:`near_sums` of the texts' gathered ``vectors``."""
    crowd = vectors[inside]
    near = np.einsum("ij,j->i", vectors, crowd.sum(axis=0))  # numpy's loops, not BLAS
    near[inside] += 1.0 - np.einsum("ij,ij->i", crowd, crowd)
    result: NDArray[np.float64] = near.astype(np.float64)
    return result


def centred(
    cosines: NDArray[np.float64],
    rows: NDArray[np.intp],
    matrix: NDArray[np.float32],
    ranking: rules.Ranking,
) -> NDArray[np.float64]:
    """Each text's cosine with the centred query (``_centering.centred``; see "Centering")."""
    inside = members(cosines, ranking.depth)
    count = int(inside.sum())
    near = near_sums(matrix, rows, inside)
    spread = sum(near[inside].tolist())  # Python's sums, in the candidates' order
    to_mean = sum(cosines[inside].tolist()) / count
    share = ranking.centering
    squared = 1.0 - 2.0 * share * to_mean + share * share * spread / (count * count)
    norm = math.sqrt(squared) if squared > 1e-12 else 1.0
    moved: NDArray[np.float64] = (cosines - share * near / count) / norm
    return moved


@dataclass
class Items:
    """One entry per candidate item (its best text), in the order the candidates were listed:
    what the optional parts read of the default rule."""

    score: NDArray[np.float64]  # the default rule's score (base, thread and recency)
    cosines: NDArray[np.float64]  # the plain cosine (the ties' key)
    dense: NDArray[np.float64]
    lexical: NDArray[np.float64]
    thread: NDArray[np.float64]
    recency: NDArray[np.float64]
    held: NDArray[np.bool_]  # which query terms the text holds (one column per term)
    rows: NDArray[np.intp]  # the text's matrix row
    times: NDArray[np.float64]  # NaN: none


def learned(
    order: NDArray[np.intp],
    items: Items,
    weights: list[float],
    matrix: NDArray[np.float32],
    ranking: rules.Ranking,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """The learned model's score of each item and the new order (``_learned.rescored``), from
    the default rule's ``order`` (best first) and the query terms' IDF ``weights``."""
    count = len(order)
    features = np.zeros((count, len(_learned.FEATURES)), dtype=np.float64)
    features[:, 0] = items.dense[order]
    features[:, 1] = items.lexical[order]
    mass = sum(weights)
    rarest = max(weights, default=0.0)
    held = items.held[order]
    if weights:
        chosen = np.where(held, np.asarray(weights), 0.0)
        if mass > 0:  # the held terms' IDF, added in the query's order
            features[:, 2] = np.cumsum(chosen, axis=1)[:, -1] / mass
        if rarest > 0:
            features[:, 3] = chosen.max(axis=1) / rarest
    features[:, 4] = items.thread[order]
    features[:, 5] = items.recency[order]
    vectors = matrix[items.rows[order]]
    inside = members(items.cosines[order], ranking.depth)
    features[:, 6] = _near_sums(vectors, inside) / int(inside.sum())
    if count > 1:
        flagged = np.zeros(count, dtype=bool)
        depth = ranking.redundancy_depth
        flagged[
            told_again(
                lambda: unit_cosines(vectors[:depth]),
                items.times[order][:depth],
                held[:depth],
                ranking.supersede_threshold,
            )
        ] = True
        # the rule flags an item by the score it took off it: nothing off a score of 0
        features[:, 7] = flagged & (items.score[order] > 0)
    z = _INTERCEPT + np.cumsum(features * _COEFFICIENTS, axis=1)[:, -1]  # feature by feature
    model = np.zeros(count, dtype=np.float64)
    live = z > -700
    exponentials = np.fromiter(map(math.exp, (-z[live]).tolist()), np.float64, int(live.sum()))
    model[live] = 1.0 / (1.0 + exponentials)
    score = np.empty(count, dtype=np.float64)
    score[order] = model
    return score, restable(order, score, items.cosines)


class Pairs:
    """The pairwise cosines of the best texts (:func:`._similarity.unit_cosines` of their
    matrix rows), computed once when supersede and restate compare the same best items."""

    def __init__(self, matrix: NDArray[np.float32]) -> None:
        self.matrix = matrix
        self.rows: NDArray[np.intp] | None = None
        self.cosines: NDArray[np.float32] | None = None

    def of(self, rows: NDArray[np.intp]) -> NDArray[np.float32]:
        """The cosines of the texts at matrix ``rows`` with each other."""
        if self.cosines is None or self.rows is None or not np.array_equal(self.rows, rows):
            self.rows, self.cosines = rows, unit_cosines(self.matrix[rows])
        return self.cosines


def supersede(
    order: NDArray[np.intp],
    score: NDArray[np.float64],
    items: Items,
    pairs: Pairs,
    ranking: rules.Ranking,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """``score`` (items listed best first by ``order``) with each of the best
    ``redundancy_depth`` items that a newer near-copy supersedes marked down, and the new
    order (``_demotions.superseded``)."""
    return _marked_down(order, score, items, pairs, ranking, superseded, ranking.supersede)


def restate(
    order: NDArray[np.intp],
    score: NDArray[np.float64],
    items: Items,
    pairs: Pairs,
    ranking: rules.Ranking,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """``score`` (items listed best first by ``order``, after supersede) with each of the best
    ``redundancy_depth`` items that a newer one of them restates marked down, and the new
    order (``_restated.restated``)."""
    return _marked_down(order, score, items, pairs, ranking, restated, ranking.restate)


_Older = Callable[
    ["NDArray[np.intp]", "Pairs", "NDArray[np.float64]", "NDArray[np.bool_]", "rules.Ranking"],
    list[int],
]
"""Which of the best items lose (:func:`superseded`, :func:`restated`)."""


def _marked_down(
    order: NDArray[np.intp],
    score: NDArray[np.float64],
    items: Items,
    pairs: Pairs,
    ranking: rules.Ranking,
    older: _Older,
    share: float,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """``score`` with each of the best ``redundancy_depth`` items in ``order`` that ``older``
    names losing ``share`` of it (as the rule computes it: ``total - share * total``), and
    the order sorted again."""
    if len(order) < 2:
        return score, order
    head = order[: ranking.redundancy_depth]
    positions = older(items.rows[head], pairs, items.times[head], items.held[head], ranking)
    if not positions:
        return score, order
    out = score.copy()
    for position in positions:
        at = int(order[position])
        total = float(out[at])
        out[at] = total - share * total
    return out, restable(order, out, items.cosines)


def superseded(
    rows: NDArray[np.intp],
    pairs: Pairs,
    times: NDArray[np.float64],
    held: NDArray[np.bool_],
    ranking: rules.Ranking,
) -> list[int]:
    """Positions, among the best ``redundancy_depth`` of items listed best first (their
    texts' matrix ``rows``, ``times``, which query terms they ``held``), of those a newer
    near-copy supersedes (see "Supersede")."""
    depth = ranking.redundancy_depth
    return told_again(
        lambda: pairs.of(rows[:depth]), times[:depth], held[:depth], ranking.supersede_threshold
    )


def restated(
    rows: NDArray[np.intp],
    pairs: Pairs,
    times: NDArray[np.float64],
    held: NDArray[np.bool_],
    ranking: rules.Ranking,
) -> list[int]:
    """Positions, among the best ``redundancy_depth`` of items listed best first (their
    texts' matrix ``rows``, ``times``, which query terms they ``held``), of those a newer one
    restates: a cosine of at least ``restate_threshold``, the older text holding a query term
    and the newer one every query term the older one holds (see "Restate")."""
    depth = ranking.redundancy_depth
    return told_again(
        lambda: pairs.of(rows[:depth]),
        times[:depth],
        held[:depth],
        ranking.restate_threshold,
        some_word=True,
    )


def told_again(
    cosines: Callable[[], NDArray[np.float32]],
    times: NDArray[np.float64],
    held: NDArray[np.bool_],
    threshold: float,
    *,
    some_word: bool = False,
) -> list[int]:
    """Positions of the texts a newer one among them tells again (``_demotions.newer_tellings``
    over arrays): a pair whose ``cosines`` (their pairwise cosines, computed only when two
    ``times`` differ) reach ``threshold``, whose times differ (NaN: no time), and whose newer
    text holds every query term the older one holds (``held``: one column per term; with
    ``some_word``, the older one at least one)."""
    holding = held.any(axis=1)
    if (some_word and not holding.any()) or not _dated(times):
        return []  # a text holding no query term is never restated; nothing is newer
    pairwise = cosines()
    # the pairs ``alike`` lists (NaN, a zero vector's, is below any threshold), both ways
    near = (pairwise >= threshold) & upper(len(pairwise))
    if not near.any():
        return []  # no near-copies (the usual case)
    near |= near.T
    newer = times[None, :] > times[:, None]  # [old, new]: a later time (NaN: neither way)
    # [old, new]: how many of old's words new lacks (integer products: exact, no BLAS)
    lacks = held.astype(np.intp) @ (~held).T.astype(np.intp)
    older = (near & newer & (lacks == 0)).any(axis=1)
    if some_word:
        older &= holding
    found: list[int] = np.flatnonzero(older).tolist()
    return found


def _dated(times: NDArray[np.float64]) -> bool:
    """Whether one of ``times`` is newer than another (two distinct times; NaN: none)."""
    known = times[~np.isnan(times)]
    return bool(len(known)) and bool(known.min() != known.max())


def restable(
    order: NDArray[np.intp], score: NDArray[np.float64], cosines: NDArray[np.float64]
) -> NDArray[np.intp]:
    """``order`` sorted again by score, then cosine (both descending), ties kept in ``order``
    (Python's stable sort of the rule's list)."""
    again: NDArray[np.intp] = order[np.lexsort((-cosines[order], -score[order]))]
    return again
