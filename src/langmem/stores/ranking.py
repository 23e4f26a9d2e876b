"""The hybrid ranking rule of langmem stores, independent of the storage backend.

Every store that ranks queries (the embedded SQLite store, PostgreSQL) calls :func:`rank` with
the same inputs, so the same data gives the same order and the same scores everywhere.

**Analyzer** (:func:`analyze`): text is lowercased, diacritics are removed (as SQLite FTS5's
``unicode61 remove_diacritics 2``), split into runs of letters and digits, stop words are
dropped (:data:`STOPWORDS`), as are single letters, and each word is reduced by :func:`stem`, a
light suffix strip whose result is always a prefix of the word ("lived", "lives", "living" ->
"liv"; numbers and codes stay as they are).

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

import heapq
import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langmem.stores._rerank import Reranker, RerankFunction

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_ASCII_TOKEN = re.compile(r"[a-z0-9]+")
_STOPWORD_TEXT = """
a about above after again all am an and any are as at be been before being below
between both but by can could did do does doing down during each few for from further
had has have having he her here hers herself him himself his how i if in into is it its
itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we
were what when where which while who whom whose why will with would you your yours
yourself yourselves s t d ll m re ve
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Words dropped by the analyzer: matching them says nothing about which text is meant."""

FUSIONS = ("minmax", "absolute", "rrf", "learned")
"""The ways :func:`rank` can put the dense and the lexical side on one scale (see "Fusion")."""

_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s", "y", "e")
_MIN_STEM = 3


@dataclass(frozen=True)
class Ranking:
    """The parameters of :func:`rank` (defaults chosen on the dev splits of
    bench/conversations.py and bench/realmem.py, reported on their test splits;
    docs/ranking.md has the numbers).

    Attributes:
        dense_weight: share of the dense side in the fused score (the rest is BM25).
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation (0: none, 1: full).
        depth: how many texts by cosine are candidates at least (thread neighbours are found
            among the candidates).
        thread_boost: share of the gap to the best same-thread neighbour's score that an item
            gains (0: off, at most 1).
        thread_window: seconds between two items of a thread for them to be neighbours.
        recency_weight: share of the gap to 1 that the newest candidate gains (0: off).
        recency_half_life: seconds after which the recency term halves.
        fusion: how each side is put on ``[0, 1]``: ``"absolute"`` (clipped cosine, BM25 over
            the query's IDF mass), ``"minmax"`` (each side min-max normalised over the
            candidates), ``"rrf"`` (reciprocal ranks); see "Fusion" in the module docstring;
            or ``"learned"``: a fixed logistic model of the rule's parts ("Learned fusion").
        rrf_k: the rank offset of ``"rrf"`` (larger: flatter).
        redundancy: share of its score an item loses when its text is a near-duplicate of a
            better item's (0: off, at most 1); see "Redundancy" in the module docstring.
        redundancy_threshold: the cosine between two texts from which the lower-ranked one
            is a near-copy (loses the whole ``redundancy`` share).
        redundancy_ramp: how far below the threshold a lower-ranked text starts to lose
            score, in proportion to how close it is (0: only near-copies lose).
        redundancy_depth: how many of the best items are compared with each other (for
            redundancy and supersede).
        supersede: share of its score an item loses when a newer item among the best
            ``redundancy_depth`` is a near-copy of it (0: off, at most 1); see "Supersede"
            in the module docstring.
        supersede_threshold: the cosine between two texts from which the older one is
            superseded by the newer.
        restate: share of its score an item loses when a newer item among the best
            ``redundancy_depth`` restates it (a cosine of at least ``restate_threshold`` and
            the same query words; 0: off, at most 1); see :mod:`langmem.stores._restated`.
        restate_threshold: the cosine between two texts from which the newer one may restate
            the older.
        feedback_docs: a second pass (pseudo-relevance feedback, see
            :mod:`langmem.stores._feedback`): how many of the first pass's best items give
            expansion terms (0: off, one pass).
        feedback_terms: how many expansion terms the second pass adds at most (0: off).
        feedback_weight: an expansion term's weight relative to a query term, for the best
            one (the others in proportion; 0: off).
        feedback_fetch: whether the second pass also fetches the texts holding the expansion
            terms (else it ranks the one-pass candidates only; on the dev split both rank
            alike, the fetch costs an index lookup).
        centering: share of the dense candidates' mean vector taken off the query before the
            dense side is computed (0: off, at most 1); see "Centering" in the module
            docstring.
        rerank: an optional re-ranker run after this ranking (``None``: off): an object with
            ``rerank(query, texts) -> scores`` (and optionally ``async arerank``), or such a
            function (:class:`langmem.stores.Reranker`); see :mod:`langmem.stores._rerank`
            and "Re-ranking" in docs/ranking.md.
        rerank_depth: how many of the best results (from the first, whatever page is asked)
            the re-ranker orders; the rest follow in this ranking's order.
        rerank_weight: the re-ranker's share when its scores are mixed with this ranking's
            (1: its order alone; 0: this ranking's order).
        rerank_fallback: when the re-ranker raises or returns unusable scores: ``False``
            (the default) raises :class:`~langmem.errors.RerankerError`; ``True`` warns
            (:class:`~langmem.errors.RerankerWarning`) and returns this ranking's order.
    """

    dense_weight: float = 0.8
    k1: float = 1.2
    b: float = 0.9
    depth: int = 50
    thread_boost: float = 0.35
    thread_window: float = 300.0
    recency_weight: float = 0.05
    recency_half_life: float = 7 * 86400.0
    fusion: str = "absolute"
    rrf_k: float = 60.0
    redundancy: float = 0.0
    redundancy_threshold: float = 0.8
    redundancy_ramp: float = 0.0
    redundancy_depth: int = 20
    supersede: float = 0.0
    supersede_threshold: float = 0.9
    restate: float = 0.0
    restate_threshold: float = 0.6
    feedback_docs: int = 0
    feedback_terms: int = 8
    feedback_weight: float = 0.5
    feedback_fetch: bool = False
    centering: float = 0.0
    rerank: Reranker | RerankFunction | None = field(default=None, hash=False)
    rerank_depth: int = 20
    rerank_weight: float = 1.0
    rerank_fallback: bool = False

    def __post_init__(self) -> None:
        if self.rerank is not None:
            from langmem.stores import _rerank

            object.__setattr__(self, "rerank", _rerank.checked(self.rerank))
        for name, value in vars(self).items():
            if name in _NOT_NUMBERS:
                continue
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(
                    f"Ranking({name}={value!r}) is not a number: {name} {_RULES[name][1]}; "
                    f"fix: pass it as a number, e.g. the default {name}={_DEFAULTS[name]!r}."
                )
            whole = math.isfinite(value) and float(value).is_integer()
            if name in _COUNTS and not isinstance(value, numbers.Integral) and whole:
                object.__setattr__(self, name, int(float(value)))  # 50.0 (from JSON, say) is 50
        for name, (ok, rule) in _RULES.items():
            value = getattr(self, name)
            if not ok(value):
                nan = " (NaN is not a number)" if _is_nan(value) else ""
                raise ValueError(
                    f"Ranking({name}={value!r}) is out of range{nan}: {name} {rule}; "
                    f"fix: pass a value in that range, e.g. the default {name}="
                    f"{_DEFAULTS[name]!r}."
                )

    def __repr__(self) -> str:
        # as the dataclass writes it, with a re-ranker shown by its type when its own repr is
        # long (a model's repr can run to pages)
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            text = repr(value)
            if f.name == "rerank" and value is not None and len(text) > 80:
                text = f"<{type(value).__qualname__} object>"
            shown.append(f"{f.name}={text}")
        return f"Ranking({', '.join(shown)})"

    def __deepcopy__(self, memo: dict[int, Any]) -> Ranking:
        # immutable, and a re-ranker is a handle on a model or a service: copies share it
        return self

    @property
    def provenance(self) -> bool:
        """Whether candidates need their thread and time."""
        return self.thread_boost > 0 or self.times

    @property
    def times(self) -> bool:
        """Whether every candidate needs its time, also without a thread (recency, supersede
        and restate compare items by time; the thread boost only items of one thread)."""
        return (
            self.recency_weight > 0
            or self.supersede > 0
            or self.restate > 0
            or self.fusion == "learned"
        )

    @property
    def feedback(self) -> bool:
        """Whether searches make a second pass with expansion terms (see ``feedback_docs``;
        never with ``dense_weight=1``, where word matches do not count)."""
        return (
            self.feedback_docs > 0
            and self.feedback_terms > 0
            and self.feedback_weight > 0
            and self.dense_weight < 1.0
        )


def _is_nan(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value != value


def _between(low: float, high: float) -> Callable[[Any], bool]:
    return lambda value: bool(low <= value <= high)  # False for NaN


def _at_least(low: float, *, finite: bool = False) -> Callable[[Any], bool]:
    if finite:  # an infinite weight turns scores into NaN (inf / inf, inf * 0)
        return lambda value: bool(low <= value < math.inf)
    return lambda value: bool(value >= low)


def _count(low: int) -> Callable[[Any], bool]:
    return lambda value: isinstance(value, numbers.Integral) and int(value) >= low


_COUNTS = ("depth", "redundancy_depth", "feedback_docs", "feedback_terms", "rerank_depth")
"""The parameters that count texts: whole numbers, and a float such as 50.0 is taken as 50."""

_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "dense_weight": (_between(0.0, 1.0), "goes from 0 to 1"),
    "k1": (_at_least(0.0, finite=True), "is a finite number >= 0"),
    "b": (_between(0.0, 1.0), "goes from 0 to 1"),
    "depth": (_count(1), "is an int >= 1"),
    "thread_boost": (_at_least(0.0), "is a number >= 0"),
    "thread_window": (_at_least(0.0), "is a number of seconds >= 0"),
    "recency_weight": (_at_least(0.0, finite=True), "is a finite number >= 0"),
    "recency_half_life": (lambda value: bool(value > 0.0), "is a number of seconds > 0"),
    "fusion": (lambda value: value in FUSIONS, f"is one of {', '.join(FUSIONS)}"),
    "rrf_k": (lambda value: bool(0.0 < value < math.inf), "is a finite number > 0"),
    "redundancy": (_between(0.0, 1.0), "goes from 0 to 1"),
    "redundancy_threshold": (_between(-1.0, 1.0), "goes from -1 to 1"),
    "redundancy_ramp": (_between(0.0, 2.0), "goes from 0 to 2"),
    "redundancy_depth": (_count(1), "is an int >= 1"),
    "supersede": (_between(0.0, 1.0), "goes from 0 to 1"),
    "supersede_threshold": (_between(-1.0, 1.0), "goes from -1 to 1"),
    "restate": (_between(0.0, 1.0), "goes from 0 to 1"),
    "restate_threshold": (_between(-1.0, 1.0), "goes from -1 to 1"),
    "feedback_docs": (_count(0), "is an int >= 0"),
    "feedback_terms": (_count(0), "is an int >= 0"),
    "feedback_weight": (_at_least(0.0, finite=True), "is a finite number >= 0"),
    "feedback_fetch": (lambda value: isinstance(value, bool), "is True or False"),
    "centering": (_between(0.0, 1.0), "goes from 0 to 1"),
    "rerank_depth": (_count(1), "is an int >= 1"),
    "rerank_weight": (_between(0.0, 1.0), "goes from 0 to 1"),
    "rerank_fallback": (lambda value: isinstance(value, bool), "is True or False"),
}
"""Each :class:`Ranking` parameter's rule: a check (False for NaN) and how to say it."""

_DEFAULTS = {f.name: f.default for f in fields(Ranking)}

_NOT_NUMBERS = ("fusion", "feedback_fetch", "rerank", "rerank_fallback")
"""The parameters that are not numbers (checked by their own rule)."""


@dataclass(frozen=True)
class Document:
    """An analyzed text: term -> occurrences, and its length in terms."""

    terms: Mapping[str, int]
    length: int


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
    """The backend's handle of this text, for the ``similarity`` of :func:`rank`."""


@dataclass(frozen=True)
class Explanation:
    """Why an item got its score (see the module docstring for each part).

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


def fold(text: str) -> str:
    """Lowercase without diacritics, as FTS5's ``unicode61 remove_diacritics 2``."""
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Words as FTS5's ``unicode61 remove_diacritics 2`` tokenizer sees them.

    Example:
        >>> tokens("Zoë's flight LH-1234, 07:45")
        ['zoe', 's', 'flight', 'lh', '1234', '07', '45']
    """
    folded = fold(text)
    # on ASCII text ``[^\W_]`` is exactly [a-z0-9] (lowercased): the same words, found faster
    return (_ASCII_TOKEN if folded.isascii() else _TOKEN).findall(folded)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English suffix strip; the result is always a prefix of ``word``.

    Example:
        >>> [stem(w) for w in ["lives", "lived", "living", "cities", "city", "4821", "glass"]]
        ['liv', 'liv', 'liv', 'cit', 'cit', '4821', 'glass']
    """
    if not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: -len(suffix)]
    return word


