"""SQLite and PostgreSQL rank non-ASCII texts the same: the lexical candidates, each word's
document count and FTS5's ``bm25()`` read the words that the SQLite store's FTS5 tokenizer
(``unicode61 remove_diacritics 2``) finds, on both stores.

Before, PostgreSQL split every text with :func:`ranking.tokens`, which matches FTS5 on ASCII
only: it folds ligatures, full-width letters, superscripts, Roman numerals and ``㎏`` by
Unicode's compatibility decomposition, drops the tonos FTS5 keeps on ``Ί`` and folds a final
sigma, where FTS5 keeps them; so the same query found other candidates with other counts."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore, PutOp

from langmem.stores import PostgresStore, SqliteStore, _pg_tokens
from langmem.stores._pg_schema import VECTOR_STEPS
from langmem.stores.ranking import Ranking, lexical_text, tokens
from tests.postgres.test_parity import _assert_close, _rounded, _untied
from tests.postgres.test_parity_ties import TextVectors

# words FTS5 and Unicode's decompositions split alike (accents, case, CJK, emoji, Turkish,
# ß, combining marks, other scripts' digits) and ones they split differently
SAME = [
    "Café naïve résumé",
    "Straße STRASSE",
    "İstanbul ıslak ISTANBUL",
    "e\u0301te\u0301 cafe\u0301",
    "东京 東京タワー 北京大学",
    "🎉party🎉 😀 emoji",
    "٣٤٥ ۱۲ १२३ digits",
    "ÅNGSTRÖM Łódź Œuvre æther",
    "Ａｂｃ１２３ full width",  # the index reads them as ASCII (ranking.lexical_text)
]
DIFFERENT = [
    "ﬁnal ﬂow ﬀ ﬆ",
    "x² H₂O formula",
    "ΣΊΣΥΦΟΣ Ωmega",
    "Ǆemal ǈubljana",
    "ⅷ Ⅻ roman",
    "㎏ ① ② units",
]
QUERIES = [
    "final flow",
    "ﬁnal",
    "abc123 Ａｂｃ１２３",
    "x2 x² h2o",
    "σισυφος ΣΊΣΥΦΟΣ",
    "dzemal ljubljana ǆemal",
    "viii xii ⅷ",
    "kg ①②",
    "cafe naive istanbul",
    "東京タワー 北京大学",
    "strasse straße ete",
    "٣٤٥ १२३ party",
]


def test_the_tokenizer_is_the_sqlite_stores(tmp_path: Path) -> None:
    from langmem.stores import _term_docs

    SqliteStore(tmp_path / "t.sqlite", index=_index()).close()  # type: ignore[arg-type]
    with sqlite3.connect(tmp_path / "t.sqlite") as conn:
        assert _term_docs._tokenizer(conn) == _pg_tokens.TOKENIZER


@pytest.mark.parametrize("text", SAME + DIFFERENT + ["plain ascii text, 07:45", ""])
def test_words_are_fts5s(tmp_path: Path, text: str) -> None:
    """:func:`_pg_tokens.words` against the SQLite store's own FTS5 index (which reads each
    text's :func:`ranking.lexical_text`: CJK runs as bigrams, full-width forms as ASCII)."""
    with sqlite3.connect(":memory:") as conn:
        conn.execute(f"CREATE VIRTUAL TABLE f USING fts5(t, tokenize='{_pg_tokens.TOKENIZER}')")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance')")
        conn.execute("INSERT INTO f (rowid, t) VALUES (1, ?)", (lexical_text(text),))
        expected = [w for (w,) in conn.execute("SELECT term FROM v ORDER BY offset")]
    assert _pg_tokens.words(text) == expected
    if text in DIFFERENT:  # the premise: Unicode's decompositions split these otherwise
        assert tokens(text) != expected


def _index() -> dict[str, Any]:
    return {"dims": 16, "embed": TextVectors(), "fields": ["content"]}


def _writes() -> list[PutOp]:
    """Each line in several texts (many matches: the FTS5 cut decides), in two namespaces,
    with repeats and padding (``bm25()`` reads both), and ASCII texts holding the folded
    words (``final``, ``abc123``...)."""
    writes: list[PutOp] = []
    lines = SAME + DIFFERENT
    for i in range(40):
        ns = ("a",) if i % 2 else ("b",)
        line = lines[i % len(lines)]
        repeat = " ".join([line.split()[0]] * (1 + i % 3))
        writes.append(PutOp(ns, f"u{i:02d}", {"content": f"{repeat} {line} n{i}"}))
    for i, text in enumerate(
        ["final flow", "abc123", "x2 h2o", "sisyphos", "dzemal", "viii xii", "kg 12"] * 3
    ):
        writes.append(PutOp(("a",) if i % 2 else ("b",), f"p{i:02d}", {"content": text}))
    for i in range(30):
        writes.append(PutOp(("a",), f"fill{i:02d}", {"content": f"f{i} x"}))
    return writes


