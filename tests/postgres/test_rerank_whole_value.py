"""With the default index field ``"$"`` the re-ranker reads, on both stores, the very text each
store embedded and indexed for the value: its JSON with sorted keys and characters as they are.

Before, PostgreSQL embedded ``{"a": -0.0}`` as written but returned the value as ``{"a": 0.0}``
(``jsonb`` keeps no sign of zero), so its re-ranker read another text than the one embedded,
and than the SQLite store's re-ranker read."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore

from langmem.embeddings import HashingEmbeddings
from langmem.stores import PostgresStore, SqliteStore
from langmem.stores.ranking import Ranking

VALUES = [
    {"content": "Ana lands at 7", "kind": "note"},
    {"z": 1, "a": "keys are sorted"},
    {"a": -0.0, "b": [0.0, -0.0, {"c": -0.0}], "s": "-0.0 in a string stays"},
    {"a": 1e20, "b": 1.5e-7, "c": 2**70, "d": 100.0},
    {"a": 'é ß 東京 \n "quoted" \u2028', "n": [1, 2.5, None, True]},
]


class Recorder:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def rerank(self, query: str, texts: list[str]) -> list[float]:
        self.texts += texts
        return [float(len(t)) for t in texts]


def _asked(store: BaseStore, recorder: Recorder) -> list[str]:
    for n, value in enumerate(VALUES):
        store.put(("a",), f"k{n}", value)
    store.search(("a",), query="sorted keys", limit=20)
    assert len(recorder.texts) == len(VALUES)
    return sorted(recorder.texts)


def test_the_reranker_reads_the_texts_each_store_embedded(tmp_path: Path, pg_database: str) -> None:
    index: Any = {"dims": 16, "embed": HashingEmbeddings(16)}
    asked = []
    for make in (
        lambda r: SqliteStore(tmp_path / "r.sqlite", index=index, ranking=Ranking(rerank=r)),
        lambda r: PostgresStore.from_url(pg_database, index=index, ranking=Ranking(rerank=r)),
    ):
        recorder = Recorder()
        store = make(recorder)
        try:
            asked.append(_asked(store, recorder))
        finally:
            store.close()
    with sqlite3.connect(tmp_path / "r.sqlite") as conn:
        sqlite_texts = sorted(t for (t,) in conn.execute("SELECT text FROM langmem_vectors"))
    import psycopg

    with psycopg.connect(pg_database) as conn:
        postgres_texts = sorted(t for (t,) in conn.execute("SELECT lm_text FROM store_vectors"))
    assert asked[0] == sqlite_texts
    assert asked[1] == postgres_texts
    assert asked[0] == asked[1]
    assert '{"a": 0.0, "b": [0.0, 0.0, {"c": 0.0}], "s": "-0.0 in a string stays"}' in asked[0]
