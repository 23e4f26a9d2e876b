"""Very long words and very long texts: both stores answer, and rank alike.

PostgreSQL holds at most 2047 bytes per word of a ``tsquery`` or ``tsvector`` and 1 MB of a
text's words. A query word of about 2,046 characters (its forms add up to 5) made
``PostgresStore.search`` fail with "word is too long in tsquery", raised as a
``StoreConnectionError``; ``array_to_tsvector`` stored a longer word, or a text's words past
1 MB, mangled (a word's length modulo 2048), so such a text ranked otherwise than on SQLite.
The analyzer's rule now holds on both stores: a word over ``MAX_WORD_BYTES`` (UTF-8) is not a
term, and the lexical side reads the first ``LEXICAL_CHARS`` characters of a text over that
many bytes (docs/ranking.md, "Analyzer").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore, PutOp

from langmem.stores import PostgresStore, SqliteStore
from langmem.stores.ranking import LEXICAL_CHARS, MAX_WORD_BYTES, Ranking
from tests.postgres.test_parity import _assert_close, _rounded, _untied
from tests.postgres.test_parity_ties import TextVectors

AT_LIMIT = "q" * MAX_WORD_BYTES  # a term: found on both stores
OVER = "x" * (MAX_WORD_BYTES + 1)  # not a term
TSQUERY_BREAKER = "y" * 2046  # its forms ("...ying") passed PostgreSQL's 2047 bytes
MULTIBYTE_AT = "ж" * (MAX_WORD_BYTES // 2)  # 2000 bytes in UTF-8: a term
MULTIBYTE_OVER = "ก" * 667  # 2001 bytes, 667 characters: not a term (CJK would be bigrams)
STEM_OVER = "s" * (MAX_WORD_BYTES - 2) + "ing"  # its stem fits, the word does not
# distinct words past 1 MB, with "needlefirst" near the start and "needlelast" past the cut
MANY = "needlefirst " + " ".join(f"w{i:07d}" for i in range(130_000)) + " needlelast"

TEXTS = {
    "at": f"note {AT_LIMIT} alpha",
    "over": f"note {OVER} alpha",
    "yy": f"{TSQUERY_BREAKER} beta",
    "mb": f"{MULTIBYTE_AT} gamma {MULTIBYTE_OVER}",
    "stem": f"{STEM_OVER} {'s' * (MAX_WORD_BYTES - 2)} delta",
    "blob": "z" * 1_000_000,
    "many": MANY,
    "plain": "alpha beta gamma delta w0000001 note",
}
QUERIES = [
    AT_LIMIT,
    OVER,
    TSQUERY_BREAKER,
    "y" * 3000 + " beta",
    MULTIBYTE_AT,
    MULTIBYTE_OVER + " gamma",
    STEM_OVER,
    "s" * (MAX_WORD_BYTES - 2),
    "z" * 1_000_000,
    " ".join([OVER] * 5 + [MULTIBYTE_OVER] * 5 + ["alpha"]),
    "needlefirst",
    "needlelast w0000001",
    " ".join(f"w{i:07d}" for i in range(0, 20_000, 2)),  # 10,000 words held by one text
    "note alpha",
]


def _index() -> dict[str, Any]:
    return {"dims": 16, "embed": TextVectors(), "fields": ["content"]}


def _explained(store: BaseStore) -> list[Any]:
    rows: list[Any] = []
    for n, query in enumerate(QUERIES):
        hits = store.search(("a",), query=query, limit=4)
        explained = store.explain(("a",), query, limit=4)  # type: ignore[attr-defined]
        assert [h.key for h in hits] == [h.key for h, _ in explained]
        for hit, why in explained:
            rows.append((n, hit.key, round(hit.score or 0.0, 5), _rounded(why)))
    return rows


def test_long_words_and_texts_rank_the_same_on_both_stores(
    tmp_path: Path, pg_database: str
) -> None:
    explained = []
    stores: list[Any] = [
        SqliteStore(tmp_path / "long.sqlite", index=_index(), ranking=Ranking(depth=2)),  # type: ignore[arg-type]
        PostgresStore.from_url(pg_database, index=_index(), ranking=Ranking(depth=2)),  # type: ignore[arg-type]
    ]
    for store in stores:
        try:
            store.batch([PutOp(("a",), key, {"content": text}) for key, text in TEXTS.items()])
            explained.append(_explained(store))
        finally:
            store.close()
    sqlite_rows, postgres_rows = explained
    matched = {(n, key): parts["matched"] for n, key, _, parts in sqlite_rows}
    assert matched[0, "at"] == {AT_LIMIT: 1}  # a word at the limit is found
    assert all(parts["matched"] == {} for n, _, _, parts in sqlite_rows if n in (1, 2, 8))
    assert matched[4, "mb"] == {MULTIBYTE_AT: 1}
    assert matched[5, "mb"] == {"gamma": 1}
    assert matched.get((6, "stem"), {}) == {}  # "s...sing" is over the limit: not a form
    assert matched[7, "stem"] == {"s" * (MAX_WORD_BYTES - 2): 1}
    assert matched[10, "many"] == {"needlefirst": 1}
    assert "needlelast" not in matched.get((11, "many"), {})
    assert len(matched[12, "many"]) == 10_000
    _assert_close(_untied(postgres_rows), _untied(sqlite_rows))


def test_postgres_keeps_only_whole_words_that_fit(pg_database: str) -> None:
    """``lm_words`` holds each text's words that are terms, unmangled, within 1 MB."""
    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        store.batch([PutOp(("a",), key, {"content": text}) for key, text in TEXTS.items()])
        with store._transaction() as cur:
            cur.execute(
                "SELECT key, tsvector_to_array(lm_words) AS w, lm_tokens FROM store_vectors"
            )
            rows = {r["key"]: (r["w"], r["lm_tokens"]) for r in cur.fetchall()}
    finally:
        store.close()
    assert sorted(rows["at"][0]) == sorted(["note", AT_LIMIT, "alpha"])
    assert sorted(rows["over"][0]) == ["alpha", "note"] and rows["over"][1] == 3
    assert rows["blob"] == ([], 1)  # the word still counts in FTS5's length, as on SQLite
    assert "needlefirst" in rows["many"][0] and "needlelast" not in rows["many"][0]
    assert sum(len(w.encode()) for w in rows["many"][0]) <= 4 * LEXICAL_CHARS