def _kept(word: str) -> bool:
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


def analyze(text: str) -> list[str]:
    """The terms of ``text``: folded words, no stop words or single letters, stemmed.

    Example:
        >>> analyze("Alice lived in Lisbon, then moved to Oslo in 2019")
        ['alic', 'liv', 'lisbon', 'mov', 'oslo', '2019']
    """
    return [term for term in map(_term, tokens(text)) if term]


@lru_cache(maxsize=65536)
def _term(word: str) -> str:
    """The term a word becomes, ``""`` for a dropped word (one cached call per word)."""
    return stem(word) if _kept(word) else ""


def length(text: str) -> int:
    """How many terms :func:`analyze` finds in ``text`` (cheaper: no stemming)."""
    return sum(1 for word in tokens(text) if _kept(word))


def query_terms(text: str) -> list[str]:
    """The distinct terms of a query, in order.

    Example:
        >>> query_terms("Where did Alice live? Alice's lives")
        ['alic', 'liv']
    """
    return list(dict.fromkeys(analyze(text)))


def document(text: str) -> Document:
    """:class:`Document` of ``text``."""
    counts: dict[str, int] = {}
    get = counts.get
    for term in analyze(text):
        counts[term] = get(term, 0) + 1
    return Document(counts, sum(counts.values()))


