"""The hybrid ranking rule (langmem.stores.ranking): analyzer, BM25, fusion, provenance, explain.

The store's answers are checked against a reference that applies the documented rule to every
stored text by brute force (no FTS5, no candidate shortcuts): that is what another backend
(PostgreSQL) must reproduce.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from langmem.embeddings import HashingEmbeddings
from langmem.errors import ConfigurationError
from langmem.stores import SqliteStore
from langmem.stores import ranking as rules
from langmem.stores.ranking import Ranking

from ._alike import similarity_of


def test_analyzer_folds_drops_stop_words_and_stems_to_a_prefix() -> None:
    assert rules.tokens("Zoë's flight LH-1234, 07:45") == [
        "zoe",
        "s",
        "flight",
        "lh",
        "1234",
        "07",
        "45",
    ]
    assert rules.analyze("Where did the cities' flights go? The FLIGHT!") == [
        "cit",
        "flight",
        "go",
        "flight",
    ]
    assert rules.query_terms("the a of I") == []
    assert {rules.stem(w) for w in ["live", "lives", "lived", "living"]} == {"liv"}
    assert rules.stem("1999") == "1999" and rules.stem("lh1234") == "lh1234"
    assert rules.stem("glass") == "glass" and rules.stem("bus") == "bus"
    for word in ["studies", "happily", "running", "boxes", "a", "go", "cats"]:
        assert word.startswith(rules.stem(word))
        assert word in rules.forms(rules.stem(word))  # what the vocabulary lookup relies on
    assert rules.length("The cat sat on the mat") == len(rules.analyze("The cat sat on the mat"))


def test_bm25_weighs_rare_terms_saturates_and_normalises_length() -> None:
    weights = {"flight": rules.idf(100, 50), "lh1234": rules.idf(100, 1)}
    assert weights["lh1234"] > weights["flight"] > 0
    short = rules.document("flight LH1234")
    long = rules.document("flight LH1234 " + "other words " * 10)
    plain = Ranking(b=0.0)
    assert rules.bm25(short, weights, 6.0, plain)[0] == pytest.approx(
        rules.bm25(long, weights, 6.0, plain)[0]
    )
    normalised = Ranking(b=0.9)
    assert (
        rules.bm25(short, weights, 6.0, normalised)[0]
        > rules.bm25(long, weights, 6.0, normalised)[0]
    )
    once = rules.bm25(rules.document("flight"), weights, 1.0, plain)[0]
    many = rules.bm25(rules.document("flight " * 50), weights, 1.0, plain)[0]
    assert once < many < once * (plain.k1 + 1) + 1e-9  # saturates at (k1 + 1) * idf
    score, matched = rules.bm25(rules.document("flights to Lisbon"), weights, 3.0, plain)
    assert matched == {"flight": 1} and score > 0


def test_ranking_parameters_are_checked() -> None:
    for bad in ({"dense_weight": 1.5}, {"b": -0.1}, {"depth": 0}, {"recency_half_life": 0.0}):
        with pytest.raises(ValueError, match="out of range"):
            Ranking(**bad)


def _candidate(
    item: str, cosine: float, text: str, thread: str | None = None, at: float = 0.0
) -> rules.Candidate:
    return rules.Candidate(item, cosine, rules.document(text), thread, at)


def test_fusion_is_convex_in_range_and_never_drops_a_side() -> None:
    corpus = rules.Corpus(10, 3.0, {"walrus": 1})
    candidates = [
        _candidate("best-dense", 0.9, "a quiet afternoon"),
        _candidate("word", 0.5, "walrus near the pier"),
        _candidate("floor", 0.1, "nothing here"),
    ]
    for weight in (0.0, 0.3, 0.6, 1.0):
        fused = Ranking(dense_weight=weight, recency_weight=0.0)  # the fusion alone
        ranked = rules.rank(candidates, ["walrus"], corpus, fused)
        by_item = {e.item: e for e in ranked}
        assert all(0.0 <= e.score <= 1.0 for e in ranked)
        assert by_item["best-dense"].dense == 0.9 and by_item["floor"].dense == 0.1
        word = by_item["word"]
        assert word.score == pytest.approx(weight * 0.5 + (1 - weight) * word.lexical)
        assert word.matched == {"walrus": 1} and word.lexical > 0
    # a query whose words no text holds: the order is the dense one, scores scaled
    fused = Ranking(recency_weight=0.0)
    ranked = rules.rank(candidates, ["zebra"], corpus, fused)
    assert [e.item for e in ranked] == ["best-dense", "word", "floor"]
    assert ranked[0].score == pytest.approx(fused.dense_weight * 0.9)
    negative = rules.rank([_candidate("n", -0.4, "x")], [], corpus, fused)
    assert negative[0].dense == 0.0 and negative[0].score == 0.0


def test_minmax_fusion_scales_each_side_over_the_candidates() -> None:
    corpus = rules.Corpus(10, 3.0, {"walrus": 1, "pier": 4})
    candidates = [
        _candidate("best-dense", 0.9, "a quiet afternoon"),
        _candidate("both", 0.5, "walrus near the pier"),
        _candidate("one-word", 0.4, "the pier at night"),
        _candidate("floor", 0.1, "nothing here"),
    ]
    ranking = Ranking(fusion="minmax", dense_weight=0.6, recency_weight=0.0)
    ranked = rules.rank(candidates, ["walrus", "pier"], corpus, ranking)
    by_item = {e.item: e for e in ranked}
    assert by_item["best-dense"].dense == 1.0 and by_item["floor"].dense == 0.0
    assert by_item["both"].dense == pytest.approx((0.5 - 0.1) / (0.9 - 0.1))
    assert by_item["both"].lexical == 1.0  # the best BM25 among the candidates
    assert by_item["one-word"].lexical == pytest.approx(
        by_item["one-word"].bm25 / by_item["both"].bm25
    )
    for e in ranked:
        assert 0.0 <= e.score <= 1.0
        assert e.base == pytest.approx(0.6 * e.dense + 0.4 * e.lexical)
    # the dense floor is the depth-th best cosine: candidates below it (extra lexical ones, or
    # more dense ones when a caller asks for more results) change no other candidate's score
    shallow = Ranking(fusion="minmax", depth=3, recency_weight=0.0)
    before = {e.item: e.score for e in rules.rank(candidates, ["walrus"], corpus, shallow)}
    extra = [*candidates, _candidate("low", -0.3, "a walrus, far away")]
    after = {e.item: e.score for e in rules.rank(extra, ["walrus"], corpus, shallow)}
    assert after["low"] < after["both"]
    assert {k: after[k] for k in before} == before
    # a query whose words no text holds: the dense order; one candidate: dense side 1
    plain = rules.rank(candidates, ["zebra"], corpus, ranking)
    assert [e.item for e in plain] == ["best-dense", "both", "one-word", "floor"]
    assert all(e.lexical == 0.0 for e in plain)
    alone = rules.rank([_candidate("n", -0.4, "x")], [], corpus, ranking)
    assert alone[0].dense == 1.0 and alone[0].score == pytest.approx(0.6)


def test_rrf_fusion_scores_ranks_and_ties_share_one() -> None:
    corpus = rules.Corpus(10, 3.0, {"walrus": 1})
    candidates = [
        _candidate("a", 0.9, "a quiet afternoon"),
        _candidate("b", 0.5, "walrus near the pier"),
        _candidate("c", 0.5, "nothing here"),  # same cosine as b
    ]
    ranking = Ranking(fusion="rrf", rrf_k=10.0, dense_weight=0.5, recency_weight=0.0)
    by_item = {e.item: e for e in rules.rank(candidates, ["walrus"], corpus, ranking)}
    assert by_item["a"].dense == 1.0
    assert by_item["b"].dense == by_item["c"].dense == pytest.approx(11 / 12)
    assert by_item["b"].lexical == 1.0 and by_item["c"].lexical == 0.0  # no word: no rank
    assert by_item["b"].score == pytest.approx(0.5 * 11 / 12 + 0.5)
    assert all(0.0 <= e.score <= 1.0 for e in by_item.values())


def test_every_fusion_gives_the_same_answer_through_ranked_items() -> None:
    corpus = rules.Corpus(20, 4.0, {"walrus": 2, "pier": 5})
    candidates = [
        _candidate("a", 0.5, "walrus near the pier", "t1", 1000.0),
        _candidate("a", 0.7, "nothing here", "t1", 1000.0),
        _candidate("c", 0.2, "the pier", None, 500.0),
        _candidate("d", 0.9, "quiet afternoon", "t2", 90.0),
    ]
    for fusion in rules.FUSIONS:
        ranking = Ranking(fusion=fusion, recency_weight=0.2)
        explained = rules.rank(candidates, ["walrus", "pier"], corpus, ranking)
        assert rules.ranked_items(candidates, ["walrus", "pier"], corpus, ranking) == [
            (e.score, e.item) for e in explained
        ]
        assert sorted(e.item for e in explained) == ["a", "c", "d"]
        assert all(0.0 <= e.score <= 1.0 for e in explained)
    with pytest.raises(ValueError, match="fusion is one of minmax, absolute, rrf"):
        Ranking(fusion="max")


def test_thread_neighbours_and_recency_pull_items_up_but_never_past_or_down() -> None:
    corpus = rules.Corpus(10, 3.0, {})
    candidates = [
        _candidate("strong", 0.9, "x", "t1", 1000.0),
        _candidate("next", 0.3, "y", "t1", 1060.0),  # one minute later, same thread
        _candidate("far", 0.3, "y", "t1", 9000.0),  # same thread, hours later
        _candidate("other", 0.35, "z", "t2", 1000.0),
    ]
    off = Ranking(thread_boost=0.0)
    on = Ranking(thread_boost=0.5, thread_window=300.0)
    plain = {e.item: e for e in rules.rank(candidates, [], corpus, off)}
    boosted = {e.item: e for e in rules.rank(candidates, [], corpus, on)}
    assert plain["other"].score > plain["next"].score
    assert boosted["next"].score > boosted["other"].score  # lifted by its neighbour
    assert boosted["next"].thread == pytest.approx(
        0.5 * (plain["strong"].base - plain["next"].base)
    )
    assert boosted["next"].score < boosted["strong"].score
    assert boosted["far"].thread == 0.0 and boosted["strong"].thread == 0.0
    recent = Ranking(thread_boost=0.0, recency_weight=0.5, recency_half_life=1000.0)
    newest = {e.item: e for e in rules.rank(candidates, [], corpus, recent)}
    assert newest["far"].score > newest["next"].score  # same base, newer
    assert all(e.recency >= 0 and 0 <= e.score <= 1 for e in newest.values())


class Vectors(Embeddings):
    """Fixed vectors per text (unknown texts hash): controlled cosines."""

    model_id = "test-vectors"

    def __init__(self) -> None:
        self.fallback = HashingEmbeddings(16)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.fallback.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.fallback.embed_query(text)


TEXTS = [
    "Alice moved to Lisbon in 2019 with her cat",
    "Bob lives in Oslo and likes green tea",
    "Our flight LH1234 to Lisbon leaves at 07:45",
    "She said the best part was the night market",
    "The living room needs new curtains",
    "Carol is moving to Lisbon next June, she says",
    "Green tea again, Bob insists it helps",
    "Flights to Oslo are cheap in March",
    "We hiked Cedar ridge on Saturday",
    "Lisbon, Lisbon, Lisbon: all anyone talks about",
    "Dr Okonkwo moved my appointment to Friday",
    "I adopted a cat from the shelter",
]
QUERIES = [
    "When did Alice move to Lisbon?",
    "flight LH1234",
    "Who lives in Oslo?",
    "what was the best part",
    "green tea",
    "appointment with Dr Okonkwo",
    "nothing matches zebra",
]


def _fill(store: SqliteStore) -> None:
    start = datetime(2024, 3, 1, 9, 0)
    for number, text in enumerate(TEXTS):
        at = (start + timedelta(minutes=number)).isoformat()
        value = {"content": text, "thread_id": f"t{number // 4}", "created_at": at}
        store.put(("u",), f"k{number}", value)


def _reference(
    store: SqliteStore, query: str, limit: int, ranking: Ranking
) -> list[tuple[str, float]]:
    """The documented rule applied to every stored text (what any backend must return)."""
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
    terms = rules.query_terms(query)
    frequencies = {
        t: min(sum(n for w, n in words.items() if rules.stem(w) == t), len(docs)) for t in terms
    }
    average = sum(rules.length(t) for t in docs.values()) / len(docs)
    corpus = rules.Corpus(len(docs), average, frequencies)
    start = datetime(2024, 3, 1, 9, 0)
    candidates = [
        rules.Candidate(
            key,
            cosines[key],
            rules.document(text),
            f"t{i // 4}",
            (start + timedelta(minutes=i)).timestamp(),
            i,
        )
        for i, (key, text) in enumerate(docs.items())
    ]

    ranked = rules.rank(candidates, terms, corpus, ranking, similarity=similarity_of(vectors))
    return [(e.item, e.score) for e in ranked[:limit]]


@pytest.mark.parametrize(
    "ranking",
    [
        Ranking(),
        Ranking(thread_boost=0.0),
        Ranking(dense_weight=0.0),
        Ranking(recency_weight=0.3, depth=4),
        Ranking(fusion="minmax", depth=4),
        Ranking(fusion="minmax", dense_weight=0.5, thread_boost=0.0),
        Ranking(redundancy=0.0),
        Ranking(redundancy=0.7, redundancy_threshold=0.3, redundancy_depth=6),
        Ranking(redundancy=0.5, redundancy_threshold=0.6, redundancy_ramp=0.5),
        Ranking(recency_weight=0.0),
        Ranking(supersede=0.6, supersede_threshold=0.3, redundancy_depth=8),
        Ranking(restate=0.6, restate_threshold=0.2, redundancy_depth=8),
        Ranking(restate=0.2, supersede=0.3, redundancy=0.3),
        Ranking(centering=0.5, depth=4),
        Ranking(fusion="learned", depth=12, redundancy_depth=8),  # every text a candidate
    ],
)
def test_store_ranking_equals_the_brute_force_reference(tmp_path: Path, ranking: Ranking) -> None:
    index: Any = {"dims": 16, "embed": Vectors(), "fields": ["content"]}
    store = SqliteStore(tmp_path / "s.sqlite", index=index, ranking=ranking)
    _fill(store)
    for query in QUERIES:
        got = [(h.key, h.score) for h in store.search(("u",), query=query, limit=5)]
        expected = _reference(store, query, 5, ranking)
        # float32 (store) and float64 (reference) cosines may swap exact ties: compare scores,
        # and keys wherever the scores differ
        assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=1e-4), query
        reference = dict(expected)
        for key, score in got:
            assert score == pytest.approx(reference.get(key, expected[-1][1]), abs=1e-4), query
        assert all(s is not None and 0.0 <= s <= 1.0 for _, s in got)
    if ranking.redundancy_threshold < 0.5 or ranking.redundancy_ramp:  # meant to mark down
        assert any(w.redundancy > 0 for q in QUERIES for _, w in store.explain(("u",), q))
    if ranking.supersede_threshold < 0.5:  # meant to mark older near-copies down
        assert any(w.superseded > 0 for q in QUERIES for _, w in store.explain(("u",), q))
    if ranking.restate_threshold < 0.5:  # meant to mark older tellings down
        assert any(w.restated > 0 for q in QUERIES for _, w in store.explain(("u",), q))


def test_explain_shows_each_part_and_matches_search(tmp_path: Path) -> None:
    index: Any = {"dims": 16, "embed": Vectors(), "fields": ["content"]}
    store = SqliteStore(tmp_path / "s.sqlite", index=index)
    _fill(store)
    query = "Who is moving to Lisbon?"
    hits = store.search(("u",), query=query, limit=4)
    explained = store.explain(("u",), query, limit=4)
    assert [(h.key, h.score) for h in hits] == [(i.key, i.score) for i, _ in explained]
    for item, why in explained:
        assert item.score == pytest.approx(why.score)
        assert why.score == pytest.approx(why.base + why.thread + why.recency - why.redundancy)
        weight = store.ranking.dense_weight
        assert why.base == pytest.approx(weight * why.dense + (1 - weight) * why.lexical)
        text = item.value["content"].lower()
        assert all(any(w.startswith(t) for w in rules.tokens(text)) for t in why.matched)
    assert explained[0][1].matched.get("lisbon", 0) >= 1
    # async gives the same, paging gives the same items
    again = asyncio.run(store.aexplain(("u",), query, limit=4))
    assert [(i.key, e) for i, e in again] == [(i.key, e) for i, e in explained]
    assert [i.key for i, _ in store.explain(("u",), query, limit=2, offset=2)] == [
        i.key for i, _ in explained[2:4]
    ]
    only = {"thread_id": "t1"}
    filtered = store.explain(("u",), query, filter=only, limit=10)
    assert [i.key for i, _ in filtered] == [
        h.key for h in store.search(("u",), query=query, filter=only, limit=10)
    ]
    assert filtered and all(i.value["thread_id"] == "t1" for i, _ in filtered)
    dense = SqliteStore(tmp_path / "s.sqlite", index=index, hybrid=False)
    for item, why in dense.explain(("u",), query, limit=3):
        assert why.bm25 == 0.0 and why.score == pytest.approx(why.cosine) == item.score


def test_explain_needs_an_index_and_a_query(tmp_path: Path) -> None:
    plain = SqliteStore(tmp_path / "plain.sqlite")
    with pytest.raises(ConfigurationError, match="needs a store with an index"):
        plain.explain(("u",), "anything")
    indexed = SqliteStore(tmp_path / "s.sqlite", index={"dims": 16, "embed": Vectors()})
    with pytest.raises(ValueError, match="non-empty query"):
        indexed.explain(("u",), "")
    assert indexed.explain(("u",), "empty store") == []


def test_idf_is_positive_and_decreasing() -> None:
    values = [rules.idf(100, n) for n in (0, 1, 10, 50, 100, 200)]
    assert all(v > 0 for v in values)
    assert values == sorted(values, reverse=True)
    assert values[0] == pytest.approx(math.log(1 + 100.5 / 0.5))


def test_statistics_follow_overwrites_deletes_and_other_handles(tmp_path: Path) -> None:
    index: Any = {"dims": 16, "embed": Vectors(), "fields": ["content"]}
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path, index=index)
    _fill(store)
    store.put(("u",), "k0", {"content": "Alice moved again, to Porto this time"})
    store.delete(("u",), "k1")
    store.search(("u",), query="Porto")  # brings the matrix up to date
    vectors = store._vectors
    assert vectors is not None
    live = [vectors.text(int(v)) for v, alive in zip(vectors.vector_ids, vectors.alive) if alive]
    assert vectors.total_length == sum(rules.length(text) for text in live)
    # a word written by another handle is found (the cached vocabulary is dropped on sync)
    assert "k99" not in [h.key for h in store.search(("u",), query="zanzibar", limit=3)]
    other = SqliteStore(path, index=index)
    other.put(("u",), "k99", {"content": "Postcard from Zanzibar"})
    hits = store.explain(("u",), "zanzibar", limit=1)
    assert hits[0][0].key == "k99" and hits[0][1].matched == {"zanzibar": 1}


def test_ranked_items_is_rank_without_the_explanations() -> None:
    """What the stores' search path calls: the same scores in the same order as ``rank``."""
    corpus = rules.Corpus(20, 4.0, {"walrus": 2, "pier": 5})
    candidates = [
        _candidate("a", 0.5, "walrus near the pier", "t1", 1000.0),
        _candidate("b", 0.5, "walrus near the pier", "t1", 1100.0),  # exact tie with "a"
        _candidate("a", 0.7, "nothing here", "t1", 1000.0),  # a's second, better text
        _candidate("c", 0.2, "the pier", None, 500.0),
        _candidate("d", 0.9, "quiet afternoon", "t2", 90.0),
    ]
    for ranking in (Ranking(), Ranking(thread_boost=0.0), Ranking(recency_weight=0.4)):
        explained = rules.rank(candidates, ["walrus", "pier"], corpus, ranking)
        assert rules.ranked_items(candidates, ["walrus", "pier"], corpus, ranking) == [
            (e.score, e.item) for e in explained
        ]
        assert [e.item for e in explained].count("a") == 1


