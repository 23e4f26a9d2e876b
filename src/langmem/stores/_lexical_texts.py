"""What the SQLite store's FTS5 index reads of each text: ``langmem_vectors.lm_lexical``.

FTS5's ``unicode61`` tokenizer would take a run of Chinese, Japanese or Korean characters as one
word, and would index all of a very long text. The lexical side wants a long text's first
``LEXICAL_CHARS`` characters (:func:`ranking.lexical_cut`; PostgreSQL cannot hold more words)
and, in those, each CJK run's overlapping bigrams (:mod:`._cjk`), and SQLite's Python module
cannot give FTS5 a tokenizer of ours, so the index reads a derived text instead: each vector row
holds, in ``lm_lexical``, :func:`ranking.lexical_text` of its text when that differs (the text
is over ``LEXICAL_CHARS`` bytes, or has a CJK character or a full-width form), else ``NULL``;
the index's triggers add and remove ``coalesce(lm_lexical, text)``. The column is written with
the row, in the same ``INSERT`` (:func:`langmem.stores._lengths.insert`), so the ``AFTER
INSERT`` trigger indexes it; a row that another SQLite client inserts without it is indexed by
its text, as before (all of it), and removed as it was indexed.

The index's external content table is still ``langmem_vectors`` (its ``text`` column): FTS5
reads that only for column values (never asked for) and for ``'rebuild'``, which this store does
not run after migration 9 (it would index the texts without their bigrams).

**Migration 9** (:func:`migration`) adds the column, replaces the three triggers that read the
indexed text (the index's two, and ``langmem_term_docs``'s removed-text trigger), and re-derives
only the rows whose lexical text differs: each leaves the index with its old words and comes
back with its lexical text's, and the word counts (``langmem_term_docs``) move with it. The
analyzed lengths (``lm_length``) are counted again only where the analyzer's terms may have
changed: those rows, the other non-ASCII texts and the ASCII texts holding a word over
``MAX_WORD_BYTES`` (no longer a term); every other length stays (when the file was counted by
:data:`LENGTHS_BEFORE`'s analyzer, else all are counted once when the store opens). A store of
short English texts has none: the migration reads its few long and non-ASCII texts and changes
nothing else.
"""

from __future__ import annotations

import re
import sqlite3

from langmem.stores import ranking

LENGTHS_BEFORE = "v1:98dcb7fd8800e08e7b634a9c"
"""``_lengths.analyzer()`` of langmem before CJK bigrams (migration 8's code)."""
LENGTHS_AFTER = "v1:6e8e33c48f1af30cc72c5c05"
"""``_lengths.analyzer()`` with them, the cut of long texts and the long-word rule: the analyzer
migration 9 was written for. It differs from :data:`LENGTHS_BEFORE` only on texts that
:func:`derived` changes, non-ASCII texts and texts holding a word over ``MAX_WORD_BYTES``, so
the migration re-counts those alone (any other analyzer: every length is re-counted when the
store opens)."""

_TRIGGERS = (
    "DROP TRIGGER IF EXISTS langmem_fts_added",
    "DROP TRIGGER IF EXISTS langmem_fts_removed",
    "CREATE TRIGGER langmem_fts_added AFTER INSERT ON langmem_vectors BEGIN"
    " INSERT INTO langmem_fts (rowid, text)"
    " VALUES (new.id, coalesce(new.lm_lexical, new.text)); END",
    "CREATE TRIGGER langmem_fts_removed AFTER DELETE ON langmem_vectors BEGIN"
    " INSERT INTO langmem_fts (langmem_fts, rowid, text)"
    " VALUES ('delete', old.id, coalesce(old.lm_lexical, old.text)); END",
)
_REMOVED_TRIGGER = (
    "DROP TRIGGER IF EXISTS langmem_term_docs_removed",
    "CREATE TRIGGER langmem_term_docs_removed AFTER DELETE ON langmem_vectors BEGIN"
    " INSERT INTO langmem_removed_texts (vector_id, text)"
    " VALUES (old.id, coalesce(old.lm_lexical, old.text)); END",
)


def derived(text: str) -> str | None:
    """``lm_lexical`` of a row holding ``text``: its lexical text, ``None`` when the same."""
    if text.isascii() and len(text) <= ranking.LEXICAL_CHARS:  # neither cut nor bigrams
        return None
    lexical = ranking.lexical_text(text)
    return None if lexical == text else lexical


_LONG_ASCII_WORD = re.compile(f"[A-Za-z0-9]{{{ranking.MAX_WORD_BYTES + 1}}}")
"""An ASCII text's word over ``MAX_WORD_BYTES`` (an ASCII text folds to as many characters)."""


def migration(conn: sqlite3.Connection) -> None:
    """Migration 9 (see the module)."""
    from langmem.stores import _lengths, _term_docs  # they import this module

    conn.execute("ALTER TABLE langmem_vectors ADD COLUMN lm_lexical TEXT")
    row = conn.execute("SELECT value FROM langmem_meta WHERE key = 'fts5'").fetchone()
    indexed = row is not None and row[0] == "1"
    counted = indexed and _exists(conn, _term_docs.TABLE)
    if indexed:
        for statement in _TRIGGERS:
            conn.execute(statement)
    if counted:
        for statement in _REMOVED_TRIGGER:
            conn.execute(statement)
    lengths = _lengths.stored_by(conn) == LENGTHS_BEFORE and _lengths.analyzer() == LENGTHS_AFTER
    changed: list[tuple[int, str, str]] = []
    recounted: list[tuple[int, int]] = []
    for vector_id, text, stored in conn.execute(
        "SELECT id, text, lm_length FROM langmem_vectors"
        " WHERE length(CAST(text AS BLOB)) != length(text)"  # a byte past ASCII (or a NUL)
        f" OR length(CAST(text AS BLOB)) > {ranking.MAX_WORD_BYTES}"  # may hold a long word
    ):
        lexical = derived(text)
        if lexical is not None:
            changed.append((vector_id, text, lexical))
        maybe = lexical is not None or not text.isascii() or _LONG_ASCII_WORD.search(text)
        # the analyzer's terms of this text may have changed: count them again
        if lengths and maybe and (counted_now := ranking.length(text)) != stored:
            recounted.append((counted_now, vector_id))
    if lengths:
        _lengths.record(conn)
        conn.executemany("UPDATE langmem_vectors SET lm_length = ? WHERE id = ?", recounted)
    if not changed:
        return
    conn.executemany(
        "UPDATE langmem_vectors SET lm_lexical = ? WHERE id = ?",
        [(lexical, vector_id) for vector_id, _, lexical in changed],
    )
    if not indexed:
        return
    in_step = counted and _term_docs.in_step(conn)
    conn.executemany(
        "INSERT INTO langmem_fts (langmem_fts, rowid, text) VALUES ('delete', ?, ?)",
        [(vector_id, text) for vector_id, text, _ in changed],
    )
    conn.executemany(
        "INSERT INTO langmem_fts (rowid, text) VALUES (?, ?)",
        [(vector_id, lexical) for vector_id, _, lexical in changed],
    )
    if in_step:  # the counts move with the words: the old ones out, the new ones in
        _term_docs.replace(conn, [t for _, t, _ in changed], [x for _, _, x in changed])
    elif counted:  # behind another writer's changes: counted again from the index
        _term_docs.rebuild(conn)


def _exists(conn: sqlite3.Connection, table: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return found is not None
