"""bench/soft_lexical.py: its vocabulary counts document frequencies as the store does, its
candidates hold every term of their texts, and its neighbours enter the ranking as the bench's
docstring says (expansion terms of their own, or counts towards their query term)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore
from langmem.stores import ranking as rules

BENCH = Path(__file__).resolve().parents[2] / "bench"
TEXTS = [
    "Ana lives in Lisbon and lived in Porto before",
    "My car broke down, the mechanic says the clutch is shot",
    "We bought a used car, it drives fine",
    "The vehicle inspection is on Friday",
    "Ana's sister is a nurse in Oslo",
    "Lisbon trams and Lisbon food",
    "lives lived living",
]


def _module(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def _captured(tmp_path: Path, query: str) -> dict[str, Any]:
    capture = _module("ranking_capture")
    index: Any = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["content"]}
    store = SqliteStore(tmp_path / "s.sqlite", index=index)
    store.batch([PutOp(("n",), f"k{i}", {"content": t}) for i, t in enumerate(TEXTS)])
    with capture._Recorder() as recorder:
        store.search(("n",), query=query, limit=10)
    store.close()
    (call,) = recorder.calls
    return call  # type: ignore[no-any-return]


def test_vocabulary_counts_document_frequencies_as_the_store(tmp_path: Path) -> None:
    soft = _module("soft_lexical")
    call = _captured(tmp_path, "where does Ana live, Lisbon or Porto, and which car")
    documents, _, frequencies = call["corpus"]
    df, terms, words = soft.vocabulary_words(TEXTS)
    assert documents == len(TEXTS)
    assert frequencies and {t: min(df.get(t, 0), documents) for t in frequencies} == frequencies
    # two texts hold forms of "liv", five (text, word) pairs: the store counts each word
    assert frequencies["liv"] == 5
    assert words[terms.index("liv")] in {"lives", "lived"}  # the most frequent stored form
    assert all(t.isalpha() for t in terms)


def test_full_candidates_hold_every_term_of_their_texts(tmp_path: Path) -> None:
    soft = _module("soft_lexical")
    call = _captured(tmp_path, "which car")
    full = soft.full_candidates(call)
    assert [c.document for c in full] == [rules.document(t) for t in call["texts"]]
    for candidate, (held, length) in zip(full, call["documents"], strict=True):
        if held:  # the capture keeps the query's terms (and a length where one is held)
            assert {t: candidate.document.terms[t] for t in held} == held
            assert candidate.document.length == length
    assert any("mechanic" in c.document.terms for c in full)
    assert not any("mechanic" in held for held, _ in call["documents"])


def test_settings_keep_m_neighbours_from_tau_weighted_w_times_cosine() -> None:
    soft = _module("soft_lexical")
    found = [("vehicl", "car", 0.9), ("vehicl", "truck", 0.7), ("vehicl", "bus", 0.6)]
    found += [("buy", "bought", 0.8), ("buy", "car", 0.5)]
    assert soft.expansion(found, 1, 0.5, 1.0) == pytest.approx({"car": 0.9, "bought": 0.8})
    assert soft.expansion(found, 5, 0.7, 0.5) == pytest.approx(
        {"car": 0.45, "truck": 0.35, "bought": 0.4}
    )
    pairs = soft.translation(found, 2, 0.5, 0.5)
    assert pairs == {
        "vehicl": [("car", pytest.approx(0.45)), ("truck", pytest.approx(0.35))],
        "buy": [("bought", pytest.approx(0.4)), ("car", pytest.approx(0.25))],
    }


def test_neighbours_rank_a_text_that_holds_no_query_word() -> None:
    soft = _module("soft_lexical")
    texts = ["my car broke down", "the weather broke", "my vehicle broke down"]
    candidates = [
        rules.Candidate(i, 0.3, rules.document(t), None, None, i) for i, t in enumerate(texts)
    ]
    terms = rules.query_terms("vehicle broke")
    assert terms == ["vehicl", "brok"]
    corpus = rules.Corpus(3, 2.0, {"vehicl": 1, "brok": 3, "car": 1})  # below the cap

    def scores(
        chosen: list[rules.Candidate], weights: dict[str, float] | None = None
    ) -> dict[int, float]:
        ranked = rules.ranked_items(
            chosen, terms + list(weights or {}), corpus, rules.Ranking(), weights
        )
        return {item: score for score, item in ranked}

    plain = scores(candidates)
    assert plain[2] > plain[0] == plain[1]  # the car text ties with the weather one
    # (a)/(b): "car" as an expansion term of its own lifts the car text, and its share of the
    # normalising mass lowers the exact match
    expanded = scores(candidates, {"car": 0.9})
    assert expanded[2] > expanded[0] > expanded[1]
    assert expanded[2] < plain[2]
    # (c): "car" counts towards "vehicl"; the exact match keeps its score (no added mass)
    softened = soft.soft_documents(candidates, {"vehicl": [("car", 0.9)]})
    assert softened[0].document.terms["vehicl"] == pytest.approx(0.9)
    assert softened[0].document.length == candidates[0].document.length
    assert softened[1] is candidates[1] and softened[2] is candidates[2]
    translated = scores(softened)
    assert translated[2] == plain[2] > translated[0] > translated[1] == plain[1]
