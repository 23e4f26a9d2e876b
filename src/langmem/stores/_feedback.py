"""The second ranking pass: pseudo-relevance feedback (RM3-style query expansion).

Some questions need a text that shares no word with them: "Which city is my sister moving to?"
is answered by "My sister is Maria ..." together with "Maria is moving to Oslo", which names
Maria only. The query's words find the first text; its rare words (the name) are what the
second text shares with it. With :attr:`Ranking.feedback_docs` > 0 a search ranks once, with
the query's terms and a few expansion terms taken from the texts that match the query best:

1. **Candidates**: those of the one-pass ranking (:func:`ranking.rank`, "What a backend
   supplies").
2. **Feedback texts**: the candidate texts of the ``feedback_docs`` items whose best text has
   the highest BM25 for the query (texts that share the query's words: RM3 feeds back the
   lexical ranking; a text found by its cosine only adds words the dense side already covers),
   each with its item's lexical side ``s`` (``"absolute"``: BM25 over the query's IDF mass) and
   its whole analyzed text (every term, not only the query's). Items tied on BM25 across the
   cut are taken by namespace, then key (:func:`feedback_positions`), so both stores feed back
   the same texts whatever order they list their candidates in.
3. **Expansion terms**: every term of those texts that is not a query term and occurs in some
   text outside them (``df`` > the number of feedback texts holding it: a term found only there
   cannot bring a new text), scored by its best evidence, weighted by rarity::

       relevance(t) = idf(t) * max over feedback texts d of s(d) * tf(t, d) / length(d)

   The maximum (relevance models sum over the texts) keeps a word that one well-matching text
   holds (the name beside "my sister") level with words every feedback text repeats: texts
   that look alike ("X from work is moving to another city soon") would otherwise pull the
   query towards more of the same (on the dev split of bench/conversations.py, fetching as
   ``feedback_fetch`` does, the sum gained 0.013 R@10 over one pass, the maximum 0.022).

   The ``feedback_terms`` best (ties: alphabetical order) are kept, each weighing
   ``w(t) = feedback_weight * relevance(t) / best relevance`` relative to a query term.
4. **The ranking**: the candidates (with ``feedback_fetch``, also the allowed texts holding
   any of the expansion terms: the rarer words only, found as for query terms), ranked by
   :func:`ranking.rank` with the query terms and the expansion terms together, each term's
   BM25 weight its IDF times ``w(t)`` (1 for a query term). With ``"absolute"`` fusion the
   lexical side is the share of this weighted IDF mass a text holds, so scores stay in
   ``[0, 1]``: an expansion term adds to the texts that hold it and, through the mass, takes a
   little from those that do not. Without the fetch (the default) the pass reads no texts: on
   the dev split it ranks as well as with it (a text that shares no word with the query and
   is not among the dense candidates rarely gains enough from expansion terms alone).

When no feedback text or no expansion term is found, the ranking is the one-pass ranking.
Both stores call :func:`ranked` or :func:`rank` with a :class:`Source` of their own
(statistics and candidate reads); everything that decides the expansion and the scores is here,
so SQLite and PostgreSQL rank the same way. :func:`explained` adds the expansion and each
item's share of it to :class:`ranking.Explanation`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from langmem.stores import ranking as rules


class Source(Protocol):
    """What a backend reads for the second pass."""

    def documents(self, positions: list[int]) -> list[rules.Document]:
        """The whole analyzed texts (:func:`ranking.document`) of the candidates at these
        positions of the first pass's candidate list."""

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        """``df`` of each term, as :class:`ranking.Corpus` defines it."""

    def identities(self, items: list[Any]) -> dict[Any, Identity]:
        """Each item's namespace (its labels joined by ``.``) and key."""

    def candidates(self, terms: list[str], fetch: list[str]) -> list[rules.Candidate]:
        """The second pass's candidates: the first pass's (in its order) analyzed for
        ``terms`` (query and expansion terms), then the allowed texts holding the rarer
        ``fetch`` terms (expansion terms) that were not candidates yet (none when empty)."""


Identity = tuple[str, str]
"""An item's namespace (its labels joined by ``.``) and key: what both stores know of an item
alike, so the order that breaks ties between feedback texts."""

Pass = tuple[list[rules.Candidate], list[str], rules.Corpus, dict[str, float]]
"""Candidates, terms, corpus and term weights of the second pass (see :func:`ranking.rank`)."""


