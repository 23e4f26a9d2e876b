"""The second ranking pass (langmem.stores._feedback): feedback texts, expansion terms, the
weighted ranking, explain, and the SQLite store against the documented rule by brute force."""

from __future__ import annotations

import asyncio
import doctest
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.embeddings import Embeddings
from langgraph.store.base import PutOp

from langmem.stores import SqliteStore, _feedback
from langmem.stores import ranking as rules
from langmem.stores.ranking import Ranking

from .test_ranking import QUERIES, TEXTS, Vectors, _fill

FEEDBACK = Ranking(feedback_docs=2, feedback_terms=3, feedback_weight=0.6)
PLAIN: dict[str, float] = {"thread_boost": 0.0, "recency_weight": 0.0, "supersede": 0.0}
"""No provenance rule (the brute-force reference of the second pass has no threads or times)."""


def _idf(n: int, df: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _doc(**terms: int) -> rules.Document:
    return rules.Document(terms, sum(terms.values()))


def test_parameters_are_checked_and_off_by_default() -> None:
    assert not Ranking().feedback
    assert Ranking(feedback_docs=5).feedback
    assert not Ranking(feedback_docs=5, feedback_weight=0.0).feedback
    assert not Ranking(feedback_docs=5, feedback_terms=0).feedback
    assert not Ranking(feedback_docs=5, dense_weight=1.0).feedback  # words would not count
    for bad in (
        {"feedback_docs": -1},
        {"feedback_terms": 2.5},
        {"feedback_weight": -0.1},
        {"feedback_fetch": "yes"},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Ranking(**bad)


def test_feedback_texts_are_the_best_bm25_items_texts_that_hold_a_query_term() -> None:
    corpus = rules.Corpus(100, 2.0, {"sister": 4, "mov": 20})
    candidates = [
        rules.Candidate("a", 0.1, _doc(sister=1, maria=1)),
        rules.Candidate("b", 0.9, _doc(tea=1)),
        rules.Candidate("c", 0.2, _doc(sister=1, advic=1)),
        rules.Candidate("a", 0.3, _doc(maria=1)),  # a's other text: no query term
        rules.Candidate("d", 0.2, _doc(sister=2, call=2)),
    ]
    terms = ["sister", "mov"]
    sister, mass = _idf(100, 4), _idf(100, 4) + _idf(100, 20)
    # with b = 0, BM25 of tf 1 is the IDF; d's tf 2 saturates to 2 * 2.2 / 3.2 of it (the best)
    two = _feedback.feedback_positions(candidates, terms, corpus, Ranking(b=0.0, feedback_docs=2))
    assert [at for at, _ in two] == [0, 4]  # a and c tie: a's identity comes first
    assert [weight for _, weight in two] == pytest.approx([sister / mass, 1.375 * sister / mass])
    # the order candidates are listed in plays no part: c listed first, a still wins the tie
    listed = [candidates[2], candidates[4], candidates[1], candidates[3], candidates[0]]
    again = _feedback.feedback_positions(listed, terms, corpus, Ranking(b=0.0, feedback_docs=2))
    assert sorted(listed[at].item for at, _ in again) == ["a", "d"]
    # a backend's items are ordered by their identity (namespace, key), read only for a tie
    asked: list[list[str]] = []

    def identities(items: list[str]) -> dict[str, tuple[str, str]]:
        asked.append(sorted(items))
        return {"a": ("ns.z", "k1"), "c": ("ns.b", "k9")}

    named = _feedback.feedback_positions(
        candidates, terms, corpus, Ranking(b=0.0, feedback_docs=2), identities
    )
    assert [candidates[at].item for at, _ in named] == ["c", "d"] and asked == [["a", "c"]]
    three = Ranking(b=0.0, feedback_docs=3)  # both tied items are kept: no identity read
    _feedback.feedback_positions(candidates, terms, corpus, three, identities)
    assert asked == [["a", "c"]]
    # b holds no query term; a's second text neither: only a's first text feeds back
    one = _feedback.feedback_positions(candidates[:4], terms, corpus, Ranking(feedback_docs=1))
    assert [at for at, _ in one] == [0]
    assert _feedback.feedback_positions(candidates, ["zebra"], corpus, Ranking()) == []


def test_expansion_weighs_relevance_by_rarity_hand_computed() -> None:
    feedback = [(1.0, _doc(maria=1, oslo=1)), (0.5, _doc(maria=1, tea=1))]
    ranking = Ranking(feedback_docs=2, feedback_terms=2, feedback_weight=0.5)
    weights = _feedback.expansion(feedback, ["oslo"], 100, {"maria": 9, "tea": 49}, ranking)
    # relevance: maria max(1.0 * 1/2, 0.5 * 1/2) = 0.5, tea 0.5 * 1/2 = 0.25; times the IDF
    maria, tea = _idf(100, 9) * 0.5, _idf(100, 49) * 0.25
    assert list(weights) == ["maria", "tea"]  # query terms are never expansion terms
    assert weights["maria"] == pytest.approx(0.5)
    assert weights["tea"] == pytest.approx(0.5 * tea / maria)
    assert weights["tea"] == pytest.approx(0.07542, abs=1e-5)
    # a term held by no text outside the feedback texts cannot find anything new
    only_here = _feedback.expansion(feedback, ["oslo"], 100, {"maria": 2, "tea": 49}, ranking)
    assert list(only_here) == ["tea"] and only_here["tea"] == pytest.approx(0.5)
    # at most feedback_terms terms; ties go to the term first in alphabetical order, whatever
    # order the texts list them in
    one = Ranking(feedback_docs=1, feedback_terms=1, feedback_weight=1.0)
    for tied in ([(1.0, _doc(zed=1, ash=1))], [(1.0, _doc(ash=1, zed=1))]):
        assert _feedback.expansion(tied, [], 100, {"zed": 5, "ash": 5}, one) == {"ash": 1.0}
    two = Ranking(feedback_docs=2, feedback_terms=2, feedback_weight=1.0)
    texts = [(1.0, _doc(zed=1, moo=1)), (1.0, _doc(ash=1, moo=1))]
    assert list(_feedback.expansion(texts, [], 100, {"zed": 5, "ash": 5, "moo": 9}, two)) == [
        "ash",
        "zed",
    ]


class FakeSource:
    """A backend's reads, recorded."""

    def __init__(self, documents: dict[int, rules.Document], df: dict[str, int]) -> None:
        self.texts, self.df = documents, df
        self.asked: list[Any] = []

    def documents(self, positions: list[int]) -> list[rules.Document]:
        self.asked.append(("documents", positions))
        return [self.texts[at] for at in positions]

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        self.asked.append(("frequencies", terms))
        return {t: self.df.get(t, 0) for t in terms}

    def identities(self, items: list[str]) -> dict[str, tuple[str, str]]:
        self.asked.append(("identities", items))
        return {item: ("u", item) for item in items}

    def candidates(self, terms: list[str], expansion: list[str]) -> list[rules.Candidate]:
        self.asked.append(("candidates", terms, expansion))
        return [
            rules.Candidate("intro", 0.5, _doc(sister=1, maria=1)),
            rules.Candidate("moved", 0.3, _doc(maria=1, mov=1)),
            rules.Candidate("tea", 0.35, _doc(tea=1)),
        ]


def test_second_pass_expands_the_query_and_ranks_the_new_texts() -> None:
    candidates = [
        rules.Candidate("intro", 0.5, _doc(sister=1)),  # only query terms are analyzed
        rules.Candidate("tea", 0.35, rules.Document({}, 1)),
    ]
    corpus = rules.Corpus(50, 2.0, {"sister": 3, "mov": 10})
    source = FakeSource({0: _doc(sister=1, maria=1)}, {"maria": 4})
    ranking = Ranking(
        dense_weight=0.8,  # the hand computation below
        b=0.0,
        thread_boost=0.0,
        feedback_docs=1,
        feedback_terms=2,
        feedback_fetch=True,
    )
    found = _feedback.second_pass(candidates, ["sister", "mov"], corpus, ranking, source)
    assert found is not None
    more, terms, statistics, weights = found
    assert [c.item for c in more] == ["intro", "moved", "tea"]
    assert source.asked == [
        ("documents", [0]),
        ("frequencies", ["maria"]),
        ("candidates", ["sister", "mov", "maria"], ["maria"]),
    ]
    assert terms == ["sister", "mov", "maria"] and weights == {"maria": 0.5}
    assert statistics.frequencies == {"sister": 3, "mov": 10, "maria": 4}
    ranked = _feedback.rank(candidates, ["sister", "mov"], corpus, ranking, source)
    order = [why.item for why in ranked]
    assert order == ["intro", "moved", "tea"]  # "moved" shares no word with the first pass
    moved = ranked[1]
    mass = _idf(50, 3) + _idf(50, 10) + 0.5 * _idf(50, 4)
    lexical = (_idf(50, 10) + 0.5 * _idf(50, 4)) / mass
    assert moved.lexical == pytest.approx(lexical)
    assert moved.score == pytest.approx(0.8 * 0.3 + 0.2 * lexical)
    assert moved.matched == {"mov": 1, "maria": 1} and moved.expansion == {"maria": 0.5}
    share = 0.5 * _idf(50, 4) / (_idf(50, 10) + 0.5 * _idf(50, 4))
    assert moved.feedback == pytest.approx(0.2 * lexical * share)
    assert ranked[2].feedback == 0.0 and all(0.0 <= w.score <= 1.0 for w in ranked)
    items = _feedback.ranked(candidates, ["sister", "mov"], corpus, ranking, source)
    assert items == [(why.score, why.item) for why in ranked]
    source.asked.clear()  # without the fetch the source is asked for no new texts
    plain = replace(ranking, feedback_fetch=False)
    _feedback.second_pass(candidates, ["sister", "mov"], corpus, plain, source)
    assert source.asked[-1] == ("candidates", ["sister", "mov", "maria"], [])


def test_no_feedback_text_or_term_leaves_the_one_pass_ranking() -> None:
    candidates = [rules.Candidate("a", 0.4, rules.Document({}, 3))]
    corpus = rules.Corpus(10, 3.0, {"zebra": 0})
    source = FakeSource({}, {})
    assert _feedback.second_pass(candidates, ["zebra"], corpus, FEEDBACK, source) is None
    assert source.asked == []  # nothing read when no text holds a query word
    one = rules.rank(candidates, ["zebra"], corpus, FEEDBACK)
    assert _feedback.rank(candidates, ["zebra"], corpus, FEEDBACK, source) == one
    lonely = [rules.Candidate("a", 0.4, _doc(zebra=1))]
    source = FakeSource({0: _doc(zebra=1, stripe=1)}, {"stripe": 1})  # only in the text
    assert _feedback.second_pass(lonely, ["zebra"], corpus, FEEDBACK, source) is None


def _reference(store: SqliteStore, query: str, ranking: Ranking) -> list[tuple[str, float]]:
    """The documented second pass applied to every stored text by brute force."""
    embed = store.embeddings
    assert embed is not None
    q = np.asarray(embed.embed_query(query), dtype=np.float64)
    q /= np.linalg.norm(q)
    docs = {f"k{i}": text for i, text in enumerate(TEXTS)}
    vectors = np.asarray(embed.embed_documents(list(docs.values())), dtype=np.float64)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = dict(zip(docs, (vectors @ q).tolist()))
    words: Counter[str] = Counter()
    for text in docs.values():
        words.update(set(rules.tokens(text)))

    def df(term: str) -> int:
        return min(sum(n for w, n in words.items() if rules.stem(w) == term), len(docs))

    n = len(docs)
    average = sum(rules.length(t) for t in docs.values()) / n
    analyzed = {key: rules.document(text) for key, text in docs.items()}
    terms = rules.query_terms(query)
    idf = {t: _idf(n, df(t)) for t in terms}
    mass = sum(idf.values())
    scores = {k: rules.bm25(d, idf, average, ranking)[0] for k, d in analyzed.items()}
    best = sorted((k for k in docs if scores[k] > 0), key=lambda k: (-scores[k], k))  # one ns
    feedback = best[: ranking.feedback_docs]
    relevance: dict[str, float] = {}
    holding: Counter[str] = Counter()
    for key in feedback:
        doc = analyzed[key]
        holding.update(doc.terms.keys())
        for term, tf in doc.terms.items():
            if term not in terms:
                share = min(scores[key] / mass, 1.0)
                relevance[term] = max(relevance.get(term, 0.0), share * tf / doc.length)
    rated = {t: _idf(n, df(t)) * r for t, r in relevance.items() if df(t) > holding[t]}
    kept = sorted(rated, key=lambda t: (-rated[t], t))[: ranking.feedback_terms]
    weights = {t: ranking.feedback_weight * rated[t] / rated[kept[0]] for t in kept}
    every = terms + kept
    corpus = rules.Corpus(n, average, {t: df(t) for t in every})
    candidates = [rules.Candidate(k, cosines[k], analyzed[k]) for k in docs]
    return [(e.item, e.score) for e in rules.rank(candidates, every, corpus, ranking, weights)]


@pytest.mark.parametrize(
    "ranking",
    [
        Ranking(**PLAIN, feedback_docs=2, feedback_terms=3, feedback_weight=0.6),
        Ranking(
            **PLAIN,
            feedback_docs=5,
            feedback_terms=8,
            feedback_weight=1.0,
            feedback_fetch=True,
        ),
        Ranking(**PLAIN, dense_weight=0.3, feedback_docs=1, feedback_terms=2),
    ],
)
def test_store_second_pass_equals_the_brute_force_reference(
    tmp_path: Path, ranking: Ranking
) -> None:
    index: Any = {"dims": 16, "embed": Vectors(), "fields": ["content"]}
    store = SqliteStore(tmp_path / "s.sqlite", index=index, ranking=ranking)
    _fill(store)
    changed = 0
    for query in QUERIES:
        got = [(h.key, h.score) for h in store.search(("u",), query=query, limit=5)]
        expected = _reference(store, query, ranking)[:5]
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-4), query
        reference = dict(expected)
        for key, score in got:
            assert score == pytest.approx(reference.get(key, expected[-1][1]), abs=1e-4), query
        assert all(s is not None and 0.0 <= s <= 1.0 for _, s in got)
        store.ranking = Ranking(**PLAIN, dense_weight=ranking.dense_weight)
        changed += got != [(h.key, h.score) for h in store.search(("u",), query=query, limit=5)]
        store.ranking = ranking
    assert changed >= 3, "the second pass changed nothing: the comparison proves little"


HOPS = [
    "My sister Maria is the funniest person I know",
    "Maria got a job as a nurse and is moving to Oslo",
    "My sister always gives the best advice",
    "Tomas is moving to Bergen next spring",
    *[f"Small talk number {i} about the weather and the {w}" for i, w in enumerate("abcdefgh")],
]


class HopVectors(Embeddings):
    """Cosine with any query: 0.6 for small talk, 0.55 for the second hop, 0 for the rest (so
    the second hop is no dense candidate: eight small talk texts are closer)."""

    model_id = "test-hops"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = []
        for number, text in enumerate(texts):
            vector = [0.0] * 32
            near = 0.6 if text.startswith("Small talk") else 0.55 if "nurse" in text else 0.0
            vector[0], vector[1 + number] = near, math.sqrt(1 - near * near)
            out.append(vector)
        return out

    def embed_query(self, text: str) -> list[float]:
        return [1.0] + [0.0] * 31


def _hops(path: Path, ranking: Ranking) -> SqliteStore:
    index: Any = {"dims": 32, "embed": HopVectors(), "fields": ["content"]}
    store = SqliteStore(path, index=index, ranking=ranking)
    store.batch(
        [PutOp(("me",), f"h{number}", {"content": text}) for number, text in enumerate(HOPS)]
    )
    return store


def test_the_second_hop_is_found_through_the_name_and_explained(tmp_path: Path) -> None:
    query = "Where is my sister relocating?"  # shares no word with the answer
    plain = Ranking(depth=1, dense_weight=0.5)
    store = _hops(tmp_path / "hops.sqlite", plain)
    one = [h.key for h in store.search(("me",), query=query, limit=3)]
    rescored = replace(plain, feedback_docs=2, feedback_terms=4, feedback_weight=1.0)
    store.ranking = rescored  # without the fetch: the second hop is no candidate
    assert "h1" not in [h.key for h in store.search(("me",), query=query, limit=3)]
    store.ranking = replace(rescored, feedback_fetch=True)
    hits = store.search(("me",), query=query, limit=3)
    explained = store.explain(("me",), query, limit=3)
    assert [(h.key, h.score) for h in hits] == [(h.key, w.score) for h, w in explained]
    assert "h1" not in one and "h1" in [h.key for h in hits]
    why = dict((h.key, w) for h, w in explained)["h1"]
    assert "maria" in why.expansion and why.matched["maria"] == 1
    assert 0.0 < why.feedback <= why.score <= 1.0
    later = asyncio.run(store.asearch(("me",), query=query, limit=3))
    assert [(h.key, h.score) for h in later] == [(h.key, h.score) for h in hits]
    store.close()


def test_docstring_examples_hold() -> None:
    result = doctest.testmod(_feedback)
    assert result.attempted >= 3 and result.failed == 0


def test_second_pass_keeps_to_the_namespace_and_filter(tmp_path: Path) -> None:
    store = _hops(tmp_path / "hops.sqlite", Ranking(depth=1, dense_weight=0.5))
    store.put(("other",), "o1", {"content": "Maria is moving to Rome, my sister says"})
    store.put(("me",), "f1", {"content": "Maria is moving to Rome", "kind": "rumour"})
    store.ranking = Ranking(
        depth=1, dense_weight=0.5, feedback_docs=2, feedback_terms=4, feedback_fetch=True
    )
    query = "Where is my sister relocating?"
    hits = store.search(("me",), query=query, limit=20)
    assert {"h1", "f1"} <= {h.key for h in hits} and all(h.namespace == ("me",) for h in hits)
    only = store.search(("me",), query=query, filter={"kind": "rumour"}, limit=20)
    assert [h.key for h in only] == ["f1"]
    assert [h.key for h in store.search(("me",), query="the of and", limit=3)] != []
    store.close()


class ListedSource:
    """A backend's reads over given candidates, whose documents are their whole texts."""

    def __init__(self, candidates: list[rules.Candidate], df: dict[str, int]) -> None:
        self.first, self.df = candidates, df

    def documents(self, positions: list[int]) -> list[rules.Document]:
        return [self.first[at].document for at in positions]

    def frequencies(self, terms: list[str]) -> dict[str, int]:
        return {t: self.df.get(t, 0) for t in terms}

    def identities(self, items: list[tuple[str, str]]) -> dict[Any, tuple[str, str]]:
        return {item: item for item in items}

    def candidates(self, terms: list[str], fetch: list[str]) -> list[rules.Candidate]:
        return list(self.first)


_WORDS = ["maria", "oslo", "nurs", "tea", "bergen", "sister", "job", "wed"]


@st.composite
def _tied_candidates(draw: st.DrawFn) -> tuple[list[rules.Candidate], list[str], dict[str, int]]:
    """Candidates of several items whose texts are often copies of each other (the same
    BM25 and the same cosine under another identity), each text with its own cosine else."""
    texts = draw(
        st.lists(
            st.dictionaries(st.sampled_from(_WORDS), st.integers(1, 3), min_size=1, max_size=4),
            min_size=1,
            max_size=4,
        )
    )
    count = draw(st.integers(2, 9))
    candidates = []
    for number in range(count):
        pick = draw(st.integers(0, len(texts) - 1))
        item = (draw(st.sampled_from(["u.a", "u.b", "u-a"])), f"k{number}")
        cosine = [0.5, 0.3, 0.1][pick % 3] if draw(st.booleans()) else 0.05 * number
        candidates.append(rules.Candidate(item, cosine, _doc(**texts[pick])))
        if draw(st.booleans()):  # a second text of the same item
            other = texts[draw(st.integers(0, len(texts) - 1))]
            candidates.append(rules.Candidate(item, cosine - 0.01, _doc(**other)))
    terms = draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=2, unique=True))
    df = {w: draw(st.integers(1, 20)) for w in _WORDS}
    return candidates, terms, df


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tied_candidates(), st.randoms(use_true_random=False), st.integers(1, 3), st.integers(1, 3))
def test_second_pass_does_not_depend_on_the_order_of_candidates(
    case: tuple[list[rules.Candidate], list[str], dict[str, int]],
    shuffle: Any,
    docs: int,
    terms_kept: int,
) -> None:
    """Whatever order a store lists its candidates in (SQLite and PostgreSQL list tied texts
    differently), the same texts feed back, the same terms expand the query, and every item
    gets the same score and parts: the order of exact ties only may differ."""
    candidates, terms, df = case
    ranking = Ranking(feedback_docs=docs, feedback_terms=terms_kept, feedback_weight=0.7)
    corpus = rules.Corpus(40, 2.5, {t: df[t] for t in terms})
    listed = list(candidates)
    shuffle.shuffle(listed)
    results = []
    for order in (candidates, listed):
        source = ListedSource(order, df)
        second = _feedback.second_pass(order, terms, corpus, ranking, source)
        weights = second[3] if second else {}
        explained = _feedback.rank(order, terms, corpus, ranking, source)
        results.append((weights, {why.item: why for why in explained}))
    (weights, by_item), (weights_again, by_item_again) = results
    assert weights == weights_again and list(weights) == list(weights_again)
    assert by_item == by_item_again