def test_ascii_and_unicode_texts_split_into_the_same_words() -> None:
    """``tokens`` takes a faster path for ASCII text; it must split as the Unicode rule."""
    for text in ["snake_case and CamelCase 42x", "a_b__c 07:45 LH-1234", "Zoë_x ZOË", "K\u212a"]:
        assert rules.tokens(text) == re.findall(r"[^\W_]+", rules.fold(text))


def _texts_alike(cosines: dict[frozenset[str], float], asked: list[list[str]]) -> rules.Similarity:
    """A backend's ``similarity`` over fixed cosines between handles (others: 0)."""

    def similarity(chosen: Any, floor: float) -> list[tuple[int, int, float]]:
        handles = [c.text for c in chosen]
        asked.append(handles)
        return [
            (i, j, cosines.get(frozenset((a, b)), 0.0))
            for i, a in enumerate(handles)
            for j, b in enumerate(handles)
            if i < j and cosines.get(frozenset((a, b)), 0.0) >= floor
        ]

    return similarity


def test_redundancy_marks_near_duplicates_of_better_items_down() -> None:
    corpus = rules.Corpus(10, 3.0, {})
    candidates = [
        rules.Candidate("a", 0.9, rules.document("x"), text="ta"),
        rules.Candidate("b", 0.8, rules.document("x"), text="tb"),
        rules.Candidate("c", 0.7, rules.document("x"), text="tc"),
        rules.Candidate("d", 0.6, rules.document("x"), text="td"),
    ]
    cosines = {
        frozenset(("ta", "tb")): 0.85,  # b repeats a: b loses half its score
        frozenset(("tb", "tc")): 0.95,  # c repeats b, but b is itself a repeat: c keeps its
        frozenset(("ta", "tc")): 0.5,
        frozenset(("ta", "td")): 0.8,  # exactly the threshold counts
    }
    ranking = Ranking(dense_weight=1.0, thread_boost=0.0, redundancy=0.5)
    asked: list[list[str]] = []
    ranked = rules.rank(candidates, [], corpus, ranking, similarity=_texts_alike(cosines, asked))
    # hand-computed: a 0.9; b 0.8 - 0.5 * 0.8 = 0.4; c 0.7; d 0.6 - 0.3 = 0.3
    assert [(e.item, round(e.score, 9), round(e.redundancy, 9)) for e in ranked] == [
        ("a", 0.9, 0.0),
        ("c", 0.7, 0.0),
        ("b", 0.4, 0.4),
        ("d", 0.3, 0.3),
    ]
    assert asked == [["ta", "tb", "tc", "td"]]  # the best items, best first
    items = rules.ranked_items(
        candidates, [], corpus, ranking, similarity=_texts_alike(cosines, [])
    )
    assert [(item, round(score, 9)) for score, item in items] == [
        ("a", 0.9),
        ("c", 0.7),
        ("b", 0.4),
        ("d", 0.3),
    ]
    # only the best redundancy_depth items are compared; off, or without similarity: no change
    shallow: list[list[str]] = []
    two = rules.rank(
        candidates,
        [],
        corpus,
        dataclasses.replace(ranking, redundancy_depth=2),
        similarity=_texts_alike(cosines, shallow),
    )
    assert shallow == [["ta", "tb"]]
    assert [(e.item, round(e.score, 9)) for e in two] == [
        ("a", 0.9),
        ("c", 0.7),
        ("d", 0.6),
        ("b", 0.4),
    ]
    for off, similarity in (
        (dataclasses.replace(ranking, redundancy=0.0), _texts_alike(cosines, [])),
        (ranking, None),
    ):
        plain = rules.rank(candidates, [], corpus, off, similarity=similarity)
        assert [(e.item, e.score, e.redundancy) for e in plain] == [
            ("a", 0.9, 0.0),
            ("b", 0.8, 0.0),
            ("c", 0.7, 0.0),
            ("d", 0.6, 0.0),
        ]
    with pytest.raises(ValueError, match="redundancy"):
        Ranking(redundancy=1.5)