def feedback_positions(
    candidates: Sequence[rules.Candidate],
    terms: Sequence[str],
    corpus: rules.Corpus,
    ranking: rules.Ranking,
    identities: Callable[[list[Any]], Mapping[Any, Identity]] | None = None,
) -> list[tuple[int, float]]:
    """Positions in ``candidates`` of the feedback texts, each with its item's weight: the
    texts of the ``feedback_docs`` items whose best text has the highest BM25 for the query,
    those texts only that hold a query term, weighted by the item's share of the query's IDF
    mass (the ``"absolute"`` lexical side).

    Items tied on BM25 across the cut are taken in the order of their :data:`Identity`
    (namespace, then key; ``identities`` reads them, only then; without it the items are their
    own identities, as PostgreSQL's ``(prefix, key)``): never in the order the candidates are
    listed, which differs between stores. BM25 is computed from the same integer counts with
    the same arithmetic in every store, so its ties are the same everywhere (cosines, whose last
    bits differ between numpy and pgvector, play no part)."""
    weights = {t: rules.idf(corpus.documents, corpus.frequencies.get(t, 0)) for t in terms}
    mass = sum(weights.values())
    if mass <= 0:
        return []
    score = rules._scorer(weights, corpus.average_length, ranking)
    disjoint = weights.keys().isdisjoint  # most candidates hold no query term
    best: dict[Any, float] = {}
    scores: list[float] = []
    for candidate in candidates:
        doc = candidate.document
        raw = 0.0 if disjoint(doc.terms) else score(doc)[0]
        scores.append(raw)
        if raw > best.get(candidate.item, 0.0):
            best[candidate.item] = raw
    chosen = _best_items(best, ranking.feedback_docs, identities)
    kept = {item: min(best[item] / mass, 1.0) for item in chosen}
    return [
        (at, kept[c.item]) for at, c in enumerate(candidates) if c.item in kept and scores[at] > 0
    ]


def _best_items(
    best: Mapping[Any, float],
    count: int,
    identities: Callable[[list[Any]], Mapping[Any, Identity]] | None,
) -> list[Any]:
    """The ``count`` items of highest ``best``; ties across the cut by identity (see
    :func:`feedback_positions`; identities are read for the tied items only).

    Example:
        >>> _best_items({("n", "b"): 2.0, ("n", "c"): 1.0, ("n", "a"): 1.0}, 2, None)
        [('n', 'b'), ('n', 'a')]
    """
    if count <= 0:
        return []
    ordered = sorted(best, key=best.__getitem__, reverse=True)
    if len(ordered) <= count or best[ordered[count - 1]] != best[ordered[count]]:
        return ordered[:count]
    edge = best[ordered[count - 1]]
    above = [item for item in ordered if best[item] > edge]
    tied = [item for item in ordered if best[item] == edge]
    names: Mapping[Any, Any] = identities(tied) if identities is not None else {}
    tied.sort(key=lambda item: names.get(item, item))
    return above + tied[: count - len(above)]


def candidate_terms(documents: Sequence[rules.Document], terms: Sequence[str]) -> list[str]:
    """The terms of ``documents`` that are not query ``terms``, in first-seen order.

    Example:
        >>> docs = [rules.document("Maria visits Oslo"), rules.document("Oslo in May")]
        >>> candidate_terms(docs, ["oslo"])
        ['maria', 'visit', 'may']
    """
    query = set(terms)
    seen: dict[str, None] = {}
    for doc in documents:
        for term in doc.terms:
            if term not in query:
                seen.setdefault(term)
    return list(seen)


def expansion(
    feedback: Sequence[tuple[float, rules.Document]],
    terms: Sequence[str],
    documents: int,
    frequencies: Mapping[str, int],
    ranking: rules.Ranking,
) -> dict[str, float]:
    """Expansion term -> its weight relative to a query term (see the module docstring).

    Args:
        feedback: each feedback text's item score and whole analyzed text.
        terms: the query terms (never expansion terms).
        documents: texts in the store (``N`` of :func:`ranking.idf`).
        frequencies: ``df`` of every candidate term (absent: 0, never expanded).
        ranking: ``feedback_terms`` and ``feedback_weight``.

    Example:
        >>> docs = [(1.0, rules.document("Maria Oslo")), (0.5, rules.document("Maria tea"))]
        >>> expansion(docs, ["oslo"], 100, {"maria": 9, "tea": 49}, rules.Ranking(
        ...     feedback_docs=2, feedback_terms=1, feedback_weight=0.5))
        {'maria': 0.5}
    """
    docs = [doc for _, doc in feedback]
    holding: dict[str, int] = {}
    relevance: dict[str, float] = {}
    for score, doc in feedback:
        size = max(doc.length, 1)
        for term, tf in doc.terms.items():
            holding[term] = holding.get(term, 0) + 1
            relevance[term] = max(relevance.get(term, 0.0), score * tf / size)
    scored: list[tuple[float, str]] = []
    for term in candidate_terms(docs, terms):
        df = min(frequencies.get(term, 0), documents)
        if df > holding[term] and relevance[term] > 0:
            scored.append((-rules.idf(documents, df) * relevance[term], term))
    scored.sort()  # ties: alphabetical (not the order the texts came in)
    kept = scored[: ranking.feedback_terms]
    if not kept:
        return {}
    best = -kept[0][0]
    return {term: ranking.feedback_weight * -value / best for value, term in kept}


