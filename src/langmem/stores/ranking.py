"""The hybrid ranking rule of langmem stores, independent of the storage backend.

Every store that ranks queries (the embedded SQLite store, PostgreSQL) calls :func:`rank` with
the same inputs, so the same data gives the same order and the same scores everywhere.

**Analyzer** (:func:`analyze`): text is lowercased, diacritics are removed (as SQLite FTS5's
``unicode61 remove_diacritics 2``), split into runs of letters and digits, stop words are
dropped (:data:`STOPWORDS`), as are single letters and words longer than :data:`MAX_WORD_BYTES`
(2000 bytes in UTF-8), and each word is reduced by :func:`stem`, a light suffix strip whose
result is always a prefix of the word ("lived", "lives", "living" -> "liv"; numbers and codes
stay as they are). The words are split from the text's lexical text (:func:`lexical_text`):
only the first :data:`LEXICAL_CHARS` (250,000) characters of a text or a query longer than that
many bytes (a CJK character counting two: :func:`lexical_cut`), and in those, Chinese,
Japanese and Korean runs as overlapping character bigrams ("东京的咖啡" -> "东京", "京的",
"的咖", "咖啡"; a lone CJK character is a term of its own), full-width forms as their
ordinary characters. The SQLite store's FTS5 index and PostgreSQL's words read the same lexical
text, so both limits hold on both stores (PostgreSQL's ``tsvector`` holds words of at most
2047 bytes and 1 MB of them per text; see ``docs/ranking.md``, "Analyzer").

**Lexical score**: Okapi BM25 over the analyzed terms of the query (each distinct term once)::

    bm25(d) = sum over query terms t in d of
              idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
    idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))

``tf``: occurrences of ``t`` in the text; ``dl``: the text's analyzed length; ``avgdl``: the
average over the ``N`` indexed texts in the store; ``df``: how many texts hold ``t``.

**Fusion** (a convex combination of two scores in ``[0, 1]``; :attr:`Ranking.fusion` says how
each side is put on that scale, ``"absolute"`` by default)::

    base = dense_weight * dense + (1 - dense_weight) * lexical

``"absolute"`` (the default)::

    dense   = clip(cosine, 0, 1)
    lexical = min(bm25 / sum of idf(t) over the query terms, 1)

The lexical side is the share of the query's IDF mass a text holds, length-normalised: a text
of average length holding every query term once scores exactly 1 (longer texts or repeated
terms are capped at 1), a text holding only a common word of a long query scores little. Both
sides are absolute (they do not depend on the other candidates), so a score means the same in
every query and every backend, and a perfect match scores about 1. Both sides always count; when
no text holds a query word, the lexical side is 0 everywhere and the order is the dense one.

``"minmax"`` (min-max normalised over the candidates)::

    dense   = clip((cosine - floor) / (best cosine - floor), 0, 1)
    lexical = bm25 / the best bm25 among the candidates     (0 when no candidate matched)

``floor`` is the ``depth``-th best cosine among the candidates (the lowest when there are fewer):
since the candidates always hold the best ``depth`` texts by cosine, neither side depends on how
many results were asked for or on which extra lexical candidates a backend found (texts below
the floor have a dense side of 0). The best lexical match always scores 1, however weak, so
the lexical scale depends on which lexical candidates the backend found (see "What a backend
supplies": when they are the best of many, backends may keep slightly different ones).

``"rrf"`` (reciprocal rank fusion, scaled to ``[0, 1]``)::

    dense   = (rrf_k + 1) / (rrf_k + rank by cosine among the candidates)
    lexical = (rrf_k + 1) / (rrf_k + rank by bm25 among the candidates)   (0 without a match)

Equal values share the better rank. Ranks jump where two cosines cross, so two backends that
compute a cosine with different rounding may differ near such ties; use it to compare, not
where SQLite and PostgreSQL must agree exactly.

Which is the default was measured on the dev split of ``bench/conversations.py`` (see
``docs/ranking.md``): the three are within noise of each other there, and ``"absolute"`` stays,
with ``dense_weight`` 0.8. Query-adaptive weights (from the query's IDF profile, from the gap
between each side's best scores) and z-score fusion were measured too and did no better. A
default tuned on that split (weight 0.9, a lighter thread boost, redundancy on) gained there but
lost on the dev split of ``bench/realmem.py`` (public data we did not write), so the defaults
are those that held on both: the fusion above, a thread boost of 0.35 and a light recency
(0.05, half-life 7 days), which gained on the dev splits of both. Supersede (below) gained on
both too, but costs more per search than a default may add, so it is an option.

**Provenance** (optional, see :class:`Ranking`): memories written by langmem hold ``thread_id``
and ``created_at`` in their value. With ``thread_boost`` > 0, a candidate is pulled towards the
best other candidate of the same thread written within ``thread_window`` seconds of it (never
past it, never down); with ``recency_weight`` > 0, newer candidates are pulled towards 1
(half-life ``recency_half_life`` seconds, counted back from the newest candidate; on by
default, 0.05 with a half-life of 7 days)::

    thread  = min(thread_boost, 1) * max(neighbour_base - base, 0)
    recency = min(recency_weight * 0.5 ** (age / half_life), 1) * (1 - base - thread)
    score   = base + thread + recency

**Redundancy** (``redundancy`` > 0, off by default): the best ``redundancy_depth`` items, in
that order, are compared with each other by the cosine of their best texts (the backend's
``similarity``). With ``c`` the highest cosine of an item's text with a better item that is
not itself a near-copy (one whose ``c`` reached the threshold)::

    floor = redundancy_threshold - redundancy_ramp
    scale = 1 if c >= redundancy_threshold, (c - floor) / redundancy_ramp if c > floor,
            else 0 (also without such a better item)
    lost  = redundancy * scale * (base + thread + recency)
    score = base + thread + recency - lost

so the same fact said twice (an assistant repeating the user, a memory stored again in other
words) takes one of the top places, not two; the copy is still returned, lower.

**Supersede** (``supersede`` > 0, off by default; 0.3 is the share measured): among the same best
``redundancy_depth`` items (after the provenance boosts, before redundancy), an item loses a
share of its score when a *newer* one of them (a later ``created_at``) is a near-copy of it (a
cosine of its best text with the other's of at least ``supersede_threshold``) and holds every
query term it holds::

    lost  = supersede * (base + thread + recency)      (once, however many newer copies)
    score = base + thread + recency - lost

so a fact told again, corrected or restated later (a memory updated in a later session, a
template line repeated with a new detail) ranks its latest telling first; the older one is
still returned, lower. Items without a time, or with the same time, supersede nothing; a newer
text that lacks a query word the older one holds is not its new version (with a degenerate
embedding every text is a "near-copy": the word match still decides).

**Restate** (``restate`` > 0, off by default; 0.2 is the share measured): after supersede, the
same test with a looser bond: an item among the best ``redundancy_depth`` loses ``restate`` of
its score when a newer one of them has a cosine of at least ``restate_threshold`` (0.6) with
it, it holds a query term, and the newer one holds every query term it holds (a fact told
again in other words; :mod:`langmem.stores._restated`; ``Explanation.restated``).

**Centering** (``centering`` > 0, off by default; 0.1 is the share measured): the dense side
is computed from the cosine of each text with the query minus a share of the mean vector
``m`` of the dense candidates (the ``depth`` texts with the best cosines and those tied with
the last of them; every vector of unit length), renormalised::

    centred(d) = (cos(q, d) - centering * cos_m(d)) / |q - centering * m|
    cos_m(d)   = mean over dense candidates j of cos(v_j, d)      (v_d itself counts 1)
    |q - centering * m|^2 = 1 - 2 * centering * mean_j cos(q, v_j)
                            + centering^2 * mean over j, k of cos(v_j, v_k)

so texts that look like the crowd of look-alike candidates (templated small talk, the same
line told many times) lose a little against a text that stands out. Every part comes from
cosines the backend computes (``similarity`` with the floor -1, or its faster ``sums``), so
both stores compute it; ``Explanation.centered`` is the centred cosine, ``cosine`` the plain
one (ties are broken on the plain one).

**Learned fusion** (``fusion="learned"``): the score is a fixed logistic model,
``1 / (1 + exp(-z))``, of the parts above (the ``"absolute"`` sides, the share of the
query's IDF mass held, the rarest held term, the thread and recency parts, the mean cosine
with the dense candidates, whether a newer near-copy supersedes the text); the weights and
features are in :mod:`langmem.stores._learned`, ``Explanation.learned`` lists each feature's
part of ``z``. The supersede and redundancy options, when on, apply to its score as to the
others.

``SearchItem.score`` of a hybrid search is always in ``[0, 1]``. Results are ordered by score,
then cosine (both descending), then the order in which the backend listed the candidates.

**Re-ranking** (optional, ``rerank``): after this rule, the best ``rerank_depth`` results are
ordered by a re-ranker the caller gives (a cross-encoder, an API, an LLM); scores stay in
``[0, 1]`` and in order. The stage runs in Python after either backend ranked, so it is the
same on both: :mod:`langmem.stores._rerank`.

**Second pass** (optional, off by default; ``feedback_docs`` > 0): pseudo-relevance feedback.
The texts that match the query best by BM25 give a few expansion terms (their words that are
rare in the store), and the candidates plus the texts holding those terms are ranked by the
same rule with the query's terms and the expansion terms together, each expansion term's IDF
weighted by ``w(t) <= feedback_weight`` (``term_weights`` of :func:`rank`)::

    bm25(d) = sum over query and expansion terms t in d of
              w(t) * idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
    lexical = min(bm25 / sum of w(t) * idf(t) over those terms, 1)     ("absolute")

with ``w = 1`` for a query term; how the terms and ``w`` are chosen is in
:mod:`langmem.stores._feedback`. Scores stay in ``[0, 1]``; ``Explanation.expansion`` lists the
terms and ``Explanation.feedback`` the part of the score they account for.

**What a backend supplies** (see :func:`rank`):

1. The candidates: the ``max(2 * want, depth)`` texts with the best cosine among those allowed
   (namespace, filter, not expired) and the texts whose cosine equals the last of them, up to
   twice as many in all (so no backend chooses among copies tied at the cut; past the bound,
   the first written), plus the texts holding any of the
   query's rarer terms (at least the best ``max(2 * want, 30)`` of them by a BM25, or all when
   fewer), each with its cosine (exact), its text (or its :class:`Document`), and its item's
   ``thread_id`` and ``created_at`` (as Unix seconds) when provenance is on (every item's time when
   :attr:`Ranking.times`; else only the times of items with a thread).
2. :class:`Corpus` statistics over all indexed texts of the store: ``N``, the average analyzed
   length (:func:`length`), and ``df`` of each query term: the sum, over the stored words
   (:func:`tokens`, stop words included) whose :func:`stem` is the term (:func:`forms` lists
   them), of how many texts hold that word, capped at ``N`` (a text holding "lives" and "lived"
   counts twice for "liv").
3. ``similarity``: which of given candidates' texts have a cosine of at least a threshold
   with each other (for redundancy and supersede; both stores compare the stored vectors).

Any item outside the candidates scores below every dense candidate that outranks it (its lexical
side is 0 and its cosine lower), except through a same-thread neighbour: neighbours count only
among the candidates, which is why the candidate set is part of the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langmem.stores._analyzer import (
    LEXICAL_CHARS,
    MAX_WORD_BYTES,
    STOPWORDS,
    Document,
    analyze,
    document,
    fold,
    forms,
    length,
    lexical_cut,
    lexical_text,
    query_terms,
    stem,
    term_of,
    tokens,
)
from langmem.stores._centering import centred, dense_members, near_sums
from langmem.stores._demotions import (
    demoted,
    marked_down,
    newer_pairs,
    newer_tellings,
    superseded,
)
from langmem.stores._provenance import candidates_by_item, provenance_boosts
from langmem.stores._ranking_options import FUSIONS, Ranking
from langmem.stores._scoring import (
    Candidate,
    Corpus,
    Explanation,
    Part,
    Scored,
    Similarity,
    Text,
    absolute_sides,
    bm25,
    by_score,
    idf,
    normalised_sides,
    scorer,
)

__all__ = [
    "FUSIONS",
    "LEXICAL_CHARS",
    "MAX_WORD_BYTES",
    "STOPWORDS",
    "Candidate",
    "Corpus",
    "Document",
    "Explanation",
    "Ranking",
    "Similarity",
    "analyze",
    "bm25",
    "candidates_by_item",
    "dense_members",
    "document",
    "fold",
    "forms",
    "idf",
    "length",
    "lexical_cut",
    "lexical_text",
    "marked_down",
    "near_sums",
    "newer_pairs",
    "newer_tellings",
    "query_terms",
    "rank",
    "ranked_items",
    "stem",
    "tokens",
]

for _public in (Candidate, Corpus, Document, Explanation, Ranking):
    _public.__module__ = __name__  # documented, and pickled, where users import them from
del _public

# the names this module had before its parts moved out, for the modules that read them here
_term = term_of
_scorer = scorer
_superseded = superseded
_by_score = by_score
_Scored = Scored


def rank(
    candidates: Iterable[Candidate],
    terms: Sequence[str],
    corpus: Corpus,
    ranking: Ranking,
    term_weights: Mapping[str, float] | None = None,
    *,
    similarity: Similarity | None = None,
) -> list[Explanation]:
    """Score the candidates and return one :class:`Explanation` per item, best first.

    Args:
        candidates: the texts the query may return (see the module docstring); an item with
            several texts counts with its best one.
        terms: :func:`query_terms` of the query.
        corpus: the store's statistics for those terms.
        ranking: the parameters.
        term_weights: a factor on each term's IDF (1 for a term not listed): the second
            pass's expansion terms weigh less than the query's own (see
            :mod:`langmem.stores._feedback`).
        similarity: which candidates' texts are alike, for ``ranking.redundancy`` (without
            it no item counts as a near-duplicate).
    """
    centered: dict[Any, float] = {}
    learned: dict[Any, dict[str, float]] = {}
    restated: dict[Any, float] = {}
    scored = _scored(
        candidates,
        terms,
        corpus,
        ranking,
        term_weights,
        similarity=similarity,
        centered=centered,
        learned=learned,
        restated=restated,
    )
    return [
        Explanation(
            item,
            total,
            cosine,
            dense,
            raw,
            lexical,
            matched,
            base,
            thread,
            recency,
            lost,
            superseded=older,
            centered=centered.get(item) if centered else None,
            learned=learned.get(item, {}),
            restated=restated.get(item, 0.0),
        )
        for total, _, item, parts, thread, recency, lost, older in scored
        for base, cosine, dense, raw, lexical, matched in (parts,)
    ]


def ranked_items(
    candidates: Iterable[Candidate],
    terms: Sequence[str],
    corpus: Corpus,
    ranking: Ranking,
    term_weights: Mapping[str, float] | None = None,
    *,
    similarity: Similarity | None = None,
) -> list[tuple[float, Any]]:
    """``(score, item)`` of :func:`rank`, in its order, without building each explanation."""
    scored = _scored(candidates, terms, corpus, ranking, term_weights, similarity=similarity)
    return [(entry[0], entry[2]) for entry in scored]


def _scored(
    candidates: Iterable[Candidate],
    terms: Sequence[str],
    corpus: Corpus,
    ranking: Ranking,
    term_weights: Mapping[str, float] | None = None,
    *,
    similarity: Similarity | None = None,
    centered: dict[Any, float] | None = None,
    learned: dict[Any, dict[str, float]] | None = None,
    restated: dict[Any, float] | None = None,
) -> list[Scored]:
    """:func:`rank` as tuples, best first (``centered``, when given, receives item ->
    the centred cosine of its best text, with ``ranking.centering``; ``restated`` item ->
    the score it lost to ``ranking.restate``)."""
    plain: dict[int, float] = {}  # with centering: id of a candidate -> its plain cosine
    if ranking.centering > 0 and similarity is not None:
        candidates, plain = centred(list(candidates), ranking, similarity)
    weights = {t: idf(corpus.documents, corpus.frequencies.get(t, 0)) for t in terms}
    if term_weights:
        weights = {t: w * term_weights.get(t, 1.0) for t, w in weights.items()}
    score = scorer(weights, corpus.average_length, ranking)
    disjoint = weights.keys().isdisjoint  # most candidates hold no query term: skip BM25
    texts: Iterable[Text]
    if ranking.fusion in ("absolute", "learned"):  # both sides known per text: one pass
        texts = absolute_sides(candidates, score, disjoint, sum(weights.values()))
    else:
        found: list[Text] = []
        for candidate in candidates:
            doc = candidate.document
            raw, matched = (0.0, {}) if disjoint(doc.terms) else score(doc)
            found.append((candidate, raw, matched, 0.0, 0.0))
        texts = normalised_sides(found, ranking)
    alpha = ranking.dense_weight
    rest = 1.0 - alpha
    best: dict[Any, Part] = {}
    items: dict[Any, Candidate] = {}  # each item's best text's candidate (same thread, time)
    for candidate, bm25_score, matched, dense, lexical in texts:
        cosine = candidate.cosine
        if plain:  # centred: the tie-break and the explanation keep the plain cosine
            cosine = plain[id(candidate)]
        base = alpha * dense + rest * lexical
        item = candidate.item
        seen = best.get(item)
        if seen is None or (base, cosine) > (seen[0], seen[1]):
            best[item] = (base, cosine, dense, bm25_score, lexical, matched)
            items[item] = candidate
    if plain and centered is not None:
        centered.update((item, c.cosine) for item, c in items.items())
    threaded = ranking.thread_boost > 0 and any(c.thread is not None for c in items.values())
    scored: list[Scored]
    if threaded or ranking.recency_weight > 0:
        boosts = provenance_boosts(best, items, ranking)
        scored = [
            (part[0] + thread + recency, part[1], item, part, thread, recency, 0.0, 0.0)
            for item, part in best.items()
            for thread, recency in (boosts[item],)
        ]
    else:
        scored = [(part[0], part[1], item, part, 0.0, 0.0, 0.0, 0.0) for item, part in best.items()]
    scored.sort(key=by_score, reverse=True)
    if ranking.fusion == "learned":
        from langmem.stores import _learned

        scored = _learned.rescored(scored, items, weights, ranking, similarity, learned)
    if ranking.supersede > 0 and similarity is not None and len(scored) > 1:
        scored = superseded(scored, items, ranking, similarity)
    if ranking.restate > 0 and similarity is not None and len(scored) > 1:
        from langmem.stores import _restated

        scored = _restated.restated(scored, items, ranking, similarity, restated)
    if ranking.redundancy > 0 and similarity is not None and len(scored) > 1:
        scored = demoted(scored, items, ranking, similarity)
    return scored
