"""What a PostgreSQL search computes once: the store's text and word totals (one
``word_counts.documents()`` per search, so the BM25 of the lexical cut and the ranking use
numbers of one moment), and the fields a re-ranker reads (set with the index, and again by a
re-embed that changes them)."""

from __future__ import annotations

from typing import Any

from langmem.stores import PostgresStore
from langmem.stores.ranking import Ranking
from langmem.testing import HashingEmbeddings
from tests.stores.test_rerank import Scripted

NS = ("notes", "alice")


def test_a_search_reads_the_store_totals_once(pg_database: str, monkeypatch: Any) -> None:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}
    with PostgresStore.from_url(pg_database, index=index) as store:
        for n in range(80):  # more texts hold "tea" than the lexical side lists unranked
            store.put(NS, f"k{n}", {"text": f"tea note {n} " + "word " * (n % 7)})
        real = store.word_counts.documents
        calls: list[int] = []

        def counted(cur: Any) -> tuple[int, int, int]:
            calls.append(1)
            return real(cur)

        monkeypatch.setattr(store.word_counts, "documents", counted)
        found = store.search(NS, query="tea note", limit=5)
        assert len(found) == 5
        assert len(calls) == 1


def test_the_reranker_reads_the_fields_of_the_index_after_a_reembed(pg_database: str) -> None:
    reranker = Scripted()
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}
    ranking = Ranking(rerank=reranker, rerank_depth=5)
    with PostgresStore.from_url(pg_database, index=index, ranking=ranking) as store:
        store.put(NS, "k", {"text": "alice drinks tea", "title": "morning habit"})
        store.search(NS, query="tea")
        store.reembed({"dims": 64, "embed": HashingEmbeddings(64), "fields": ["title"]})
        store.search(NS, query="tea")
    assert [texts for _, texts in reranker.calls] == [["alice drinks tea"], ["morning habit"]]