def forms(term: str) -> list[str]:
    """Every word whose :func:`stem` is ``term``: the term itself, or the term and one suffix.

    Example:
        >>> [w for w in forms("liv") if w in {"live", "lived", "lives", "living", "lively"}]
        ['living', 'lived', 'lives', 'live']
    """
    if not term.isalpha():
        return [term]
    found = [term] if stem(term) == term else []
    return found + [term + s for s in _SUFFIXES if stem(term + s) == term]


def idf(documents: int, containing: int) -> float:
    """BM25's inverse document frequency (always positive)."""
    containing = min(max(containing, 0), documents)
    return math.log(1.0 + (documents - containing + 0.5) / (containing + 0.5))


def bm25(
    doc: Document, weights: Mapping[str, float], average_length: float, ranking: Ranking
) -> tuple[float, dict[str, int]]:
    """BM25 of one document for query terms weighted by IDF, and the terms it matched.

    Example:
        >>> doc = document("flight LH1234 leaves at 07:45")
        >>> score, matched = bm25(doc, {"flight": 1.0, "lh1234": 2.0}, 4.0, Ranking(b=0.0))
        >>> round(score, 3), matched
        (3.0, {'flight': 1, 'lh1234': 1})
    """
    return _scorer(weights, average_length, ranking)(doc)