@pytest.mark.parametrize("query", [TSQUERY_BREAKER, MULTIBYTE_OVER * 3, " ".join([OVER] * 50)])
def test_a_long_query_word_is_no_connection_error(pg_database: str, query: str) -> None:
    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        store.put(("a",), "k", {"content": "hello world"})
        assert [h.key for h in store.search(("a",), query=query)] == ["k"]
    finally:
        store.close()


def test_rows_written_before_get_their_words_again(pg_database: str) -> None:
    """The schema step re-splits the texts that ``array_to_tsvector`` stored mangled."""
    from langmem.stores import _pg_schema

    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        store.put(("a",), "k", {"content": f"{OVER} alpha alpha"})
        store.put(("a",), "j", {"content": "plain words"})
        with store._transaction() as cur:  # as the old rule wrote them
            cur.execute(
                "UPDATE store_vectors SET lm_words = array_to_tsvector(%s::text[]),"
                " lm_length = 3 WHERE key = 'k'",
                ([OVER, "alpha"],),
            )
            step = _pg_schema.VECTOR_STEPS.index(_pg_schema._long_words)
            cur.execute("DELETE FROM langmem_vector_migrations WHERE v >= %s", (step,))
        store.setup()
        with store._transaction() as cur:
            cur.execute(
                "SELECT key, tsvector_to_array(lm_words) AS w, lm_length, lm_tokens"
                " FROM store_vectors ORDER BY key"
            )
            rows = [tuple(r.values()) for r in cur.fetchall()]
        assert rows == [("j", ["plain", "words"], 2, 2), ("k", ["alpha"], 2, 3)]
    finally:
        store.close()


def test_a_short_text_whose_word_folds_past_the_limit_is_counted_again(
    tmp_path: Path, pg_database: str
) -> None:
    """A character may fold to up to 18 (NFKD): '\\u3300' * 200 is 600 bytes, one word before
    the long-word rule, and folds to 2,400 bytes, no term now. SQLite's migration 9 recounts
    such a text; the PostgreSQL step read only texts over 2,000 bytes and kept the old words
    and length, so the stores ranked otherwise after upgrading."""
    from langmem.stores import _pg_schema

    texts = {
        "fold": "\u3300" * 200 + " kiwi",
        "cafe": "café kiwi crème kiwi",
        "tea": "kiwi tea",
    }
    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    columns = (
        "SELECT key, tsvector_to_array(lm_words) AS w, lm_length, lm_tokens, lm_repeats,"
        " xmin::text AS x FROM store_vectors ORDER BY key"
    )
    try:
        for key, text in texts.items():
            store.put(("a",), key, {"content": text})
        with store._transaction() as cur:
            cur.execute(columns)
            fresh = [tuple(r.values())[:-1] for r in cur.fetchall()]
            assert fresh[1][:3] == ("fold", ["kiwi"], 1)  # the premise: no term, one word
            cur.execute(  # as langmem 4ff5dc3 wrote it: the word kept, two words long
                "UPDATE store_vectors SET lm_words = array_to_tsvector(%s::text[]),"
                " lm_length = 2 WHERE key = 'fold'",
                (["\u3300" * 200, "kiwi"],),
            )
            cur.execute(columns)
            untouched = {r["key"]: r["x"] for r in cur.fetchall() if r["key"] != "fold"}
            step = _pg_schema.VECTOR_STEPS.index(_pg_schema._long_words)
            cur.execute("DELETE FROM langmem_vector_migrations WHERE v >= %s", (step,))
        for _ in range(2):  # run again, it writes nothing
            store.setup()
            with store._transaction() as cur:
                cur.execute(columns)
                rows = cur.fetchall()
                cur.execute("DELETE FROM langmem_vector_migrations WHERE v >= %s", (step,))
            assert [tuple(r.values())[:-1] for r in rows] == fresh
            assert {r["key"]: r["x"] for r in rows if r["key"] in untouched} == untouched
            untouched = {r["key"]: r["x"] for r in rows}  # the second run: the fold row too
        store.setup()
        postgres_rows = [
            (h.key, round(h.score or 0.0, 5)) for h in store.search(("a",), query="kiwi")
        ]
    finally:
        store.close()
    sqlite = SqliteStore(tmp_path / "s.sqlite", index=_index())  # type: ignore[arg-type]
    try:
        for key, text in texts.items():
            sqlite.put(("a",), key, {"content": text})
        sqlite_rows = [
            (h.key, round(h.score or 0.0, 5)) for h in sqlite.search(("a",), query="kiwi")
        ]
    finally:
        sqlite.close()
    _assert_close(postgres_rows, sqlite_rows)
