"""``Ranking(fusion="learned")``: a fixed logistic model over the rule's parts
(langmem.stores._learned)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _learned
from langmem.stores import ranking as rules
from langmem.stores.ranking import Ranking

from ._alike import similarity_of

LEARNED = Ranking(fusion="learned", thread_boost=0.0, recency_weight=0.0)


def _z(parts: dict[str, float]) -> float:
    return _learned.WEIGHTS["intercept"] + sum(parts.values())


def test_each_feature_by_hand_and_the_score_is_the_logistic_of_their_sum() -> None:
    # idf: "oslo" held by 1 of 10 texts, "trip" by 5
    corpus = rules.Corpus(10, 3.0, {"oslo": 1, "trip": 5})
    vectors = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    candidates = [
        rules.Candidate("a", 0.9, rules.document("trip trip trip oslo"), text=0),
        rules.Candidate("b", 0.5, rules.document("oslo"), text=1),
        rules.Candidate("c", 0.2, rules.document("nothing"), text=2),
    ]
    ranked = rules.rank(
        candidates, ["oslo", "trip"], corpus, LEARNED, similarity=similarity_of(vectors)
    )
    oslo, trip = rules.idf(10, 1), rules.idf(10, 5)
    by_item = {e.item: e for e in ranked}
    a, b, c = by_item["a"], by_item["b"], by_item["c"]
    weights = _learned.WEIGHTS
    # coverage: the share of the IDF mass held, whatever the term counts and the length
    assert a.learned["coverage"] == pytest.approx(weights["coverage"] * 1.0)
    assert b.learned["coverage"] == pytest.approx(weights["coverage"] * oslo / (oslo + trip))
    assert c.learned["coverage"] == 0.0
    # rarest: the rarest held term's IDF over the query's rarest
    assert b.learned["rarest"] == pytest.approx(weights["rarest"] * 1.0)
    assert a.learned["dense"] == pytest.approx(weights["dense"] * 0.9)
    assert a.learned["lexical"] == pytest.approx(weights["lexical"] * a.lexical)
    # crowd: the mean cosine with the dense candidates (all three here), itself at 1
    assert a.learned["crowd"] == pytest.approx(weights["crowd"] * (1.0 + 0.6 + 0.0) / 3)
    assert b.learned["crowd"] == pytest.approx(weights["crowd"] * (0.6 + 1.0 + 0.8) / 3)
    for why in ranked:
        assert set(why.learned) == set(_learned.FEATURES)
        assert why.score == pytest.approx(1.0 / (1.0 + math.exp(-_z(dict(why.learned)))))
        assert 0.0 < why.score < 1.0
    assert [e.score for e in ranked] == sorted((e.score for e in ranked), reverse=True)


def test_an_older_near_copy_of_a_newer_item_is_flagged_superseded() -> None:
    corpus = rules.Corpus(10, 2.0, {"gym": 3})
    vectors = np.array([[1.0, 0.0], [0.999, 0.0447], [0.0, 1.0]])
    vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    candidates = [
        rules.Candidate("old", 0.8, rules.document("gym mondays"), "t1", 100.0, 0),
        rules.Candidate("new", 0.79, rules.document("gym tuesdays"), "t2", 900.0, 1),
        rules.Candidate("other", 0.3, rules.document("gym"), "t3", 50.0, 2),
    ]
    ranked = rules.rank(candidates, ["gym"], corpus, LEARNED, similarity=similarity_of(vectors))
    parts = {e.item: e.learned for e in ranked}
    assert parts["old"]["superseded"] == pytest.approx(_learned.WEIGHTS["superseded"])
    assert parts["new"]["superseded"] == 0.0
    assert parts["other"]["superseded"] == 0.0


def test_without_similarity_crowd_and_superseded_are_zero_and_other_fusions_show_nothing() -> None:
    corpus = rules.Corpus(4, 2.0, {"tea": 1})
    candidates = [rules.Candidate(f"i{i}", 0.5 - i / 10, rules.document("tea")) for i in range(3)]
    ranked = rules.rank(candidates, ["tea"], corpus, LEARNED)
    assert all(e.learned["crowd"] == 0.0 and e.learned["superseded"] == 0.0 for e in ranked)
    assert all(not e.learned for e in rules.rank(candidates, ["tea"], corpus, Ranking()))


def test_an_empty_query_or_no_candidates_rank_without_error() -> None:
    corpus = rules.Corpus(0, 0.0, {})
    assert rules.rank([], ["tea"], corpus, LEARNED) == []
    one = [rules.Candidate("x", -0.2, rules.document("tea"))]
    ranked = rules.rank(one, [], rules.Corpus(1, 1.0, {}), LEARNED)
    assert [e.item for e in ranked] == ["x"] and 0.0 < ranked[0].score < 1.0


def test_store_search_and_explain_agree_with_learned_fusion(tmp_path: Path) -> None:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(dims=64), "fields": ["content"]}
    store = SqliteStore(tmp_path / "l.sqlite", index=index, ranking=Ranking(fusion="learned"))
    try:
        for i in range(30):
            store.put(
                ("u",),
                f"k{i}",
                {
                    "content": f"note {i} about the {['tea', 'piano', 'flight'][i % 3]} plan",
                    "thread_id": f"t{i % 4}",
                    "created_at": f"2026-01-{1 + i % 28:02d}T10:00:00+00:00",
                },
            )
        explained = store.explain(("u",), "piano plan", limit=8)
        searched = store.search(("u",), query="piano plan", limit=8)
        assert [(h.key, h.score) for h in searched] == [(h.key, h.score) for h, _ in explained]
        assert all(why.learned and 0.0 < why.score < 1.0 for _, why in explained)
        assert "piano" in str(explained[0][0].value)
    finally:
        store.close()