def _scorer(
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


_Part = tuple[float, float, float, float, float, dict[str, int]]
"""An item's best text: base, cosine, dense, bm25, lexical, matched."""

_Text = tuple["Candidate", float, dict[str, int], float, float]
"""A candidate text: candidate, bm25, matched, dense side, lexical side."""

_Scored = tuple[float, float, Any, _Part, float, float, float, float]
"""score, cosine, item, its best text's parts, thread, recency, redundancy, superseded."""


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
) -> list[_Scored]:
    """:func:`rank` as tuples, best first (``centered``, when given, receives item ->
    the centred cosine of its best text, with ``ranking.centering``; ``restated`` item ->
    the score it lost to ``ranking.restate``)."""
    plain: dict[int, float] = {}  # with centering: id of a candidate -> its plain cosine
    if ranking.centering > 0 and similarity is not None:
        candidates, plain = _centred(list(candidates), ranking, similarity)
    weights = {t: idf(corpus.documents, corpus.frequencies.get(t, 0)) for t in terms}
    if term_weights:
        weights = {t: w * term_weights.get(t, 1.0) for t, w in weights.items()}
    score = _scorer(weights, corpus.average_length, ranking)
    disjoint = weights.keys().isdisjoint  # most candidates hold no query term: skip BM25
    texts: Iterable[_Text]
    if ranking.fusion in ("absolute", "learned"):  # both sides known per text: one pass
        texts = _absolute(candidates, score, disjoint, sum(weights.values()))
    else:
        found: list[_Text] = []
        for candidate in candidates:
            doc = candidate.document
            raw, matched = (0.0, {}) if disjoint(doc.terms) else score(doc)
            found.append((candidate, raw, matched, 0.0, 0.0))
        texts = _normalised(found, ranking)
    alpha = ranking.dense_weight
    rest = 1.0 - alpha
    best: dict[Any, _Part] = {}
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
    scored: list[_Scored]
    if threaded or ranking.recency_weight > 0:
        boosts = _provenance_boosts(best, items, ranking)
        scored = [
            (part[0] + thread + recency, part[1], item, part, thread, recency, 0.0, 0.0)
            for item, part in best.items()
            for thread, recency in (boosts[item],)
        ]
    else:
        scored = [(part[0], part[1], item, part, 0.0, 0.0, 0.0, 0.0) for item, part in best.items()]
    scored.sort(key=_by_score, reverse=True)
    if ranking.fusion == "learned":
        from langmem.stores import _learned

        scored = _learned.rescored(scored, items, weights, ranking, similarity, learned)
    if ranking.supersede > 0 and similarity is not None and len(scored) > 1:
        scored = _superseded(scored, items, ranking, similarity)
    if ranking.restate > 0 and similarity is not None and len(scored) > 1:
        from langmem.stores import _restated

        scored = _restated.restated(scored, items, ranking, similarity, restated)
    if ranking.redundancy > 0 and similarity is not None and len(scored) > 1:
        scored = _demoted(scored, items, ranking, similarity)
    return scored


