"""The lexical side of hybrid search: words, coverage, the per-query gate and the fused score."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from langmem.stores import SqliteStore
from langmem.stores._lexical import (
    LEXICAL_GATE,
    LEXICAL_WEIGHT,
    coverage,
    fts_query,
    fuse,
    query_terms,
    stem,
    tokens,
)


def test_words_match_the_fts_tokenizer() -> None:
    assert tokens("Zoë's flight LH-1234, 07:45") == ["zoe", "s", "flight", "lh", "1234", "07", "45"]
    assert query_terms("Who is on the flight to São Paulo? The FLIGHT!") == [
        "flight",
        "sao",
        "paulo",
    ]
    assert query_terms("the a of") == []
    assert fts_query([]) is None
    assert fts_query(["alice", "2019"]) == '"alice" OR "2019"'


def test_stemming_is_light_and_symmetric() -> None:
    assert {stem(w) for w in ["live", "lives", "lived"]} == {"liv"}
    assert stem("living") == "living"  # "for a living" is not "lives"
    assert stem("1999") == "1999"
    assert stem("glass") == "glass"


def test_coverage_weighs_rare_words_more() -> None:
    weights = {"flight": 1.0, "lh1234": 4.0}
    assert coverage(["flight", "lh1234"], weights) == 1.0
    assert coverage(["flights"], weights) == pytest.approx(0.2)
    assert coverage([], weights) == 0.0
    assert coverage(["x"], {}) == 0.0


def test_fused_score_stays_in_range_and_keeps_cosine_without_words() -> None:
    for cosine in (-1.0, -0.3, 0.0, 0.4, 1.0):
        assert fuse(cosine, 0.0) == cosine
        for share in (0.25, 1.0):
            assert cosine <= fuse(cosine, share) <= 1.0
    assert fuse(0.0, 1.0) == pytest.approx(LEXICAL_WEIGHT)


class Fixed(Embeddings):
    """Cosine 0.5 between any query and any text."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [0.5, 0.75**0.5]


def test_queries_without_telling_words_rank_by_cosine_alone(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", index={"dims": 2, "embed": Fixed(), "fields": ["t"]})
    store.put(("n",), "a", {"t": "Amara keeps bees on the roof"})
    store.put(("n",), "b", {"t": "Bilal restores old motorbikes"})
    # "hobby" and "beekeeping" are in no text: coverage stays under the gate, scores stay 0.5
    assert LEXICAL_GATE > 0
    scores = [h.score for h in store.search(("n",), query="beekeeping hobby")]
    assert scores == pytest.approx([0.5, 0.5])
    # a word a text holds lifts it
    lifted = store.search(("n",), query="motorbikes")
    assert lifted[0].key == "b" and lifted[0].score == pytest.approx(fuse(0.5, 1.0))
