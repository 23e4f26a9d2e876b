"""The backend-neutral half of hybrid ranking: term weights and the fusion of the two sides.

Every store that ranks with words and vectors (the embedded SQLite store, the PostgreSQL store)
finds its candidates its own way, then scores them here, so the same data and query rank the
same on each. The scoring rule is described in ``_lexical``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from langmem.stores import _lexical

K = TypeVar("K", bound=Hashable)

COMMON_SHARE = 0.02
COMMON_FLOOR = 100
"""Words in more than ``max(COMMON_SHARE * texts, COMMON_FLOOR)`` texts do not fetch lexical
candidates (they still count in coverage): their posting lists are long and they say little
about which text is meant."""


def lookup_words(terms: Sequence[str]) -> dict[str, str]:
    """Stored word forms worth looking up -> the query term each one is a form of.

    A term matches the stored words with the same :func:`_lexical.stem` ("lives" for "living").
    """
    lookups: dict[str, str] = {}
    for term in terms:
        lookups.setdefault(term, term)
        if term.isalpha():  # codes and numbers have no inflections
            root = _lexical.stem(term)
            for word in _lexical.inflections(root):
                if _lexical.stem(word) == root:
                    lookups.setdefault(word, term)
    return lookups


def term_weights(
    terms: Sequence[str],
    documents: int,
    count: Callable[[list[str]], dict[str, int]],
) -> tuple[dict[str, float], dict[str, str], dict[str, int]]:
    """IDF of each query term in a store, its stored forms, and the words worth searching.

    A term no text contains still counts, with the highest IDF: a query whose words are mostly
    unknown to the store (a paraphrase) gets low coverage everywhere, so its ranking stays with
    the dense side.

    Args:
        terms: the query's informative words (:func:`_lexical.query_terms`).
        documents: how many indexed texts the store holds.
        count: word forms -> how many texts hold each (missing words may be left out).

    Returns:
        ``(weights, forms, search)``: term -> IDF; stored word -> term; stored words rare
        enough to fetch candidates with -> how many texts hold them.
    """
    lookups = lookup_words(terms)
    counts = count(list(lookups))
    forms: dict[str, str] = {}
    totals: dict[str, int] = dict.fromkeys(terms, 0)
    search: dict[str, int] = {}
    for word, term in lookups.items():
        docs = counts.get(word, 0)
        if docs:
            forms[word] = term
            totals[term] += docs
            if docs <= max(COMMON_SHARE * documents, COMMON_FLOOR):
                search[word] = docs
    weights = {t: _lexical.idf(documents, min(totals[t], documents)) for t in terms}
    return weights, forms, search


def fused_scores(cosines: list[float], coverage: list[float]) -> list[float]:
    """Each candidate's score from its cosine and its coverage (see ``_lexical``).

    Words only count when some candidate holds most of what the query says
    (``LEXICAL_GATE``); otherwise the scores are the cosines.
    """
    if not coverage or max(coverage) < _lexical.LEXICAL_GATE:
        return cosines
    return [_lexical.fuse(cosine, share) for cosine, share in zip(cosines, coverage)]


def best_per_item(scores: Sequence[float], items: Sequence[K]) -> list[tuple[float, K]]:
    """``(score, item)`` best first, each item once with its best text's score."""
    best: dict[K, float] = {}
    for score, item in zip(scores, items):
        if score > best.get(item, float("-inf")):
            best[item] = score
    return sorted(((score, item) for item, score in best.items()), reverse=True)  # type: ignore[type-var]


def rank_candidates(
    candidates: Sequence[tuple[K, float, str]],
    weights: dict[str, float],
    forms: dict[str, str],
) -> list[tuple[float, K]]:
    """Fuse candidate texts ``(item, cosine, text)`` into a ranking of items, best first."""
    cosines = [cosine for _, cosine, _ in candidates]
    coverage = (
        [_lexical.coverage_in_text(text, forms, weights) for _, _, text in candidates]
        if weights
        else []
    )
    return best_per_item(fused_scores(cosines, coverage), [item for item, _, _ in candidates])