def test_redundancy_ramp_marks_texts_down_in_proportion_below_the_threshold() -> None:
    corpus = rules.Corpus(10, 3.0, {})
    candidates = [
        rules.Candidate(name, cosine, rules.document("x"), text=name)
        for name, cosine in (("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.6))
    ]
    cosines = {
        frozenset(("a", "b")): 0.75,  # below the threshold: b loses in proportion, stays a peer
        frozenset(("a", "c")): 0.85,  # a copy of a: c loses the whole share
        frozenset(("b", "c")): 0.7,
        frozenset(("b", "d")): 0.65,  # d is like b (a peer) and like c (a copy: not counted)
        frozenset(("c", "d")): 0.95,
    }
    ranking = Ranking(
        dense_weight=1.0,
        thread_boost=0.0,
        redundancy=0.5,
        redundancy_threshold=0.8,
        redundancy_ramp=0.2,
    )
    floors: list[float] = []
    alike = _texts_alike(cosines, [])

    def similarity(chosen: Any, floor: float) -> Any:
        floors.append(floor)
        return alike(chosen, floor)

    ranked = rules.rank(candidates, [], corpus, ranking, similarity=similarity)
    assert floors == [pytest.approx(0.6)]
    # hand-computed, floor 0.6: b 0.8 - 0.5 * (0.75 - 0.6) / 0.2 * 0.8 = 0.5;
    # c 0.7 - 0.5 * 0.7 = 0.35; d 0.6 - 0.5 * (0.65 - 0.6) / 0.2 * 0.6 = 0.525
    assert [(e.item, round(e.score, 9), round(e.redundancy, 9)) for e in ranked] == [
        ("a", 0.9, 0.0),
        ("d", 0.525, 0.075),
        ("b", 0.5, 0.3),
        ("c", 0.35, 0.35),
    ]
    with pytest.raises(ValueError, match="redundancy_ramp"):
        Ranking(redundancy_ramp=-0.1)


def test_redundancy_compares_each_items_best_text_after_its_boosts() -> None:
    corpus = rules.Corpus(10, 3.0, {"walrus": 1})
    candidates = [
        rules.Candidate("lead", 0.6, rules.document("walrus"), "t1", 0.0, "lead-text"),
        rules.Candidate("echo", 0.3, rules.document("hm"), "t1", 30.0, "echo-weak"),
        rules.Candidate("echo", 0.55, rules.document("walrus again"), "t1", 30.0, "echo-best"),
        rules.Candidate("other", 0.5, rules.document("x"), "t2", 0.0, "other-text"),
    ]
    cosines = {frozenset(("lead-text", "echo-best")): 0.9}
    ranking = Ranking(thread_boost=0.5, thread_window=60.0, redundancy=0.5, supersede=0.0)
    asked: list[list[str]] = []
    by_item = {
        e.item: e
        for e in rules.rank(
            candidates, ["walrus"], corpus, ranking, similarity=_texts_alike(cosines, asked)
        )
    }
    assert asked and set(asked[0]) == {"lead-text", "echo-best", "other-text"}
    echo = by_item["echo"]
    # the share is taken off the whole boosted score: in [0, 1], never below 0
    assert echo.thread > 0 and echo.redundancy == pytest.approx(
        0.5 * (echo.base + echo.thread + echo.recency)
    )
    assert echo.score == pytest.approx(echo.base + echo.thread + echo.recency - echo.redundancy)
    assert by_item["other"].score > echo.score and by_item["lead"].redundancy == 0.0


def test_a_stored_repeat_ranks_below_a_different_text(tmp_path: Path) -> None:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["content"]}
    texts = {
        "first": "Alice's flight to Lisbon leaves Monday at 07:45",
        "again": "Alice's flight to Lisbon leaves Monday at 07:45",
        "other": "Alice's flight to Oslo leaves Monday at 09:10",
    }
    query = "flight on Monday"
    rankings = (
        Ranking(redundancy=0.3),  # the lower-ranked copy loses
        Ranking(),  # the default, neither rule: the copies tie (but for recency)
        Ranking(supersede=0.3),  # the older copy loses
    )
    for number, ranking in enumerate(rankings):
        store = SqliteStore(tmp_path / f"r{number}.sqlite", index=index, ranking=ranking)
        for minute, (key, text) in enumerate(texts.items()):
            store.put(("u",), key, {"content": text, "created_at": f"2024-03-01T09:0{minute}:00"})
        explained = store.explain(("u",), query, limit=3)
        keys = [item.key for item, _ in explained]
        parts = {item.key: why for item, why in explained}
        assert [h.key for h in store.search(("u",), query=query)] == keys
        copies = sorted(("first", "again"), key=keys.index)
        if ranking.redundancy:  # one copy keeps its place, the other drops below a new text
            assert keys[2] == copies[1] and keys.index("other") < 2
            lower, upper = parts[copies[1]], parts[copies[0]]
            assert upper.redundancy == 0.0
            before = lower.base + lower.thread + lower.recency
            assert lower.redundancy == pytest.approx(ranking.redundancy * before)
            assert lower.score == pytest.approx(before - lower.redundancy)
        elif ranking.supersede:  # the newer copy keeps its place, the older drops below
            assert keys[2] == "first"
            older, newer = parts["first"], parts["again"]
            assert newer.superseded == 0.0 and parts["other"].superseded == 0.0
            before = older.base + older.thread + older.recency
            assert older.superseded == pytest.approx(ranking.supersede * before)
            assert older.score == pytest.approx(before - older.superseded)
        else:
            assert parts["first"].base == parts["again"].base
            assert parts["first"].score <= parts["again"].score
            assert all(why.redundancy == why.superseded == 0.0 for why in parts.values())
        store.close()


def test_supersede_marks_an_older_near_copy_of_a_newer_item_down() -> None:
    corpus = rules.Corpus(10, 3.0, {"oslo": 1})
    candidates = [
        rules.Candidate("a", 0.9, rules.document("x oslo"), "t1", 100.0, "ta"),
        rules.Candidate("b", 0.8, rules.document("x oslo"), "t2", 300.0, "tb"),  # newer copy of a
        rules.Candidate("c", 0.7, rules.document("x"), "t3", 200.0, "tc"),
        rules.Candidate("d", 0.6, rules.document("x oslo"), "t4", 50.0, "td"),
        rules.Candidate("e", 0.5, rules.document("x"), "t5", 200.0, "te"),  # as old as c
    ]
    cosines = {
        frozenset(("ta", "tb")): 0.95,  # a is older: a loses its share
        frozenset(("tc", "td")): 0.9,  # exactly the threshold; but c (newer) lacks "oslo"
        frozenset(("ta", "td")): 0.89,  # below the threshold
        frozenset(("tc", "te")): 0.99,  # the same time: neither is newer
    }
    ranking = Ranking(
        dense_weight=1.0, thread_boost=0.0, recency_weight=0.0, supersede=0.5, redundancy=0.0
    )
    floors: list[float] = []
    alike = _texts_alike(cosines, [])

    def similarity(chosen: Any, floor: float) -> Any:
        floors.append(floor)
        return alike(chosen, floor)

    ranked = rules.rank(candidates, ["oslo"], corpus, ranking, similarity=similarity)
    assert floors == [0.9]
    # hand-computed: a 0.9 - 0.5 * 0.9 = 0.45; the others keep their cosine
    assert [(e.item, round(e.score, 9), round(e.superseded, 9)) for e in ranked] == [
        ("b", 0.8, 0.0),
        ("c", 0.7, 0.0),
        ("d", 0.6, 0.0),
        ("e", 0.5, 0.0),
        ("a", 0.45, 0.45),
    ]
    assert rules.ranked_items(
        candidates, ["oslo"], corpus, ranking, similarity=_texts_alike(cosines, [])
    ) == [(e.score, e.item) for e in ranked]
    # only the best redundancy_depth items are compared; off, without similarity, or without
    # times: no change
    shallow: list[list[str]] = []
    rules.rank(
        candidates,
        ["oslo"],
        corpus,
        dataclasses.replace(ranking, redundancy_depth=1),
        similarity=_texts_alike(cosines, shallow),
    )
    assert shallow == []  # one item: nothing to compare
    untimed = [dataclasses.replace(c, time=None) for c in candidates]
    for off, chosen in (
        (dataclasses.replace(ranking, supersede=0.0), candidates),
        (ranking, untimed),
    ):
        plain = rules.rank(chosen, ["oslo"], corpus, off, similarity=_texts_alike(cosines, []))
        assert [(e.item, e.score, e.superseded) for e in plain] == [
            ("a", 0.9, 0.0),
            ("b", 0.8, 0.0),
            ("c", 0.7, 0.0),
            ("d", 0.6, 0.0),
            ("e", 0.5, 0.0),
        ]
    assert rules.rank(candidates, ["oslo"], corpus, ranking)[0].item == "a"  # no similarity
    # both rules: supersede first, then redundancy on the lowered scores
    both = dataclasses.replace(ranking, redundancy=0.5, redundancy_threshold=0.95)
    by_item = {
        e.item: e
        for e in rules.rank(
            candidates, ["oslo"], corpus, both, similarity=_texts_alike(cosines, [])
        )
    }
    # a, now below its newer copy b, is also b's near-copy: 0.5 of the 0.45 left
    assert by_item["a"].superseded == pytest.approx(0.45)
    assert by_item["a"].redundancy == pytest.approx(0.225)
    assert by_item["e"].redundancy == pytest.approx(0.25)  # a copy of c (0.99), c ranks above
    for bad in ({"supersede": 1.5}, {"supersede": -0.1}, {"supersede_threshold": 1.1}):
        with pytest.raises(ValueError, match="supersede"):
            Ranking(**bad)
