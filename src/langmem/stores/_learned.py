"""``Ranking(fusion="learned")``: a fixed logistic model over the parts the rule computes.

Each item's score is ``1 / (1 + exp(-z))`` with ``z = intercept + sum of weight * feature``
over these features of its best text (see "Learned fusion" in :mod:`langmem.stores.ranking`;
how the weights were fitted, and what they gain, in docs/ranking.md):

- ``dense``, ``lexical``: the two sides of ``"absolute"`` fusion;
- ``coverage``: the share of the query's IDF mass among the terms the text holds (no term
  frequency, no length normalisation: BM25 with ``k1 = 0``);
- ``rarest``: the IDF of the rarest query term the text holds over the rarest query term's;
- ``thread``, ``recency``: the provenance parts of the default rule, from its fused score;
- ``crowd``: the mean cosine of the text with the dense candidates (the ``depth`` items with
  the best cosines), from the backend's ``similarity`` (0 without it);
- ``superseded``: 1 when a newer item among the best ``redundancy_depth`` (by the default
  rule's score) is a near-copy of it that holds its query terms (see "Supersede"), else 0.

Every feature comes from what both stores hand to :func:`langmem.stores.ranking.rank`, so the
scores are the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from operator import mul
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langmem.stores import ranking as rules

FEATURES = (
    "dense",
    "lexical",
    "coverage",
    "rarest",
    "thread",
    "recency",
    "crowd",
    "superseded",
)
"""The features, in the order of :data:`WEIGHTS`."""

WEIGHTS: Mapping[str, float] = {
    "intercept": -8.391,
    "dense": 13.777,
    "lexical": -9.617,
    "coverage": 13.336,
    "rarest": 0.517,
    "thread": 18.150,
    "recency": 20.437,
    "crowd": -9.035,
    "superseded": -2.632,
}
"""The model's weights: fitted on the dev splits of bench/conversations.py, bench/realmem.py
and bench/retrieval.py (its seeds 1 and 2) jointly (pairwise logistic regression, each
question weighing the same, L2 penalty 0.001; ``python bench/ranking_fit.py`` prints them)."""


def features(
    scored: list[rules._Scored],
    items: Mapping[Any, rules.Candidate],
    weights: Mapping[str, float],
    ranking: rules.Ranking,
    similarity: rules.Similarity | None,
) -> list[tuple[float, ...]]:
    """The features of each entry of ``scored`` (the default rule's order, best first)."""
    from langmem.stores import ranking as rules

    mass = sum(weights.values())
    rarest = max(weights.values(), default=0.0)
    crowd = _crowd(scored, items, ranking, similarity)
    older: set[Any] = set()
    if similarity is not None and len(scored) > 1:
        flagged = rules._superseded(scored, items, replace(ranking, supersede=1.0), similarity)
        older = {entry[2] for entry in flagged if entry[7] > 0}
    out: list[tuple[float, ...]] = []
    for position, (_, _, item, part, thread, recency, _, _) in enumerate(scored):
        matched = part[5]
        held = [weights[t] for t in matched if t in weights]
        out.append(
            (
                part[2],
                part[4],
                sum(held) / mass if mass > 0 else 0.0,
                max(held, default=0.0) / rarest if rarest > 0 else 0.0,
                thread,
                recency,
                crowd[position],
                1.0 if item in older else 0.0,
            )
        )
    return out


def _crowd(
    scored: list[rules._Scored],
    items: Mapping[Any, rules.Candidate],
    ranking: rules.Ranking,
    similarity: rules.Similarity | None,
) -> list[float]:
    """Each entry's mean cosine with the ``depth`` entries of the best cosines (and those tied
    with the last of them; itself included, at cosine 1)."""
    from langmem.stores import ranking as rules

    if similarity is None or not scored:
        return [0.0] * len(scored)
    inside = rules.dense_members([entry[1] for entry in scored], ranking.depth)
    near = rules.near_sums([items[entry[2]] for entry in scored], inside, similarity)
    count = sum(inside)
    return [value / count for value in near]


def rescored(
    scored: list[rules._Scored],
    items: Mapping[Any, rules.Candidate],
    weights: Mapping[str, float],
    ranking: rules.Ranking,
    similarity: rules.Similarity | None,
    parts: dict[Any, dict[str, float]] | None = None,
) -> list[rules._Scored]:
    """``scored`` with each score replaced by the model's, best first (``parts``, when given,
    receives item -> each feature's part of ``z``)."""
    from langmem.stores import ranking as rules

    model = WEIGHTS
    coefficients = [model[name] for name in FEATURES]
    intercept = model["intercept"]
    out: list[rules._Scored] = []
    for entry, values in zip(scored, features(scored, items, weights, ranking, similarity)):
        z = intercept + sum(map(mul, coefficients, values))
        score = 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0
        _, cosine, item, part, thread, recency, _, _ = entry
        out.append((score, cosine, item, part, thread, recency, 0.0, 0.0))
        if parts is not None:
            parts[item] = {n: w * v for n, w, v in zip(FEATURES, coefficients, values)}
    out.sort(key=rules._by_score, reverse=True)
    return out
