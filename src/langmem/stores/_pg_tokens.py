"""Words as the embedded store's FTS5 index splits them, for PostgreSQL's lexical columns.

PostgreSQL picks its lexical candidates as SQLite does, by FTS5's ``bm25()`` over each text's
words (``store_vectors.lm_words``, ``lm_tokens``, ``lm_repeats``: :mod:`._pg_lexical`), so a
text's words must be the ones FTS5's tokenizer (:data:`TOKENIZER`, the SQLite store's schema)
finds in it. For ASCII texts :func:`ranking.tokens` finds exactly those (tested). Other texts
differ in many small ways that no table of ours would follow across SQLite versions (FTS5 keeps
ligatures, full-width letters, superscripts and Roman numerals as they are, where Unicode's
compatibility decomposition splits them; it keeps Greek tonos on some letters and does not fold
a final sigma; its letters are those of the Unicode version its tables were built from). So
they are split by FTS5 itself, as the SQLite store counts their words (``_term_docs``): the
texts go through a contentless FTS5 table in a private in-memory SQLite database (one per
thread), and its ``fts5vocab`` instance table gives each text's words in order.

Both split a text's :func:`ranking.lexical_text`, what the SQLite store's index reads: the
first ``LEXICAL_CHARS`` characters of a longer text (:func:`ranking.lexical_cut`), CJK runs
as bigrams. :func:`lexemes` leaves out words longer than :data:`ranking.MAX_WORD_BYTES`, which
no query looks up: a ``tsvector`` then always holds its text's words (PostgreSQL's
``array_to_tsvector`` silently mangles a word over 2047 bytes and a vector over 1 MB, instead
of refusing them).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from contextlib import closing
from functools import cache

from langmem.stores._analyzer import FAST_WORD, fits
from langmem.stores.ranking import lexical_text, tokens

TOKENIZER = "unicode61 remove_diacritics 2"
"""The ``tokenize`` option of the SQLite store's FTS5 index (``_migrations``, migration 3;
a test checks they are the same)."""

_local = threading.local()
"""A word of at most this many characters fits in any script (4 bytes at most each)."""


def words(text: str) -> list[str]:
    """The words of ``text`` in order, as the FTS5 index splits them (see the module)."""
    return words_of([text])[0]


def lexemes(words: Sequence[str]) -> str:
    """The distinct ``words`` short enough to be terms, in order, joined by spaces: a text's
    ``lm_words`` as ``array_to_tsvector(string_to_array(..., ' '))`` reads it."""
    distinct = dict.fromkeys(words)
    if not distinct or max(map(len, distinct)) <= FAST_WORD:  # no word can be too long
        return " ".join(distinct)
    return " ".join(word for word in distinct if fits(word))


def words_of(texts: Sequence[str]) -> list[list[str]]:
    """:func:`words` of each of ``texts`` (the non-ASCII ones through FTS5 together, as their
    :func:`ranking.lexical_text`: what the SQLite store's index reads)."""
    out: list[list[str] | None] = [tokens(t) if _plain(t) else None for t in texts]
    others = [n for n, found in enumerate(out) if found is None]
    if others:
        split = _fts5_words([lexical_text(texts[n]) for n in others])
        for n, found in zip(others, split):
            out[n] = found
    return [found if found is not None else [] for found in out]


def _plain(text: str) -> bool:
    return text.isascii() and "\x00" not in text


def _fts5_words(texts: list[str]) -> list[list[str]]:
    """Each text's words by FTS5 (:func:`ranking.tokens` when this SQLite has no FTS5: the
    SQLite store then has no lexical side to match)."""
    conn = _connection()
    if conn is None:
        return [tokens(t) for t in texts]
    found: list[list[str]] = [[] for _ in texts]
    with conn:
        conn.executemany(
            "INSERT INTO temp.words (rowid, text) VALUES (?, ?)",
            [(n + 1, text) for n, text in enumerate(texts)],
        )
        for word, doc in conn.execute(
            "SELECT term, doc FROM temp.words_instance ORDER BY doc, offset"
        ):
            found[int(doc) - 1].append(str(word))
        conn.execute("INSERT INTO temp.words (words) VALUES ('delete-all')")
    return found


def _connection() -> sqlite3.Connection | None:
    """This thread's in-memory SQLite database with the contentless FTS5 table (``None``
    without FTS5)."""
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None and _has_fts5():
        conn = sqlite3.connect(":memory:", check_same_thread=True)
        conn.execute(
            f"CREATE VIRTUAL TABLE temp.words USING fts5(text, content='', tokenize='{TOKENIZER}')"
        )
        conn.execute(
            "CREATE VIRTUAL TABLE temp.words_instance USING fts5vocab(temp, words, 'instance')"
        )
        _local.conn = conn
    return conn


@cache
def _has_fts5() -> bool:
    from langmem.stores._migrations import fts5_available

    with closing(sqlite3.connect(":memory:")) as conn:
        return fts5_available(conn)