def second_pass(
    candidates: Sequence[rules.Candidate],
    terms: Sequence[str],
    corpus: rules.Corpus,
    ranking: rules.Ranking,
    source: Source,
) -> Pass | None:
    """What :func:`ranking.rank` needs for the ranking with expansion terms, or ``None`` when
    there is no feedback text or no expansion term (then the one-pass ranking stands).

    Args:
        candidates: the one-pass ranking's candidates.
        terms: the query terms.
        corpus: the one-pass ranking's statistics.
        ranking: the parameters (``feedback_*``).
        source: the backend's reads.
    """
    if not ranking.feedback:
        return None
    picked = feedback_positions(candidates, terms, corpus, ranking, source.identities)
    if not picked:
        return None
    texts = source.documents([at for at, _ in picked])
    found = candidate_terms(texts, terms)
    if not found:
        return None
    frequencies = source.frequencies(found)
    weights = expansion(
        [(score, doc) for (_, score), doc in zip(picked, texts)],
        terms,
        corpus.documents,
        frequencies,
        ranking,
    )
    if not weights:
        return None
    added = list(weights)
    every = [*terms, *added]
    statistics = rules.Corpus(
        corpus.documents,
        corpus.average_length,
        {**corpus.frequencies, **{t: frequencies[t] for t in added}},
    )
    fetched = added if ranking.feedback_fetch else []
    return source.candidates(every, fetched), every, statistics, weights


def explained(
    explanations: list[rules.Explanation],
    candidates: Sequence[rules.Candidate],
    corpus: rules.Corpus,
    ranking: rules.Ranking,
    weights: Mapping[str, float],
) -> list[rules.Explanation]:
    """``explanations`` of the second pass with ``expansion`` and ``feedback`` set: the share
    of each item's lexical side (so of its score) that the expansion terms account for.

    An item with several texts counts its best one, as :func:`ranking.rank` does: the text with
    the item's cosine and BM25."""
    if not weights:
        return explanations
    by_item: dict[Any, list[rules.Candidate]] = {}
    for candidate in candidates:
        by_item.setdefault(candidate.item, []).append(candidate)
    full = {
        term: rules.idf(corpus.documents, df) * weights.get(term, 1.0)
        for term, df in corpus.frequencies.items()
    }
    every = rules._scorer(full, corpus.average_length, ranking)
    added = rules._scorer({term: full[term] for term in weights}, corpus.average_length, ranking)
    share = 1.0 - ranking.dense_weight
    out = []
    for why in explanations:
        part = 0.0
        texts = by_item.get(why.item, [])
        if why.bm25 > 0 and texts:
            best = texts[0]
            if len(texts) > 1:
                best = min(
                    texts,
                    key=lambda c: (
                        c.cosine != why.cosine,
                        abs(every(c.document)[0] - why.bm25),
                    ),
                )
            extra, _ = added(best.document)
            part = share * why.lexical * min(extra / why.bm25, 1.0)
        out.append(dataclasses.replace(why, expansion=dict(weights), feedback=part))
    return out


def ranked(
    candidates: list[rules.Candidate],
    terms: list[str],
    corpus: rules.Corpus,
    ranking: rules.Ranking,
    source: Source,
    *,
    similarity: rules.Similarity | None = None,
) -> list[tuple[float, Any]]:
    """:func:`ranking.ranked_items` with the second pass (the first pass's when it finds no
    expansion term)."""
    second = second_pass(candidates, terms, corpus, ranking, source)
    if second is None:
        return rules.ranked_items(candidates, terms, corpus, ranking, similarity=similarity)
    more, every, statistics, weights = second
    return rules.ranked_items(more, every, statistics, ranking, weights, similarity=similarity)


def rank(
    candidates: list[rules.Candidate],
    terms: list[str],
    corpus: rules.Corpus,
    ranking: rules.Ranking,
    source: Source,
    *,
    parts: bool = True,
    similarity: rules.Similarity | None = None,
) -> list[rules.Explanation]:
    """:func:`ranking.rank` with the second pass, its expansion and each item's share of it
    (see :func:`explained`; not with ``parts=False``: the scores and order only)."""
    second = second_pass(candidates, terms, corpus, ranking, source)
    if second is None:
        return rules.rank(candidates, terms, corpus, ranking, similarity=similarity)
    more, every, statistics, weights = second
    again = rules.rank(more, every, statistics, ranking, weights, similarity=similarity)
    return explained(again, more, statistics, ranking, weights) if parts else again
