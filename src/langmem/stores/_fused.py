""":func:`langmem.stores.ranking.ranked_items` over arrays: the same scores and order, computed with
numpy instead of one Python object per candidate.

The embedded store holds its candidates as arrays (matrix rows, cosines, query-term counts,
lengths, threads and times: :mod:`._hybrid`); building a :class:`~ranking.Candidate` and a
:class:`~ranking.Document` for each and scoring them one by one was a fifth of a search. This
module computes the rule of :mod:`langmem.stores.ranking` on the arrays instead, for the
configurations it covers (:func:`covers`: the ``"absolute"`` fusion, the thread boost and
recency; given the candidates' matrix rows, also centering, the ``"learned"`` fusion,
supersede and restate, in :mod:`._fused_options`; not redundancy, the other fusions or the
second pass, which take the general path). Every floating-point operation is the one
``ranking`` performs, in the same order (numpy's float64 add, multiply, divide and compare are
the same IEEE operations as Python's floats; powers and logarithms are left to Python's own),
so scores are identical to the last bit, and the order
is the same stable sort by score, then cosine, then the order the candidates were listed in.
``tests/stores/test_memory_search.py`` and ``test_fused_options.py`` compare both on generated
candidate sets.
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from langmem.stores import _fused_options
from langmem.stores import ranking as rules

if TYPE_CHECKING:
    from numpy.typing import NDArray

_COVERED = frozenset(
    {
        "dense_weight",
        "k1",
        "b",
        "depth",
        "thread_boost",
        "thread_window",
        "recency_weight",
        "recency_half_life",
        "fusion",
        "rrf_k",
        "redundancy",
        "redundancy_threshold",
        "redundancy_ramp",
        "redundancy_depth",
        "supersede",
        "supersede_threshold",
        "restate",
        "restate_threshold",
        "feedback_docs",
        "feedback_terms",
        "feedback_weight",
        "feedback_fetch",
        "centering",
        # the re-ranking stage runs after this module's ranking (stores/_rerank.py)
        "rerank",
        "rerank_depth",
        "rerank_weight",
        "rerank_fallback",
    }
)
"""The :class:`~ranking.Ranking` parameters this module knows; a ranking that sets any other
(an option added later) to a value other than its default takes the general path."""
_HALF = 0.5
_PAIRS = 1024
"""At most this many threaded items are compared pairwise here (the general path beyond)."""


def covers(ranking: rules.Ranking, *, rows: bool = False) -> bool:
    """Whether :func:`ranked` computes ``ranking`` (else use :func:`ranking.ranked_items`);
    ``rows``: with the candidates' matrix rows, which centering, the learned fusion,
    supersede and restate read (:mod:`._fused_options`)."""
    last = _LAST[0]  # one read: another thread may replace it meanwhile
    if last[0] is ranking and last[1] == rows:  # the store's ranking, search after search
        return last[2]
    try:
        found = _covers(ranking, rows)
    except TypeError:  # an option whose value cannot be hashed
        found = bool(_covers.__wrapped__(ranking, rows))
    _LAST[0] = (ranking, rows, found)
    return found


_LAST: list[tuple[object, bool, bool]] = [(None, False, False)]
"""The ranking :func:`covers` answered last (a frozen dataclass: hashing its fields for the
cache costs more than this identity check)."""


@lru_cache(maxsize=256)
def _covers(ranking: rules.Ranking, rows: bool) -> bool:
    if ranking.fusion not in ("absolute", "learned") or ranking.redundancy > 0:
        return False
    if ranking.feedback:
        return False
    if not rows and _compares(ranking):
        return False
    return all(
        getattr(ranking, f.name) == f.default for f in fields(ranking) if f.name not in _COVERED
    )


def _compares(ranking: rules.Ranking) -> bool:
    """Whether ``ranking`` has an option that reads the candidates' matrix rows."""
    return (
        ranking.centering > 0
        or ranking.fusion == "learned"
        or ranking.supersede > 0
        or ranking.restate > 0
    )


def ranked(
    items: NDArray[np.int64],
    cosines: NDArray[np.float64],
    counts: NDArray[np.int64],
    lengths: NDArray[np.int64],
    threads: NDArray[np.int32],
    times: NDArray[np.float64],
    terms: list[str],
    corpus: rules.Corpus,
    ranking: rules.Ranking,
    texts: tuple[NDArray[np.intp], NDArray[np.float32]] | None = None,
) -> list[tuple[float, int]] | None:
    """``(score, item)`` best first, as :func:`ranking.ranked_items` gives for the candidate
    texts whose item, cosine, query-term counts (one column per term), analyzed length,
    thread code (-1: none) and time (NaN: none) are given (``texts``: their rows in the
    matrix of normalised vectors, and that matrix, for the options that compare texts);
    ``None`` when these candidates need the general path (a NaN cosine, too many threaded
    items, an option without ``texts``)."""
    if not len(items):
        return []
    if np.isnan(cosines).any():
        return None
    options = _compares(ranking)
    if options and texts is None:
        return None
    rows = texts[0] if texts is not None else None
    side = cosines
    if ranking.centering > 0:  # the dense side from the centred query (ties: the plain one)
        assert texts is not None
        side = _fused_options.centred(cosines, texts[0], texts[1], ranking)
    base, dense, lexical, weights = _base(side, counts, lengths, terms, corpus, ranking)
    pick = _best_texts(items, cosines, base)
    if pick is not None:
        base, cosines, items = base[pick], cosines[pick], items[pick]
        threads, times = threads[pick], times[pick]
        if options:
            dense, lexical, counts = dense[pick], lexical[pick], counts[pick]
            rows = rows[pick] if rows is not None else None
    threaded = ranking.thread_boost > 0 and bool((threads >= 0).any())
    if threaded or ranking.recency_weight > 0:
        boosts = _boosts(base, threads, times, ranking, threaded=threaded)
        if boosts is None:
            return None
        score = base + boosts[0] + boosts[1]
    else:
        boosts = None
        score = base
    order = np.lexsort((-cosines, -score))
    if options:
        assert texts is not None and rows is not None
        zero = np.zeros(len(score), dtype=np.float64)
        chosen = _fused_options.Items(
            score,
            cosines,
            dense,
            lexical,
            boosts[0] if boosts is not None else zero,
            boosts[1] if boosts is not None else zero,
            counts > 0,
            rows,
            times,
        )
        if ranking.fusion == "learned":
            score, order = _fused_options.learned(order, chosen, weights, texts[1], ranking)
        pairs = _fused_options.Pairs(texts[1])  # supersede's and restate's, computed once
        if ranking.supersede > 0:
            score, order = _fused_options.supersede(order, score, chosen, pairs, ranking)
        if ranking.restate > 0:
            score, order = _fused_options.restate(order, score, chosen, pairs, ranking)
    return list(zip(score[order].tolist(), items[order].tolist()))


