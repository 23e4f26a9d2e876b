"""langmem rewriting a text with a new embedding keeps its words: the trigger that clears the
text columns of a row whose embedding changes under the same text (LangGraph's re-put,
``langmem.stores._pg_untexted``) must never fire on langmem's own writes, which delete a row
before inserting it again."""

from __future__ import annotations

from typing import Any

import psycopg

from langmem.stores import PostgresStore
from tests.postgres.test_reembed import Counting


def _rows(url: str) -> dict[str, tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT key, lm_text, lm_words::text, lm_length, lm_tokens, embedding::text"
            " FROM store_vectors"
        ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def test_the_same_text_with_a_new_embedding_keeps_its_words(pg_database: str) -> None:
    first = {"dims": 16, "embed": Counting(16, salt="a"), "fields": ["text"]}
    second = {"dims": 16, "embed": Counting(16, salt="b"), "fields": ["text"]}
    store = PostgresStore.from_url(pg_database, index=first)
    try:
        store.put(("n",), "k", {"text": "kiwi tea and kiwi"})
        before = _rows(pg_database)["k"]
        assert before[1] and before[2] == 3  # the premise: words and a length ("and" is no term)
        assert store.reembed(second) == 1  # every row again, same text, new embedding
    finally:
        store.close()
    after = _rows(pg_database)["k"]
    assert after[:4] == before[:4] and after[4] != before[4]
    store = PostgresStore.from_url(pg_database, index=second)
    try:
        store.put(("n",), "k", {"text": "kiwi tea and kiwi"})  # rewritten, as it is
        assert _rows(pg_database)["k"] == after
        assert [h.key for h in store.search(("n",), query="kiwi")] == ["k"]
    finally:
        store.close()
