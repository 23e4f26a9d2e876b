"""A query that shares a word with a Chinese, Japanese or Korean memory finds it lexically on
the embedded store (before, a run of CJK characters was one word: only the whole run matched),
and the FTS5 index, its word counts and the stored lengths follow writes of CJK texts."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, ranking
from tests.stores.test_term_docs import assert_exact

INDEX: Any = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}

MEMORIES = {
    "zh": "我住在东京，每天早上喝咖啡。",
    "ja": "来月、京都の美術館に行く予定です。",
    "ko": "저는 서울에 살아요. 주말에는 등산을 해요.",
    "en": "Alice lives in Lisbon and likes green tea.",
    "zh2": "他在上海的一家银行工作。",
}
QUERIES = [
    ("东京在哪里？", "zh", "东京"),
    ("京都の美術館", "ja", "美術"),
    ("서울에서 살아요?", "ko", "서울"),
    ("银行", "zh2", "银行"),
    ("Lisbon tea", "en", "lisbon"),
]


def _fill(store: SqliteStore) -> None:
    for key, text in MEMORIES.items():
        store.put(("m",), key, {"text": text})


@pytest.mark.parametrize(("query", "key", "term"), QUERIES)
def test_a_cjk_query_finds_the_memory_sharing_a_word(
    tmp_path: Path, query: str, key: str, term: str
) -> None:
    lexical = ranking.Ranking(dense_weight=0.0, thread_boost=0.0, recency_weight=0.0)
    with SqliteStore(tmp_path / "s.sqlite", index=INDEX, ranking=lexical) as store:
        _fill(store)
        (best, why), *rest = store.explain(("m",), query, limit=5)
        assert best.key == key
        assert term in dict(why.matched)
        assert why.bm25 > 0
        assert all(other.bm25 < why.bm25 for _, other in rest)


def test_the_index_holds_bigrams_and_the_counts_follow_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        _fill(store)
        assert_exact(path)
        store.put(("m",), "zh", {"text": "东京的咖啡很好喝"})  # the text changes
        store.delete(("m",), "ja")
        store.put(("m",), "mixed", {"text": "ＡＢＣ１２３ and ｶﾀｶﾅ"})
        assert_exact(path)
        conn = sqlite3.connect(path)
        try:
            words = {w for (w,) in conn.execute("SELECT term FROM langmem_fts_vocab")}
            rows = conn.execute(
                "SELECT text, lm_lexical, lm_length FROM langmem_vectors ORDER BY id"
            ).fetchall()
        finally:
            conn.close()
    assert {"东京", "咖啡", "서울", "abc123", "カタ"} <= words
    assert "我住在东京" not in words and "ａｂｃ１２３" not in words
    for text, lexical, stored in rows:
        assert lexical == (None if text.isascii() else ranking.lexical_text(text))
        assert stored == ranking.length(text)
