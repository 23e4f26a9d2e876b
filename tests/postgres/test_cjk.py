"""CJK texts rank the same on SQLite and PostgreSQL: both split CJK runs into bigrams (the
SQLite store's FTS5 index reads ``lm_lexical``, PostgreSQL's ``lm_words`` hold FTS5's words of
the same lexical text), and a database written before gets its CJK rows (only those) re-split
and re-measured by the schema step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore, PutOp

from langmem.stores import PostgresStore, SqliteStore, _pg_tokens
from langmem.stores._pg_schema import VECTOR_STEPS, _cjk_bigrams, fts5_counts
from langmem.stores.ranking import Ranking, length
from tests.postgres.test_parity import _assert_close, _rounded, _untied
from tests.postgres.test_parity_ties import TextVectors

LINES = [
    "我住在东京，每天早上喝咖啡。东京的咖啡很贵",
    "来月、京都の美術館に行く予定です。",
    "저는 서울에 살아요. 주말에는 등산을 해요. 서울 서울",
    "他在上海的一家银行工作，银行在东京也有分行。",
    "ＡＢＣ１２３ 2024年３月 ｶﾀｶﾅ カタカナ",
    "Alice在Google工作 日本語のテキスト",
    "猫 犬 鳥",
]
QUERIES = ["东京在哪里？", "京都の美術館", "서울에서 살아요?", "银行 东京", "abc123", "猫", "工作"]


def _index() -> dict[str, Any]:
    return {"dims": 16, "embed": TextVectors(), "fields": ["content"]}


def _writes() -> list[PutOp]:
    writes = []
    for i in range(36):
        line = LINES[i % len(LINES)]
        writes.append(PutOp(("a",) if i % 2 else ("b",), f"c{i:02d}", {"content": f"{line} {i}"}))
    for i in range(20):
        writes.append(PutOp(("a",), f"e{i:02d}", {"content": f"english filler {i} tea"}))
    return writes


def _explained(store: BaseStore) -> list[Any]:
    rows: list[Any] = []
    for query in QUERIES:
        for namespace in (("a",), ()):
            for hit, why in store.explain(namespace, query, limit=5):  # type: ignore[attr-defined]
                rows.append((query, hit.key, round(hit.score or 0.0, 5), _rounded(why)))
    return rows


def test_cjk_texts_rank_the_same_on_both_stores(tmp_path: Path, pg_database: str) -> None:
    ranking = Ranking(depth=3)  # few dense candidates: the lexical ones decide
    explained = []
    stores: list[Any] = [
        SqliteStore(tmp_path / "cjk.sqlite", index=_index(), ranking=ranking),  # type: ignore[arg-type]
        PostgresStore.from_url(pg_database, index=_index(), ranking=ranking),  # type: ignore[arg-type]
    ]
    for store in stores:
        try:
            store.batch(_writes())
            first = _explained(store)
            store.batch([PutOp(("a",), "c01", None), PutOp(("b",), "c02", {"content": "东京"})])
            explained.append(first + _explained(store))
        finally:
            store.close()
    sqlite_rows, postgres_rows = explained
    matched = [r for r in sqlite_rows if r[3]["bm25"] > 0]
    assert len(matched) > 20, "few lexical matches: proves little"
    assert any("东京" in dict(r[3]["matched"]) for r in matched)
    _assert_close(_untied(postgres_rows), _untied(sqlite_rows))


def test_rows_written_before_get_their_bigrams(pg_database: str) -> None:
    """As langmem wrote them before: each CJK run one word (FTS5's split of the text itself)
    and a length that counted it once; English rows are not rewritten."""
    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    cjk = "我住在东京 东京 ＡＢＣ１２３"
    try:
        store.put(("a",), "k", {"content": cjk})
        store.put(("a",), "j", {"content": "plain words"})
        with store._transaction() as cur:
            old = _pg_tokens._fts5_words([cjk])[0]
            assert old == ["我住在东京", "东京", "ａｂｃ１２３"]
            count, repeats = fts5_counts(old)
            cur.execute(
                "UPDATE store_vectors SET lm_words = array_to_tsvector(%s::text[]),"
                " lm_tokens = %s, lm_repeats = %s::jsonb, lm_length = 3 WHERE key = 'k'",
                (sorted(set(old)), count, repeats),
            )
            cur.execute("SELECT xmin::text AS x FROM store_vectors WHERE key = 'j'")
            english = cur.fetchone()["x"]
            step = VECTOR_STEPS.index(_cjk_bigrams)
            cur.execute("DELETE FROM langmem_vector_migrations WHERE v >= %s", (step,))
        store.setup()
        with store._transaction() as cur:
            cur.execute(
                "SELECT key, tsvector_to_array(lm_words) AS w, lm_tokens, lm_length,"
                " xmin::text AS x FROM store_vectors ORDER BY key"
            )
            rows = [tuple(r.values()) for r in cur.fetchall()]
        words = _pg_tokens.words(cjk)
        assert words == ["我住", "住在", "在东", "东京", "东京", "abc123"]
        assert rows[0] == ("j", ["plain", "words"], 2, 2, english)  # not rewritten
        assert rows[1][:4] == ("k", sorted(set(words)), 6, length(cjk))
        assert length(cjk) == 6
    finally:
        store.close()
