"""The trained re-ranker kept for evaluation (``MiniLMReranker``) on PostgreSQL: the same texts
read, the same order, scores and explain as on the embedded store (sync search, async explain;
the stage is one flow for both, parity is tested in tests/stores/test_minilm_rerank.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from langmem.stores import PostgresStore, SqliteStore
from langmem.stores._minilm_rerank import MiniLMReranker
from langmem.stores.ranking import Ranking
from tests.stores.test_minilm_rerank import NS, QUERY, TEXTS


def _index() -> Any:
    from langmem.testing import HashingEmbeddings

    return {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}


def test_postgres_reranks_as_the_embedded_store(tmp_path: Path, pg_database: str) -> None:
    ranking = Ranking(rerank=MiniLMReranker(), rerank_depth=5)
    sqlite = SqliteStore(tmp_path / "minilm.sqlite", index=_index(), ranking=ranking)
    postgres = PostgresStore.from_url(pg_database, index=_index(), ranking=ranking)
    try:
        for store in (sqlite, postgres):
            for key, text in TEXTS.items():
                store.put(NS, key, {"text": text})
        found = []
        for store in (sqlite, postgres):
            hits = store.search(NS, query=QUERY, limit=6)
            explained = asyncio.run(store.aexplain(NS, QUERY, limit=6))
            reranked = [None if w.reranked is None else round(w.reranked, 4) for _, w in explained]
            found.append(
                (
                    [(h.key, round(h.score, 5)) for h in hits],
                    [(i.key, r, w.fused_rank) for (i, w), r in zip(explained, reranked)],
                )
            )
        assert found[0] == found[1]
        assert [r for _, r, _ in found[0][1]].count(None) == 1  # past the depth: not re-ranked
    finally:
        postgres.close()
        sqlite.close()
