"""The parts of a hybrid score: what a backend hands to :func:`~langmem.stores.ranking.rank`
(:class:`Corpus`, :class:`Candidate`, ``Similarity``), what it returns (:class:`Explanation`),
BM25 (:func:`idf`, :func:`bm25`) and the two sides of each fusion ("Lexical score" and
"Fusion" in :mod:`langmem.stores.ranking`, which re-exports the public names).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from langmem.stores._analyzer import Document
from langmem.stores._ranking_options import Ranking


@dataclass(frozen=True)
class Corpus:
    """Store-wide statistics: texts indexed, their average analyzed length, and the document
    frequency of each query term."""

    documents: int
    average_length: float
    frequencies: Mapping[str, int]


@dataclass
class Candidate:
    """One indexed text the query may return (see "What a backend supplies")."""

    item: Any
    cosine: float
    document: Document
    thread: str | None = None
    time: float | None = None
    text: Any = None
    """The backend's handle of this text, for the ``similarity`` of
    :func:`~langmem.stores.ranking.rank`."""


@dataclass(frozen=True)
class Explanation:
    """Why an item got its score (see :mod:`langmem.stores.ranking` for each part).

    Attributes:
        item: the backend's item id (stores turn it into namespace and key).
        score: the final score, in ``[0, 1]``.
        cosine: the cosine of the query and the item's best text.
        dense: the dense side, in ``[0, 1]`` (by default the cosine clipped to ``[0, 1]``).
        bm25: the BM25 score of that text.
        lexical: the lexical side (the normalised BM25), in ``[0, 1]``.
        matched: query term -> occurrences in the text.
        base: the fused score before provenance.
        thread: the added score from a same-thread neighbour (already weighted and scaled).
        recency: the added score from recency (already weighted and scaled).
        redundancy: the score taken off because the item's text is a near-duplicate of a
            better item's (already weighted; ``score`` is after it; that item ranks above).
        expansion: the second pass's expansion terms (term -> weight relative to a query
            term; empty without feedback); ``matched`` counts them too.
        feedback: the part of ``score`` the expansion terms account for (their share of the
            lexical side, weighted as in the fusion; 0 without feedback).
        superseded: the score taken off because a newer item among the best is a near-copy
            of this one (already weighted; ``score`` is after it; see "Supersede").
        centered: with ``Ranking.centering``, the cosine of the item's best text with the
            centred query, which the dense side was computed from (see "Centering");
            ``None`` without it (the dense side is computed from ``cosine``).
        learned: with ``fusion="learned"``, each feature's part of the model's ``z`` (see
            "Learned fusion"; ``score`` is ``1 / (1 + exp(-z))``); empty otherwise.
        restated: the score taken off because a newer item among the best restates this one
            (already weighted; ``score`` is after it; see :mod:`langmem.stores._restated`).
        reranked: with ``Ranking.rerank``, the re-ranker's score for this item (as it gave
            it); ``None`` past ``rerank_depth``, without a re-ranker, or when it failed and
            ``rerank_fallback`` kept the store's order.
        fused_rank: with ``Ranking.rerank``, the item's position (1: first) in the store's
            own order, before re-ranking, counted from the first result; ``None`` without.
        fused_score: with ``Ranking.rerank``, the store's own score of the item (``score``
            is then the score of the position the re-ranker gave it); ``None`` without.
    """

    item: Any
    score: float
    cosine: float
    dense: float
    bm25: float
    lexical: float
    matched: Mapping[str, int] = field(default_factory=dict)
    base: float = 0.0
    thread: float = 0.0
    recency: float = 0.0
    redundancy: float = 0.0
    expansion: Mapping[str, float] = field(default_factory=dict)
    feedback: float = 0.0
    superseded: float = 0.0
    centered: float | None = None
    learned: Mapping[str, float] = field(default_factory=dict)
    restated: float = 0.0
    reranked: float | None = None
    fused_rank: int | None = None
    fused_score: float | None = None


Similarity = Callable[[Sequence[Candidate], float], Iterable[tuple[int, int, float]]]
"""The pairs ``(i, j, cosine)``, ``i < j``, of positions in the given candidates whose texts
have a cosine of at least the given floor, with that cosine."""


def idf(documents: int, containing: int) -> float:
    """BM25's inverse document frequency (always positive)."""
    containing = min(max(containing, 0), documents)
    return math.log(1.0 + (documents - containing + 0.5) / (containing + 0.5))


