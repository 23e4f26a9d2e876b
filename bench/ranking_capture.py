"""Capture what the store hands to the ranking rule, per question, for fast offline sweeps.

For every question of a split of bench/conversations.py and bench/realmem.py, searches the
SQLite store once with a given ranking (the default unless told) and records what
:func:`langmem.stores.ranking.ranked_items` received: the candidates (item key, cosine, analyzed
terms, thread, time, vector, text), the query terms and the corpus statistics, with the
question's evidence keys and type. Re-ranking the captured candidates with
:func:`langmem.stores.ranking.rank` (``similarity`` from the captured vectors) gives the same
order as the store for any setting that keeps the candidate set (same ``depth``, one pass), so
a sweep of hundreds of settings takes seconds instead of minutes. Used by
bench/ranking_sweep.py; the capture is kept outside the repository (a pickle under
``$XDG_CACHE_HOME/langmem-bench``).

    python bench/ranking_capture.py --split dev
"""

from __future__ import annotations

import argparse
import os
import pickle
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import conversations as conv
import realmem

from langmem.stores import SqliteStore, _fused, _hybrid, _search
from langmem.stores import ranking as rules


def cache_path(split: str) -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "langmem-bench" / f"ranking-capture-{split}.pickle"


class _Recorder:
    """Wraps the store's ranking calls and keeps what the rule received. The store's numpy
    fusion path (:mod:`langmem.stores._fused`), which gives the same order as
    :func:`ranking.ranked_items` without calling it, is turned off meanwhile, so every search
    goes through the rule and is recorded."""

    def __init__(self) -> None:
        self.vectors: Any = None
        self.calls: list[dict[str, Any]] = []
        self._similarity = _search.sqlite_similarity
        self._hybrid_similarity = _hybrid.sqlite_similarity
        self._covers = _fused.covers
        self._ranked = rules.ranked_items

    def __enter__(self) -> _Recorder:
        def similarity(vectors: Any) -> Any:
            self.vectors = vectors
            return self._similarity(vectors)

        def ranked(
            candidates: Any, terms: Any, corpus: Any, ranking: Any, *a: Any, **k: Any
        ) -> Any:
            vectors = self.vectors
            rows = [int(c.text) for c in candidates]
            self.calls.append(
                {
                    "items": [c.item for c in candidates],
                    "cosines": np.asarray([c.cosine for c in candidates], dtype=np.float64),
                    "documents": [(dict(c.document.terms), c.document.length) for c in candidates],
                    "threads": [c.thread for c in candidates],
                    "times": [c.time for c in candidates],
                    "vectors": np.asarray(vectors.matrix[rows], dtype=np.float32),
                    "texts": vectors.texts(vectors.vector_ids[rows].tolist()),
                    "terms": list(terms),
                    "corpus": (corpus.documents, corpus.average_length, dict(corpus.frequencies)),
                }
            )
            return self._ranked(candidates, terms, corpus, ranking, *a, **k)

        _search.sqlite_similarity = similarity  # type: ignore[assignment]
        _hybrid.sqlite_similarity = similarity  # type: ignore[assignment]
        _fused.covers = lambda ranking, *, rows=False: False  # type: ignore[assignment]
        rules.ranked_items = ranked  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        _search.sqlite_similarity = self._similarity  # type: ignore[assignment]
        _hybrid.sqlite_similarity = self._hybrid_similarity  # type: ignore[assignment]
        _fused.covers = self._covers  # type: ignore[assignment]
        rules.ranked_items = self._ranked  # type: ignore[assignment]


def _keys(path: Path) -> dict[int, str]:
    with sqlite3.connect(path) as db:
        return {i: k for i, k in db.execute("SELECT id, key FROM langmem_items")}


def _finish(calls: list[dict[str, Any]], path: Path, questions: list[dict[str, Any]]) -> None:
    keys = _keys(path)
    for call, question in zip(calls, questions, strict=True):
        call["keys"] = [keys[i] for i in call.pop("items")]
        call.update(question)


def capture_conversations(split: str, ranking: rules.Ranking) -> list[dict[str, Any]]:
    built = conv.build()
    texts = [t.text for c in built for t in c.turns] + [q.text for c in built for q in c.questions]
    embed = conv.CachedEmbeddings(texts)
    chosen = [c for c in built if c.split == split]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.sqlite"
        conv.load(built, path, embed)
        store = SqliteStore(
            path, index={"dims": 384, "embed": embed, "fields": ["content"]}, ranking=ranking
        )
        questions = []
        with _Recorder() as recorder:
            for c in chosen:
                for q in c.questions:
                    store.search(("bench", c.user), query=q.text, limit=10)
                    questions.append(
                        {
                            "bench": "conversations",
                            "group": c.user,
                            "kind": q.kind,
                            "evidence": q.evidence,
                            "query": q.text,
                            "vector": np.asarray(embed.embed_query(q.text), dtype=np.float32),
                        }
                    )
        store.close()
        _finish(recorder.calls, path, questions)
    return recorder.calls


def capture_realmem(split: str, ranking: rules.Ranking) -> list[dict[str, Any]]:
    people, queries = realmem.read(split)
    _, every = realmem.read("all")
    embed = conv.CachedEmbeddings(realmem.texts() + [q.text for q in every])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.sqlite"
        realmem.load(people, path, embed)
        store = SqliteStore(
            path, index={"dims": 384, "embed": embed, "fields": ["content"]}, ranking=ranking
        )
        questions = []
        with _Recorder() as recorder:
            for q in queries:
                store.search(
                    ("realmem", q.person),
                    query=q.text,
                    filter={"session": {"$lt": q.session}},
                    limit=10,
                )
                questions.append(
                    {
                        "bench": "realmem",
                        "group": q.person,
                        "kind": q.kind,
                        "evidence": q.evidence,
                        "query": q.text,
                        "vector": np.asarray(embed.embed_query(q.text), dtype=np.float32),
                    }
                )
        store.close()
        _finish(recorder.calls, path, questions)
    return recorder.calls


def capture_retrieval(seeds: list[int], ranking: rules.Ranking) -> list[dict[str, Any]]:
    """bench/retrieval.py's labelled set (its dev seeds 1 and 2; seed 3 is its test split)."""
    import retrieval

    from langmem.embeddings import MiniLMEmbeddings

    embed = retrieval.CachedEmbeddings(MiniLMEmbeddings())
    out: list[dict[str, Any]] = []
    for seed in seeds:
        memories, questions = retrieval.build(seed)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "s.sqlite"
            index: Any = {"dims": 384, "embed": embed, "fields": ["text"]}
            store = SqliteStore(path, index=index, ranking=ranking)
            store.batch([retrieval.PutOp(("bench",), m.key, {"text": m.text}) for m in memories])
            asked = []
            with _Recorder() as recorder:
                for q in questions:
                    store.search(("bench",), query=q.text)
                    asked.append(
                        {
                            "bench": "retrieval",
                            "group": f"seed {seed} / {q.part}",
                            "kind": q.part,
                            "evidence": (q.answer,),
                            "query": q.text,
                            "vector": np.asarray(embed.embed_query(q.text), dtype=np.float32),
                        }
                    )
            store.close()
            _finish(recorder.calls, path, asked)
        out += recorder.calls
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    args = parser.parse_args()
    ranking = rules.Ranking()
    calls = capture_conversations(args.split, ranking) + capture_realmem(args.split, ranking)
    calls += capture_retrieval([1, 2] if args.split == "dev" else [3], ranking)
    out = cache_path(args.split)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        pickle.dump(calls, f)
    print(f"{len(calls)} questions captured into {out}")


if __name__ == "__main__":
    main()
