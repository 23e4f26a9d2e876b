"""The analyzer's two limits (docs/ranking.md, "Analyzer"): a word over ``MAX_WORD_BYTES``
(UTF-8) is not a term, and of a text over ``LEXICAL_CHARS`` bytes the lexical side reads the
first ``LEXICAL_CHARS`` characters. The SQLite store's FTS5 index reads what the analyzer reads
(migration 9), so its word counts and lexical candidates agree with PostgreSQL's
(tests/postgres/test_parity_long_words.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _migrations
from langmem.stores.ranking import (
    LEXICAL_CHARS,
    MAX_WORD_BYTES,
    analyze,
    forms,
    length,
    lexical_cut,
    query_terms,
    term_of,
)
from tests.stores.test_term_docs import assert_exact

INDEX: Any = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}
# distinct words past the cut: "needlelast" is beyond it
LONG = "needlefirst " + " ".join(f"w{i:06d}" for i in range(40_000)) + " needlelast"


def test_a_word_over_the_limit_is_no_term() -> None:
    at, over = "q" * MAX_WORD_BYTES, "q" * (MAX_WORD_BYTES + 1)
    assert analyze(f"{at} {over} tea") == [at, "tea"]
    assert length(f"{at} {over} tea") == 2
    assert term_of(over) == "" and term_of(at) == at
    assert query_terms(over) == [] and forms(over) == []
    cyrillic = "ж" * (MAX_WORD_BYTES // 2)  # the limit is in bytes: 2 per letter
    assert analyze(cyrillic) == [cyrillic] and analyze(cyrillic + "ж") == []
    assert analyze("é" * MAX_WORD_BYTES) == analyze("e" * MAX_WORD_BYTES) != []  # folded first
    squares = "㍿" * 200  # 200 characters, 800 once folded ("株式会社"): 2,400 bytes
    assert analyze(squares) == [] and length(squares) == 0
    stem = "k" * (MAX_WORD_BYTES - 2)  # a form over the limit is no form
    assert stem + "s" in forms(stem) and stem + "ing" not in forms(stem)


def test_the_lexical_side_reads_the_first_characters_of_a_long_text() -> None:
    assert lexical_cut("short") == "short"
    assert lexical_cut("é" * (LEXICAL_CHARS // 2)) == "é" * (LEXICAL_CHARS // 2)  # bytes: fits
    assert lexical_cut("é" * (LEXICAL_CHARS // 2 + 1)) == "é" * (LEXICAL_CHARS // 2 + 1)
    assert lexical_cut("x" * (LEXICAL_CHARS + 1)) == "x" * LEXICAL_CHARS
    assert "needlelast" not in analyze(LONG) and "needlefirst" in analyze(LONG)
    assert length(LONG) == len(analyze(lexical_cut(LONG)))


def test_sqlite_finds_what_the_analyzer_reads(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", index=INDEX)
    try:
        store.put(("a",), "long", {"text": LONG})
        store.put(("a",), "word", {"text": f"{'x' * (MAX_WORD_BYTES + 1)} tea"})
        store.put(("a",), "other", {"text": "needlelast and tea"})
        found = {h.key: w.matched for h, w in store.explain(("a",), "needlelast needlefirst")}
        assert found["long"] == {"needlefirst": 1} and found["other"] == {"needlelast": 1}
        assert store.search(("a",), query="x" * (MAX_WORD_BYTES + 5))  # answers
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        vocab = dict(conn.execute("SELECT term, doc FROM langmem_fts_vocab").fetchall())
    assert vocab["needlelast"] == 1 and vocab["needlefirst"] == 1
    assert_exact(tmp_path / "s.sqlite")


def test_a_nul_separates_words_in_a_text_of_any_length(tmp_path: Path) -> None:
    """A long text with an early NUL was cut at it (a short one was not): its words past the NUL
    were no terms, and FTS5 indexed them all the same."""
    long = "needlefirst\x00needleafter " + " ".join(f"w{i:06d}" for i in range(40_000))
    assert lexical_cut(long) == long[:LEXICAL_CHARS]
    assert "needleafter" in analyze(long) and "needleafter" in analyze("a\x00needleafter")
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path, index=INDEX)
    try:
        store.put(("a",), "long", {"text": long})
        store.put(("a",), "short", {"text": "needlefirst\x00needleafter tea"})
        found = {h.key: w.matched for h, w in store.explain(("a",), "needleafter")}
        assert found["long"] == {"needleafter": 1} and found["short"] == {"needleafter": 1}
    finally:
        store.close()
    assert_exact(path)


def test_migration_9_indexes_long_texts_again(tmp_path: Path) -> None:
    """A file whose index read a long text whole (before migration 9) reads its start only."""
    path = tmp_path / "old.sqlite"
    store = SqliteStore(path, index=INDEX)
    store.put(("a",), "long", {"text": LONG})
    store.close()
    with sqlite3.connect(path) as conn:  # as before migration 9: the triggers read every text
        for name, sql in [
            (
                "langmem_fts_added",
                "INSERT INTO langmem_fts (rowid, text) VALUES (new.id, new.text)",
            ),
            (
                "langmem_fts_removed",
                "INSERT INTO langmem_fts (langmem_fts, rowid, text)"
                " VALUES ('delete', old.id, old.text)",
            ),
            (
                "langmem_term_docs_removed",
                "INSERT INTO langmem_removed_texts (vector_id, text) VALUES (old.id, old.text)",
            ),
        ]:
            event = "INSERT" if name.endswith("added") else "DELETE"
            conn.execute(f"DROP TRIGGER {name}")
            conn.execute(f"CREATE TRIGGER {name} AFTER {event} ON langmem_vectors BEGIN {sql}; END")
        conn.execute("ALTER TABLE langmem_vectors DROP COLUMN lm_lexical")  # migration 9's
        conn.execute("INSERT INTO langmem_fts (langmem_fts) VALUES ('rebuild')")
        conn.execute("DELETE FROM langmem_term_docs")
        conn.execute("INSERT INTO langmem_term_docs SELECT term, doc FROM langmem_fts_vocab")
        conn.execute("DELETE FROM langmem_migrations WHERE v = 9")
        vocab = dict(conn.execute("SELECT term, doc FROM langmem_fts_vocab").fetchall())
    assert vocab.get("needlelast") == 1  # the premise
    assert _migrations.MIGRATIONS[8] is _migrations._lexical_texts  # the one deleted above
    store = SqliteStore(path, index=INDEX)
    try:
        with sqlite3.connect(path) as conn:
            vocab = dict(conn.execute("SELECT term, doc FROM langmem_fts_vocab").fetchall())
        assert "needlelast" not in vocab and vocab["needlefirst"] == 1
        assert_exact(path)
        store.delete(("a",), "long")  # removed as indexed
    finally:
        store.close()
    with sqlite3.connect(path) as conn:
        vocab = dict(conn.execute("SELECT term, doc FROM langmem_fts_vocab").fetchall())
    assert vocab == {}
    assert_exact(path)