def _absolute(
    candidates: Iterable[Candidate],
    score: Callable[[Document], tuple[float, dict[str, int]]],
    disjoint: Callable[[Iterable[str]], bool],
    full: float,
) -> Iterator[_Text]:
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


def _demoted(
    scored: list[_Scored],
    items: Mapping[Any, Candidate],
    ranking: Ranking,
    similarity: Similarity,
) -> list[_Scored]:
    """``scored`` (best first) with near-copies of better items marked down and re-sorted
    (see "Redundancy")."""
    head = scored[: ranking.redundancy_depth]
    full = ranking.redundancy_threshold
    floor = full - ranking.redundancy_ramp
    like: dict[int, list[tuple[int, float]]] = {}  # position -> (better position, cosine)
    for better, worse, cosine in similarity([items[entry[2]] for entry in head], floor):
        like.setdefault(worse, []).append((better, cosine))
    share = ranking.redundancy
    kept: set[int] = set()  # positions in ``head`` of the items that are nobody's copy
    out = scored
    for position, entry in enumerate(head):
        closest = max((c for k, c in like.get(position, ()) if k in kept), default=None)
        if closest is None or closest < full:
            kept.add(position)
        if closest is None:
            continue
        scale = 1.0 if closest >= full else (closest - floor) / (full - floor)  # ramp > 0
        if scale <= 0.0:
            continue
        if out is scored:
            out = list(scored)
        total, cosine, item, part, thread, recency, _, older = entry
        lost = share * scale * total
        out[position] = (total - lost, cosine, item, part, thread, recency, lost, older)
    if out is not scored:
        out.sort(key=_by_score, reverse=True)
    return out