def bm25(
    doc: Document, weights: Mapping[str, float], average_length: float, ranking: Ranking
) -> tuple[float, dict[str, int]]:
    """BM25 of one document for query terms weighted by IDF, and the terms it matched.

    Example:
        >>> from langmem.stores.ranking import Ranking, document
        >>> doc = document("flight LH1234 leaves at 07:45")
        >>> score, matched = bm25(doc, {"flight": 1.0, "lh1234": 2.0}, 4.0, Ranking(b=0.0))
        >>> round(score, 3), matched
        (3.0, {'flight': 1, 'lh1234': 1})
    """
    return scorer(weights, average_length, ranking)(doc)


def scorer(
    weights: Mapping[str, float], average_length: float, ranking: Ranking
) -> Callable[[Document], tuple[float, dict[str, int]]]:
    """:func:`bm25` with the query's constants bound once (the same arithmetic, in the same
    order, so the same floats)."""
    pairs = tuple(weights.items())
    k1, b = ranking.k1, ranking.b
    saturation = k1 + 1.0
    unnormalised = 1.0 - b
    average = max(average_length, 1e-9)

    def score(doc: Document) -> tuple[float, dict[str, int]]:
        norm = k1 * (unnormalised + b * doc.length / average)
        get = doc.terms.get
        total = 0.0
        matched: dict[str, int] = {}
        for term, weight in pairs:
            tf = get(term, 0)
            if tf:
                matched[term] = tf
                total += weight * tf * saturation / (tf + norm)
        return total, matched

    return score


Part = tuple[float, float, float, float, float, dict[str, int]]
"""An item's best text: base, cosine, dense, bm25, lexical, matched."""

Text = tuple[Candidate, float, dict[str, int], float, float]
"""A candidate text: candidate, bm25, matched, dense side, lexical side."""

Scored = tuple[float, float, Any, Part, float, float, float, float]
"""score, cosine, item, its best text's parts, thread, recency, redundancy, superseded."""


def absolute_sides(
    candidates: Iterable[Candidate],
    score: Callable[[Document], tuple[float, dict[str, int]]],
    disjoint: Callable[[Iterable[str]], bool],
    full: float,
) -> Iterator[Text]:
    """Each text with its sides by ``"absolute"`` fusion: ``min(max(cosine, 0), 1)`` and
    ``min(bm25 / full, 1)``, clipped by comparisons (the same values, without the calls)."""
    matched: dict[str, int]
    for candidate in candidates:
        cosine = candidate.cosine
        dense = 0.0 if cosine < 0.0 else cosine
        if dense > 1.0:
            dense = 1.0
        doc = candidate.document
        if disjoint(doc.terms):
            yield candidate, 0.0, {}, dense, 0.0
            continue
        raw, matched = score(doc)
        lexical = raw / full if full > 0 else 0.0
        if lexical > 1.0:
            lexical = 1.0
        yield candidate, raw, matched, dense, lexical


def normalised_sides(texts: list[Text], ranking: Ranking) -> list[Text]:
    """The texts with their dense and lexical sides set by ``minmax`` or ``rrf`` fusion (both
    depend on the other candidates: see "Fusion")."""
    if not texts:
        return texts
    cosines = [text[0].cosine for text in texts]
    bm25s = [text[1] for text in texts]
    if ranking.fusion == "rrf":
        dense = _reciprocal(cosines, ranking.rrf_k, None)
        lexical = _reciprocal(bm25s, ranking.rrf_k, 0.0)
    else:
        high = max(cosines)
        floor = heapq.nlargest(ranking.depth, cosines)[-1]
        span = high - floor
        dense = [
            min(max((c - floor) / span, 0.0), 1.0) if span > 0 else float(c >= high)
            for c in cosines
        ]
        top = max(bm25s)
        lexical = [r / top if top > 0 else 0.0 for r in bm25s]
    return [(c, raw, m, d, x) for (c, raw, m, _, _), d, x in zip(texts, dense, lexical)]


def _reciprocal(values: Sequence[float], k: float, absent: float | None) -> list[float]:
    """``(k + 1) / (k + rank)`` of each value (rank 1: the highest; equal values share the
    best rank), 0 for values equal to ``absent``."""
    order = sorted(values, reverse=True)
    first: dict[float, int] = {}
    for position, value in enumerate(order, 1):
        first.setdefault(value, position)
    return [0.0 if v == absent else (k + 1.0) / (k + first[v]) for v in values]


by_score: Callable[[Scored], tuple[float, float]] = itemgetter(0, 1)
"""The sort key of scored items: score, then cosine."""
