"""bench/ranking_robust.py: what it captures from a store, re-ranked offline, gives the store's
own results (for the default, on the store's numpy path, and for other fusions and weights),
and the store is left as it was."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _fused, _hybrid
from langmem.stores.ranking import Ranking

BENCH = Path(__file__).resolve().parents[2] / "bench"
WORDS = "ana lands lisbon friday flight tap sister porto nurse oslo gym tuesday car blue"


def _module(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def _texts() -> list[str]:
    # words in varied, repeated combinations: ties, partial matches and several threads
    return [" ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 2 + i % 5)) for i in range(120)]


def test_captured_candidates_re_rank_to_the_stores_results(tmp_path: Path) -> None:
    robust = _module("ranking_robust")
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["content"]}
    store = SqliteStore(tmp_path / "s.sqlite", index=index)
    store.batch(
        [
            PutOp(
                ("u",),
                f"k{i}",
                {
                    "content": text,
                    "thread_id": f"t{i // 7}",
                    "created_at": f"2025-01-{1 + i % 28:02d}T10:{i % 60:02d}:00",
                },
            )
            for i, text in enumerate(_texts())
        ]
    )
    queries = ["when does ana land in lisbon", "sister nurse oslo", "blue car", "gym tuesday"]
    covers, similarity = _fused.covers, _hybrid.sqlite_similarity
    with _module("ranking_capture")._Recorder() as recorder:
        found = [[h.key for h in store.search(("u",), query=q, limit=10)] for q in queries]
    assert (_fused.covers, _hybrid.sqlite_similarity) == (covers, similarity)
    asked = [{"evidence": (), "kind": "any"} for _ in queries]
    _module("ranking_capture")._finish(recorder.calls, tmp_path / "s.sqlite", asked)
    calls = recorder.calls
    assert [robust.top(c, Ranking()) for c in calls] == found
    others = [Ranking(fusion="minmax", dense_weight=0.6, k1=0.6, b=0.5), Ranking(fusion="rrf")]
    for ranking in [Ranking(), *others, robust.BM25, robust.CHOSEN]:  # Ranking(): numpy path
        store.ranking = ranking
        expected = [[h.key for h in store.search(("u",), query=q, limit=10)] for q in queries]
        assert [robust.top(c, ranking) for c in calls] == expected, ranking
    dense = SqliteStore(tmp_path / "s.sqlite", index=index, hybrid=False)
    for call, query in zip(calls, queries, strict=True):
        # hashing embeddings tie exactly; both orders agree up to the order of such ties
        cosine = dict(zip(call["keys"], call["cosines"].tolist(), strict=True))
        mine = [cosine[k] for k in robust.top(call, "dense")]
        assert mine == [h.score for h in dense.search(("u",), query=query, limit=10)]
    store.close()
    dense.close()


def test_scores_are_recall_at_k_and_the_first_hits_reciprocal_rank() -> None:
    robust = _module("ranking_robust")
    keys = [f"k{i}" for i in range(10)]
    got = robust.scores({"evidence": ("k2", "k7", "gone")}, keys)
    assert got == {"R@1": 0.0, "R@5": 1 / 3, "R@10": 2 / 3, "MRR": 1 / 3}
    assert robust.scores({"evidence": ("x",)}, keys)["MRR"] == 0.0
