"""A long text that holds CJK runs: both stores read the same lexical text of it, cut first
(``ranking.lexical_cut``: the first ``LEXICAL_CHARS`` characters of a text over that many
bytes, a CJK character counting two), then bigrammed. The SQLite store's FTS5 index reads it
from ``lm_lexical``, PostgreSQL's ``lm_words`` hold its words whole (a cut of 250,000 Han
characters gave 1.75 MB of distinct bigrams, past the 1 MB a ``tsvector`` holds, and
``array_to_tsvector`` mangled 30% of them), and both rank alike."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore, PutOp

from langmem.stores import PostgresStore, SqliteStore, _pg_tokens, ranking
from tests.postgres.test_parity import _assert_close, _rounded, _untied
from tests.postgres.test_parity_ties import TextVectors

_RND = random.Random(7)
_HAN = "".join(chr(0x4E00 + _RND.randrange(10_000)) for _ in range(300_000))  # no Hangul
LONG = "needlefirst 东京 " + _HAN + " 서울 needlelast"
CUT = ranking.lexical_cut(LONG)
KEPT = CUT[-6:-4]  # a bigram near the end of what is read
PAST = LONG[len(CUT) + 100 : len(CUT) + 102]  # a bigram after it
TEXTS = {
    "long": LONG,
    "mixed": "东京 " + _HAN[:40] + " Tokyo needlefirst " + " ".join(["filler"] * 60_000),
    "short": "我住在东京 서울",
    "plain": "alpha beta needlelast",
}
QUERIES = ["needlefirst", "东京", "서울", "needlelast", KEPT, PAST, "東京 Tokyo", _HAN[10:30]]


def _index() -> dict[str, Any]:
    return {"dims": 16, "embed": TextVectors(), "fields": ["content"]}


def _explained(store: BaseStore) -> list[Any]:
    rows: list[Any] = []
    for query in QUERIES:
        for hit, why in store.explain(("a",), query, limit=4):  # type: ignore[attr-defined]
            rows.append((query, hit.key, round(hit.score or 0.0, 5), _rounded(why)))
    return rows


def test_a_long_cjk_text_is_cut_then_bigrammed_alike_on_both_stores(
    tmp_path: Path, pg_database: str
) -> None:
    assert len(LONG.encode()) > ranking.LEXICAL_CHARS and PAST not in CUT  # the premises
    lexical = ranking.lexical_text(LONG)
    words = ranking.tokens(LONG)
    assert lexical.split() == words  # the analyzer splits the lexical text
    assert "서울" not in words and "needlelast" not in words and KEPT in words
    assert len(" ".join(dict.fromkeys(words)).encode()) < 1_000_000  # one tsvector holds it
    path = tmp_path / "long.sqlite"
    explained = []
    stores: list[Any] = [
        SqliteStore(path, index=_index(), ranking=ranking.Ranking(depth=2)),  # type: ignore[arg-type]
        PostgresStore.from_url(pg_database, index=_index(), ranking=ranking.Ranking(depth=2)),  # type: ignore[arg-type]
    ]
    for store in stores:
        try:
            store.batch([PutOp(("a",), key, {"content": text}) for key, text in TEXTS.items()])
            explained.append(_explained(store))
            if isinstance(store, PostgresStore):
                with store._transaction() as cur:
                    cur.execute(
                        "SELECT tsvector_to_array(lm_words) AS w FROM store_vectors"
                        " WHERE key = 'long'"
                    )
                    held = cur.fetchone()["w"]
                assert sorted(held) == sorted(set(_pg_tokens.words(LONG)))  # none mangled
                assert set(held) == set(words)
        finally:
            store.close()
    conn = sqlite3.connect(path)
    try:
        (stored,) = conn.execute(
            "SELECT v.lm_lexical FROM langmem_vectors v JOIN langmem_items i ON i.id = v.item_id"
            " WHERE i.key = 'long'"
        ).fetchone()
    finally:
        conn.close()
    assert stored == lexical
    sqlite_rows, postgres_rows = explained
    matched = {(q, key): dict(parts["matched"]) for q, key, _, parts in sqlite_rows}
    assert matched["needlefirst", "long"] == {"needlefirst": 1}
    assert matched["东京", "long"] == {"东京": 1}
    assert ("서울", "long") not in matched or matched["서울", "long"] == {}
    assert matched[KEPT, "long"].get(KEPT, 0) >= 1
    assert ("needlelast", "long") not in matched or matched["needlelast", "long"] == {}
    _assert_close(_untied(postgres_rows), _untied(sqlite_rows))