def _centred(
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


def newer_pairs(
    head: Sequence[_Scored],
    items: Mapping[Any, Candidate],
    threshold: float,
    similarity: Similarity,
) -> list[tuple[int, int]]:
    """``(older, newer)`` positions in ``head`` of the pairs whose best texts have a cosine of
    at least ``threshold`` and whose items have different times (supersede and restate; no
    ``similarity`` call when fewer than two distinct times)."""
    times = [items[entry[2]].time for entry in head]
    if len({t for t in times if t is not None}) < 2:  # nothing is newer than anything
        return []
    pairs: list[tuple[int, int]] = []
    for first, second, _ in similarity([items[entry[2]] for entry in head], threshold):
        one, two = times[first], times[second]
        if one is None or two is None or one == two:
            continue
        pairs.append((first, second) if one < two else (second, first))
    return pairs


def _superseded(
    scored: list[_Scored],
    items: Mapping[Any, Candidate],
    ranking: Ranking,
    similarity: Similarity,
) -> list[_Scored]:
    """``scored`` (best first) with each of the best ``redundancy_depth`` items that has a
    newer near-copy among them marked down and re-sorted (see "Supersede")."""
    head = scored[: ranking.redundancy_depth]
    older = newer_tellings(head, items, ranking.supersede_threshold, similarity)
    if not older:
        return scored
    return marked_down(scored, older, ranking.supersede, as_superseded=True)[0]


def newer_tellings(
    head: list[_Scored],
    items: Mapping[Any, Candidate],
    threshold: float,
    similarity: Similarity,
    *,
    some_word: bool = False,
) -> set[int]:
    """Positions in ``head`` of the items that a newer one among them tells again: a pair of
    :func:`newer_pairs` whose newer text holds every query word the older one holds (a newer
    text lacking one is not its new version), and with ``some_word`` at least one."""
    older: set[int] = set()
    for old, new in newer_pairs(head, items, threshold, similarity):
        words = head[old][3][5].keys()
        if (words or not some_word) and words <= head[new][3][5].keys():
            older.add(old)
    return older


def marked_down(
    scored: list[_Scored], older: set[int], share: float, *, as_superseded: bool
) -> tuple[list[_Scored], dict[Any, float]]:
    """``scored`` with the entries at positions ``older`` losing ``share`` of their score,
    re-sorted, and item -> the score it lost; ``as_superseded``: the loss is also kept in the
    entry (supersede's part of the explanation)."""
    out = list(scored)
    cuts: dict[Any, float] = {}
    for position in older:
        total, cosine, item, part, thread, recency, lost, superseded = out[position]
        cut = share * total
        cuts[item] = cut
        kept = cut if as_superseded else superseded
        out[position] = (total - cut, cosine, item, part, thread, recency, lost, kept)
    out.sort(key=_by_score, reverse=True)
    return out, cuts


def _normalised(texts: list[_Text], ranking: Ranking) -> list[_Text]:
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


_by_score: Callable[[_Scored], tuple[float, float]] = itemgetter(0, 1)
"""The sort key of scored items: score, then cosine."""


def candidates_by_item(
    scored: Iterable[tuple[Candidate, float, dict[str, int]]],
) -> dict[Any, Candidate]:
    """One candidate per item (its thread and time are the item's)."""
    return {candidate.item: candidate for candidate, _, _ in scored}


def _provenance_boosts(
    best: Mapping[Any, _Part], items: Mapping[Any, Candidate], ranking: Ranking
) -> dict[Any, tuple[float, float]]:
    """Item -> (thread, recency) parts of its score (see the module docstring)."""
    times = [c.time for c in items.values() if c.time is not None]
    newest = max(times, default=None)
    boost, window = ranking.thread_boost, ranking.thread_window
    share = min(boost, 1.0)
    by_thread: dict[str, list[tuple[float, float, Any]]] = {}
    if boost > 0:
        for item, part in best.items():
            c = items[item]
            if c.thread is not None and c.time is not None:
                by_thread.setdefault(c.thread, []).append((c.time, part[0], item))
    weight, half_life = ranking.recency_weight, ranking.recency_half_life
    out: dict[Any, tuple[float, float]] = {}
    for item, part in best.items():
        base = part[0]
        c = items[item]
        when = c.time
        neighbour = 0.0
        if boost > 0 and c.thread is not None and when is not None:
            neighbour = max(
                (
                    other_base
                    for other_when, other_base, other in by_thread[c.thread]
                    if other != item and abs(other_when - when) <= window
                ),
                default=0.0,
            )
        thread = share * max(neighbour - base, 0.0)
        recency = 0.0
        if weight > 0 and when is not None and newest is not None:
            recent = 0.5 ** ((newest - when) / half_life)
            recency = min(weight * recent, 1.0) * (1.0 - base - thread)
        out[item] = (thread, recency)
    return out
