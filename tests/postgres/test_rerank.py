"""The re-ranking stage on PostgreSQL gives what it gives on the embedded store: the same texts
asked, the same order and scores, the same explain, sync and async, and the same refusals."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore, PutOp, SearchOp

from langmem.errors import RerankerError
from langmem.stores import PostgresStore, SqliteStore
from langmem.stores.ranking import Ranking
from tests.stores.test_rerank import NS, QUERY, TEXTS, AsyncScripted, Scripted, _keys


def _index() -> Any:
    from langmem.testing import HashingEmbeddings

    return {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}


def _filled(store: BaseStore) -> BaseStore:
    for i, text in enumerate(TEXTS):
        store.put(NS if i % 4 else ("notes", "bob"), f"k{i}", {"text": text, "n": i})
    return store


@pytest.fixture()
def stores(tmp_path: Path, pg_database: str) -> Iterator[tuple[SqliteStore, PostgresStore]]:
    sqlite = SqliteStore(tmp_path / "rerank.sqlite", index=_index())
    postgres = PostgresStore.from_url(pg_database, index=_index())
    _filled(sqlite)
    _filled(postgres)
    yield sqlite, postgres
    postgres.close()
    sqlite.close()


def _rounded(hits: list[Any]) -> list[tuple[str, float]]:
    return [(h.key, round(h.score, 5)) for h in hits]  # float32 cosines: last bits differ


@pytest.mark.parametrize(
    "search",
    [
        {"limit": 10},
        {"limit": 2, "offset": 2},
        {"limit": 3, "offset": 4},
        {"limit": 10, "filter": {"n": {"$gt": 2}}},
    ],
)
def test_both_stores_ask_the_same_and_return_the_same(
    stores: tuple[SqliteStore, PostgresStore], search: dict[str, Any]
) -> None:
    found = []
    for store in stores:
        reranker = AsyncScripted(lambda texts: [-len(t) for t in texts])
        store.ranking = Ranking(rerank=reranker, rerank_depth=4)
        hits = store.search(("notes",), query=QUERY, **search)
        async_hits = asyncio.run(store.asearch(("notes",), query=QUERY, **search))
        assert _rounded(async_hits) == _rounded(hits)
        assert reranker.async_calls == reranker.calls and len(reranker.calls) == 1
        explained = store.explain(("notes",), QUERY, **search)
        assert [hit.key for hit, _ in explained] == _keys(hits)
        parts = [(w.reranked, w.fused_rank, round(w.fused_score or 0, 5)) for _, w in explained]
        found.append((reranker.calls, _rounded(hits), parts))
    assert found[0] == found[1]


def test_a_malformed_answer_is_refused_on_postgres_and_nothing_is_written(
    stores: tuple[SqliteStore, PostgresStore],
) -> None:
    _, postgres = stores
    postgres.ranking = Ranking(rerank=Scripted(lambda texts: [1.0]), rerank_depth=4)
    ops = [PutOp(NS, "new", {"text": "tea"}), SearchOp(("notes",), None, 10, 0, QUERY)]
    with pytest.raises(RerankerError, match="returned 1 scores for 4 texts"):
        postgres.batch(ops)
    with pytest.raises(RerankerError, match="returned 1 scores for 4 texts"):
        asyncio.run(postgres.abatch(ops))
    assert postgres.get(NS, "new") is None
    postgres.ranking = dataclasses.replace(postgres.ranking, rerank_fallback=True)
    with pytest.warns(UserWarning, match="Kept the store's own order"):
        kept = postgres.search(("notes",), query=QUERY)
    postgres.ranking = Ranking()
    assert _rounded(kept) == _rounded(postgres.search(("notes",), query=QUERY))