def _base(
    cosines: NDArray[np.float64],
    counts: NDArray[np.int64],
    lengths: NDArray[np.int64],
    terms: list[str],
    corpus: rules.Corpus,
    ranking: rules.Ranking,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], list[float]]:
    """Each text's fused score before provenance (``ranking._scored``'s ``base``), its dense
    and lexical sides, and each query term's IDF."""
    weights = [rules.idf(corpus.documents, corpus.frequencies.get(t, 0)) for t in terms]
    full = sum(weights)
    count = len(cosines)
    if weights and full > 0:
        k1, b = ranking.k1, ranking.b
        average = max(corpus.average_length, 1e-9)
        norm = k1 * ((1.0 - b) + b * lengths / average)
        tf = counts.astype(np.float64)
        # weight * tf * saturation / (tf + norm), each term's column (0 where tf is 0)
        parts = np.zeros(tf.shape, dtype=np.float64)
        np.divide(
            np.asarray(weights) * tf * (k1 + 1.0), tf + norm[:, None], out=parts, where=tf > 0
        )
        # summed term by term, in the query's order: an accumulation adds one column after the
        # other (0.0 + the first part is the first part: every part is >= 0)
        raw = np.cumsum(parts, axis=1)[:, -1]
        lexical = np.minimum(raw / full, 1.0)
    else:
        lexical = np.zeros(count, dtype=np.float64)
    # clipped to [0, 1]; a -0.0 that ``ranking`` keeps may come out 0.0, the same base either way
    dense = np.minimum(np.maximum(cosines, 0.0), 1.0)
    alpha = ranking.dense_weight
    result: NDArray[np.float64] = alpha * dense + (1.0 - alpha) * lexical
    return result, dense, lexical, weights


def _best_texts(
    items: NDArray[np.int64], cosines: NDArray[np.float64], base: NDArray[np.float64]
) -> NDArray[np.intp] | None:
    """The position of each item's best text (highest base, then cosine, then the first
    listed), items in the order they are first listed; ``None``: every text's own item."""
    listed = items.tolist()
    if len(set(listed)) == len(listed):  # one text per item (the usual case)
        return None
    _, first, inverse = np.unique(items, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.lexsort((np.arange(len(items)), -cosines, -base, inverse))
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = inverse[order][1:] != inverse[order][:-1]
    winners = order[starts]  # one per distinct item, in item id order
    picked: NDArray[np.intp] = winners[np.argsort(first, kind="stable")]
    return picked


def _boosts(
    base: NDArray[np.float64],
    threads: NDArray[np.int32],
    times: NDArray[np.float64],
    ranking: rules.Ranking,
    *,
    threaded: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Each item's thread and recency parts (``_provenance.provenance_boosts``; ``threaded``:
    whether any item has a thread)."""
    timed = ~np.isnan(times)
    everyone = bool(timed.all())
    boost, window = ranking.thread_boost, ranking.thread_window
    # 0 for an item without a same-thread neighbour: share * max(0 - base, 0), base >= 0
    thread = np.zeros(len(base), dtype=np.float64)
    if boost > 0 and threaded:
        members = np.flatnonzero((threads >= 0) & timed)
        if len(members) > _PAIRS:
            return None
        if len(members) > 1:
            when, group, scores = times[members], threads[members], base[members]
            near = (group[:, None] == group[None, :]) & (
                np.abs(when[None, :] - when[:, None]) <= window
            )
            np.fill_diagonal(near, False)
            best = np.where(near, scores[None, :], -np.inf).max(axis=1)
            neighbour = np.where(near.any(axis=1), best, 0.0)
            thread[members] = min(boost, 1.0) * np.maximum(neighbour - scores, 0.0)
    weight, half_life = ranking.recency_weight, ranking.recency_half_life
    if weight <= 0 or not (everyone or timed.any()):
        return thread, np.zeros(len(base), dtype=np.float64)
    dated = times if everyone else times[timed]
    spans = float(dated.max()) - dated
    if half_life > 1e-200:  # no age can overflow
        ages = (spans / half_life).tolist()
    else:  # a tiny half-life: ages overflow to infinity, a recency of 0 (as Python's floats)
        with np.errstate(over="ignore"):
            ages = (spans / half_life).tolist()
    # Python's own power, one call per item (numpy's may round differently)
    scale = np.minimum(weight * np.fromiter(map(_HALF.__pow__, ages), np.float64, len(ages)), 1.0)
    if everyone:
        return thread, scale * (1.0 - base - thread)
    recency = np.zeros(len(base), dtype=np.float64)
    recency[timed] = scale * (1.0 - base[timed] - thread[timed])
    return thread, recency