def _explained(store: BaseStore) -> list[Any]:
    rows: list[Any] = []
    for query in QUERIES:
        for namespace in (("a",), ()):
            for hit, why in store.explain(namespace, query, limit=4):  # type: ignore[attr-defined]
                rows.append((query, hit.key, round(hit.score or 0.0, 5), _rounded(why)))
    return rows


def test_non_ascii_texts_rank_the_same_on_both_stores(tmp_path: Path, pg_database: str) -> None:
    ranking = Ranking(depth=2)  # few dense candidates: the lexical ones decide
    explained = []
    stores: list[Any] = [
        SqliteStore(tmp_path / "unicode.sqlite", index=_index(), ranking=ranking),  # type: ignore[arg-type]
        PostgresStore.from_url(pg_database, index=_index(), ranking=ranking),  # type: ignore[arg-type]
    ]
    for store in stores:
        try:
            store.batch(_writes())
            first = _explained(store)
            store.batch([PutOp(("a",), "u01", None), PutOp(("b",), "u02", {"content": "ﬁnal"})])
            explained.append(first + _explained(store))
        finally:
            store.close()
    sqlite_rows, postgres_rows = explained
    assert sum(r[3]["bm25"] > 0 for r in sqlite_rows) > 20, "few lexical matches: proves little"
    _assert_close(_untied(postgres_rows), _untied(sqlite_rows))


def test_rows_written_before_get_fts5s_words(pg_database: str) -> None:
    """The schema step re-splits the non-ASCII texts written with the old rule, and fills the
    word counts of texts an older writer left without them (any set-up does that)."""
    from langmem.stores._pg_schema import fts5_counts

    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        store.put(("a",), "k", {"content": "ﬁnal ﬁnal ΣΊΣΥΦΟΣ"})
        store.put(("a",), "j", {"content": "plain words"})
        with store._transaction() as cur:  # as the old rule wrote them
            old = tokens("ﬁnal ﬁnal ΣΊΣΥΦΟΣ")
            count, repeats = fts5_counts(old)
            cur.execute(
                "UPDATE store_vectors SET lm_words = array_to_tsvector(%s::text[]),"
                " lm_tokens = %s, lm_repeats = %s::jsonb WHERE key = 'k'",
                (sorted(set(old)), count, repeats),
            )
            step = VECTOR_STEPS.index(_pg_schema_step())
            cur.execute("DELETE FROM langmem_vector_migrations WHERE v >= %s", (step,))
        store.setup()
        with store._transaction() as cur:
            cur.execute(
                "SELECT key, tsvector_to_array(lm_words) AS w, lm_tokens, lm_repeats"
                " FROM store_vectors ORDER BY key"
            )
            rows = [tuple(r.values()) for r in cur.fetchall()]
        assert rows == [
            ("j", ["plain", "words"], 2, None),
            ("k", sorted(["ﬁnal", "σίσυφοσ"]), 3, {"ﬁnal": 2}),
        ]
        with store._transaction() as cur:  # older writers' rows: no word counts
            cur.execute("UPDATE store_vectors SET lm_tokens = NULL, lm_repeats = NULL")
            cur.execute(  # as langmem before session 8 wrote a row (it names no lm_seq)
                "INSERT INTO store (prefix, key, value) VALUES ('a', 'old', %s)",
                ('{"content": "old old words"}',),
            )
            cur.execute(
                "INSERT INTO store_vectors (prefix, key, field_name, embedding, lm_text,"
                " lm_words, lm_length) SELECT 'a', 'old', 'content', embedding,"
                " 'old old words', array_to_tsvector('{old,words}'::text[]), 3"
                " FROM store_vectors WHERE key = 'j'"
            )
        store.setup()
        with store._transaction() as cur:
            cur.execute(
                "SELECT key, lm_tokens, lm_repeats, lm_seq IS NOT NULL AS placed"
                " FROM store_vectors ORDER BY key"
            )
            assert [tuple(r.values()) for r in cur.fetchall()] == [
                ("j", 2, None, True),
                ("k", 3, {"ﬁnal": 2}, True),
                ("old", 3, {"old": 2}, True),  # its place: the column's default
            ]
    finally:
        store.close()


def _pg_schema_step() -> Any:
    from langmem.stores import _pg_schema

    return _pg_schema._fts5_words
