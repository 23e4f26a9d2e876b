"""``Ranking.centering``: the dense side from the query minus a share of the dense candidates'
mean vector (see "Centering" in langmem.stores.ranking)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from langmem.stores import SqliteStore
from langmem.stores import ranking as rules
from langmem.stores.ranking import Ranking

from ._alike import similarity_of


def _unit(rows: Any) -> Any:
    rows = np.asarray(rows, dtype=np.float64)
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def test_centering_takes_a_share_of_the_dense_candidates_mean_off_the_query() -> None:
    # three look-alike texts (a crowd) near the query, one distinct text a little further
    rng = np.random.default_rng(7)
    crowd = _unit([1.0, 1.0, 0.0, 0.0]) + rng.normal(0, 0.05, (3, 4))
    vectors = _unit([*crowd, [1.0, 0.0, 0.9, 0.0], [0.0, 0.0, 0.0, 1.0]])
    query = _unit([1.0, 0.6, 0.4, 0.0])
    cosines = vectors @ query
    names = ["c1", "c2", "c3", "fact", "far"]
    candidates = [
        rules.Candidate(name, float(c), rules.document("x"), text=i)
        for i, (name, c) in enumerate(zip(names, cosines))
    ]
    share = 0.5
    ranking = Ranking(depth=4, dense_weight=1.0, thread_boost=0.0, recency_weight=0.0)
    plain = rules.rank(candidates, [], rules.Corpus(5, 1.0, {}), ranking)
    assert [e.item for e in plain][3:] == ["fact", "far"]  # the crowd first
    centred = rules.rank(
        candidates,
        [],
        rules.Corpus(5, 1.0, {}),
        Ranking(depth=4, dense_weight=1.0, thread_boost=0.0, recency_weight=0.0, centering=share),
        similarity=similarity_of(vectors),
    )
    # by hand: the mean of the 4 best texts by cosine, taken off the query, renormalised
    best = np.argsort(-cosines)[:4]
    moved = query - share * vectors[best].mean(axis=0)
    expected = vectors @ (moved / np.linalg.norm(moved))
    by_name = {e.item: e for e in centred}
    for i, name in enumerate(names):
        why = by_name[name]
        assert why.centered == pytest.approx(expected[i], abs=1e-9)
        assert why.cosine == pytest.approx(cosines[i], abs=1e-12)  # the plain cosine stays
        assert why.dense == pytest.approx(min(max(expected[i], 0.0), 1.0), abs=1e-9)
        assert 0.0 <= why.score <= 1.0
    # the distinct text now outranks the crowd it sat below
    assert centred[0].item == "fact"
    assert all(e.centered is None for e in plain)  # off: nothing centred, nothing to show


def test_centering_off_or_without_similarity_changes_nothing() -> None:
    vectors = _unit([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    candidates = [
        rules.Candidate(f"i{i}", float(c), rules.document("oslo x"), text=i)
        for i, c in enumerate(vectors @ _unit([1.0, 0.2]))
    ]
    corpus = rules.Corpus(3, 2.0, {"oslo": 1})
    default = rules.rank(candidates, ["oslo"], corpus, Ranking())
    asked: list[float] = []

    def similarity(chosen: Any, floor: float) -> list[tuple[int, int, float]]:
        asked.append(floor)
        return list(similarity_of(vectors)(chosen, floor))

    assert rules.rank(candidates, ["oslo"], corpus, Ranking(), similarity=similarity) == default
    assert asked == []  # off: the backend is not asked for pairwise cosines
    unchanged = rules.rank(candidates, ["oslo"], corpus, Ranking(centering=0.3))
    assert [(e.item, e.score) for e in unchanged] == [(e.item, e.score) for e in default]


def test_centering_skips_zero_vectors_and_non_finite_cosines() -> None:
    """pgvector gives NaN for a zero vector; the rule counts such a pair as unrelated."""
    candidates = [
        rules.Candidate("a", 0.9, rules.document("x"), text=0),
        rules.Candidate("b", 0.0, rules.document("x"), text=1),  # a zero vector
    ]

    def similarity(chosen: Any, floor: float) -> list[tuple[int, int, float]]:
        return [(0, 1, float("nan"))]

    ranked = rules.rank(
        candidates, [], rules.Corpus(2, 1.0, {}), Ranking(centering=0.5), similarity=similarity
    )
    assert all(np.isfinite(e.score) and 0.0 <= e.score <= 1.0 for e in ranked)
    assert [e.item for e in ranked] == ["a", "b"]


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan")])
def test_centering_out_of_range_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="centering"):
        Ranking(centering=value)


class _Topics(Embeddings):
    """Small talk about one topic gets near-identical vectors; facts get their own."""

    def _one(self, text: str) -> list[float]:
        vector = np.zeros(8)
        vector[0] = 1.0
        if "gym" in text:
            vector[1] = 1.0 + 0.01 * len(text) % 3
        if "Oslo" in text or "move" in text:
            vector[2] = 0.9
        vector[3 + len(text) % 5] = 0.1
        return [float(x) for x in vector / np.linalg.norm(vector)]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


def test_explain_shows_the_centred_cosine_and_search_agrees(tmp_path: Path) -> None:
    ranking = Ranking(centering=0.4, depth=5)
    index: Any = {"dims": 8, "embed": _Topics(), "fields": ["content"]}
    store = SqliteStore(tmp_path / "c.sqlite", index=index, ranking=ranking)
    try:
        for i in range(8):
            store.put(("u",), f"gym{i}", {"content": f"I should go to the gym more {'!' * i}"})
        store.put(("u",), "fact", {"content": "My sister will move to Oslo in May"})
        explained = store.explain(("u",), "where will my sister move to gym", limit=9)
        searched = store.search(("u",), query="where will my sister move to gym", limit=9)
        assert [(h.key, h.score) for h in searched] == [(h.key, h.score) for h, _ in explained]
        whys = {h.key: why for h, why in explained}
        assert all(why.centered is not None for why in whys.values())
        assert any(why.centered != pytest.approx(why.cosine) for why in whys.values())
        assert whys["fact"].dense == pytest.approx(min(max(whys["fact"].centered or 0, 0), 1))
    finally:
        store.close()
