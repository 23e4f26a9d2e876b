"""How many texts hold each word: a table kept by the write transactions, read by ranked searches.

BM25 needs each query term's document count over every indexed text. FTS5's ``fts5vocab``
table gives it exactly, but computes it on each read by walking the word's whole posting list:
up to 0.3 ms per common word at 10k texts, ten times that at 100k. So migration 6 keeps the
counts in ``langmem_term_docs`` (word -> texts holding it, words held by none are absent), and a
search reads one B-tree entry per word instead.

**Same numbers as fts5vocab.** The migration fills the table from ``fts5vocab`` itself. Each
write transaction of this store then folds the vector rows added and removed since the table's
last fold (``langmem_changes``, kept by triggers for every writer; a trigger keeps the text of
each removed row in ``langmem_removed_texts`` until then) into the counts, before it commits:
the counts and the texts always change together. Words are split exactly as the FTS5 index
splits them: ASCII texts by :func:`ranking.tokens` (the same words as ``unicode61`` for ASCII,
checked by the tests), other texts by FTS5 itself (a temporary FTS5 table with the index's own
tokenizer). ``langmem_meta`` records the last change folded (:data:`META_KEY`).

**Other writers.** A process of an older langmem (or any SQLite client) writing the file leaves
its changes unfolded: readers then see that the table is behind the change log
(:func:`lookup` returns ``None``) and read ``fts5vocab`` as before, until the next write of this
version folds them. A fold that finds the log pruned past its last change, or a removed text
missing, rebuilds the table from ``fts5vocab``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence

from langmem.stores import ranking
from langmem.stores._writes import chunks

logger = logging.getLogger("langmem.stores")

TABLE = "langmem_term_docs"
REMOVED = "langmem_removed_texts"
META_KEY = "term_docs_seq"
"""``langmem_meta`` key: the last ``langmem_changes.seq`` folded into the table."""

_STATE = (
    f"SELECT (SELECT value FROM langmem_meta WHERE key = '{META_KEY}'),"
    " (SELECT MIN(seq) FROM langmem_changes), (SELECT MAX(seq) FROM langmem_changes)"
)  # three B-tree seeks (MIN and MAX in one aggregate would scan the log)
_TALLY = "langmem_term_tally"
_INDEXED = "coalesce(lm_lexical, text)"
"""What the FTS5 index's trigger adds of a vector row (migration 9; ``lm_lexical``)."""


def migration(conn: sqlite3.Connection) -> None:
    """Migration 6: the table, the removed texts' trigger, and the counts of the stored texts
    (only in files with an FTS5 index: the others have no lexical side)."""
    row = conn.execute("SELECT value FROM langmem_meta WHERE key = 'fts5'").fetchone()
    if row is None or row[0] != "1":
        return
    conn.execute(
        f"CREATE TABLE {TABLE} (term TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"
    )
    conn.execute(f"CREATE TABLE {REMOVED} (vector_id INTEGER NOT NULL, text TEXT NOT NULL)")
    conn.execute(
        f"CREATE TRIGGER langmem_term_docs_removed AFTER DELETE ON langmem_vectors BEGIN"
        f" INSERT INTO {REMOVED} (vector_id, text) VALUES (old.id, old.text); END"
    )
    rebuild(conn)


def rebuild(conn: sqlite3.Connection) -> None:
    """Inside a write transaction: the table from ``fts5vocab`` (reads every posting list)."""
    conn.execute(f"DELETE FROM {TABLE}")
    conn.execute(f"INSERT INTO {TABLE} (term, docs) SELECT term, doc FROM langmem_fts_vocab")
    conn.execute(f"DELETE FROM {REMOVED}")
    high = conn.execute("SELECT MAX(seq) FROM langmem_changes").fetchone()[0]
    _record(conn, int(high or 0))


def _record(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO langmem_meta (key, value) VALUES (?, ?)", (META_KEY, str(seq))
    )


def lookup(conn: sqlite3.Connection, words: Sequence[str]) -> dict[str, int] | None:
    """Each of ``words`` held by at least one text -> how many texts hold it, or ``None`` when
    the table is behind the file (another writer's changes not folded yet; read fts5vocab)."""
    done, _, high = conn.execute(_STATE).fetchone()
    if done is None or int(done) != int(high or 0):
        return None
    return _counts(conn, f"SELECT term, docs FROM {TABLE}", words)


def vocab_counts(conn: sqlite3.Connection, words: Sequence[str]) -> dict[str, int]:
    """:func:`lookup`'s counts from FTS5's own ``fts5vocab`` (walks each word's posting list)."""
    return _counts(conn, "SELECT term, doc FROM langmem_fts_vocab", words)


def _counts(conn: sqlite3.Connection, select: str, words: Sequence[str]) -> dict[str, int]:
    """``select`` (term, count) rows for ``words``, asked in chunks of bound parameters."""
    counts: dict[str, int] = {}
    for chunk in chunks(list(words)):
        placeholders = ",".join("?" * len(chunk))
        counts.update(conn.execute(f"{select} WHERE term IN ({placeholders})", chunk).fetchall())
    return counts


def fold(conn: sqlite3.Connection) -> None:
    """Inside a write transaction, before it commits: fold the vector rows added and removed
    since the last fold into the counts (nothing to do in a file without the table).

    All or nothing, and never the write's failure: a fold that fails (a full disk, say) is
    undone and the write commits without it; readers then see the table behind and read
    FTS5's counts until a later write folds."""
    done, low, high = conn.execute(_STATE).fetchone()
    if done is None or high is None or int(done) == high:
        return
    conn.execute("SAVEPOINT langmem_term_docs")
    try:
        _fold(conn, int(done), low, high)
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK TO langmem_term_docs")
        logger.warning("langmem: word counts not updated (%s); FTS5's are read until then", exc)
    finally:
        conn.execute("RELEASE langmem_term_docs")


def _fold(conn: sqlite3.Connection, done: int, low: int, high: int) -> None:
    if low > done + 1:  # the log was pruned past the last fold
        rebuild(conn)
        return
    first: dict[int, int] = {}  # vector id -> its first and last change in the window
    last: dict[int, int] = {}
    for vector_id, added in conn.execute(
        "SELECT vector_id, added FROM langmem_changes WHERE seq > ? ORDER BY seq", (done,)
    ):
        first.setdefault(vector_id, added)
        last[vector_id] = added
    gone = [v for v, added in first.items() if not added]  # counted before: take them out
    new = [v for v, added in last.items() if added]  # alive now: count them
    kept: dict[int, str] = {}
    twice = False
    for vector_id, text in conn.execute(f"SELECT vector_id, text FROM {REMOVED}"):
        twice = twice or vector_id in kept
        kept[vector_id] = text
    removed = [kept[v] for v in gone if v in kept]
    added = _texts(conn, new)
    if twice or len(removed) != len(gone) or added is None:
        rebuild(conn)  # not what the triggers leave: count again
        return
    replace(conn, removed, added)
    conn.execute(f"DELETE FROM {REMOVED}")
    _record(conn, int(high))


def in_step(conn: sqlite3.Connection) -> bool:
    """Whether the table counts every change of the log (no other writer's change unfolded)."""
    done, _, high = conn.execute(_STATE).fetchone()
    return done is not None and int(done) == int(high or 0)


def replace(conn: sqlite3.Connection, removed: Sequence[str], added: Sequence[str]) -> None:
    """Inside a write transaction: the index no longer holds the indexed texts ``removed`` and
    now holds ``added``: move their words' counts."""
    delta = _words(conn, added)
    for word, docs in _words(conn, removed).items():
        delta[word] = delta.get(word, 0) - docs
    changed = [(word, docs) for word, docs in delta.items() if docs]
    conn.executemany(
        f"INSERT INTO {TABLE} (term, docs) VALUES (?, ?)"
        " ON CONFLICT (term) DO UPDATE SET docs = docs + excluded.docs",
        changed,
    )
    conn.executemany(
        f"DELETE FROM {TABLE} WHERE term = ? AND docs <= 0",
        [(word,) for word, docs in changed if docs < 0],
    )


def _texts(conn: sqlite3.Connection, ids: list[int]) -> list[str] | None:
    """The indexed text of each vector row of ``ids`` (``lm_lexical`` or the text, as the
    index's trigger added it: :mod:`._lexical_texts`), ``None`` if one is missing."""
    texts: list[str] = []
    if ids and max(ids) - min(ids) < 2 * len(ids):  # a batch's new rows: one range scan
        wanted = set(ids)
        texts = [
            text
            for vector_id, text in conn.execute(
                f"SELECT id, {_INDEXED} FROM langmem_vectors WHERE id BETWEEN ? AND ?",
                (min(ids), max(ids)),
            )
            if vector_id in wanted
        ]
        return texts if len(texts) == len(ids) else None
    for chunk in chunks(ids):
        texts += [
            text
            for (text,) in conn.execute(
                f"SELECT {_INDEXED} FROM langmem_vectors"
                f" WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
        ]
    return texts if len(texts) == len(ids) else None


def _words(conn: sqlite3.Connection, texts: Iterable[str]) -> dict[str, int]:
    """Word -> how many of ``texts`` hold it, the words split as the FTS5 index splits them.

    ``texts`` are indexed texts (``coalesce(lm_lexical, text)``: already cut and bigrammed), so
    they are split as they are; an ASCII text over ``LEXICAL_CHARS`` (one another SQLite client
    wrote without ``lm_lexical``, indexed whole) goes to FTS5 too, as :func:`ranking.tokens`
    would cut it."""
    counts: dict[str, int] = {}
    get = counts.get
    others: list[str] = []
    for text in texts:
        if text.isascii() and "\x00" not in text and len(text) <= ranking.LEXICAL_CHARS:
            for word in set(ranking.tokens(text)):
                counts[word] = get(word, 0) + 1
        else:
            others.append(text)
    if others:
        for word, docs in _fts5_words(conn, others):
            counts[word] = get(word, 0) + docs
    return counts


def _fts5_words(conn: sqlite3.Connection, texts: list[str]) -> list[tuple[str, int]]:
    """Word -> texts holding it, by FTS5 itself: the texts go through a temporary FTS5 table
    with the index's tokenizer (inside the caller's transaction; emptied again)."""
    exists = conn.execute("SELECT 1 FROM sqlite_temp_master WHERE name = ?", (_TALLY,)).fetchone()
    if exists is None:
        conn.execute(
            f"CREATE VIRTUAL TABLE temp.{_TALLY} USING fts5(text, content='',"
            f" tokenize='{_tokenizer(conn)}')"
        )
        conn.execute(
            f"CREATE VIRTUAL TABLE temp.{_TALLY}_vocab USING fts5vocab(temp, {_TALLY}, 'row')"
        )
    conn.executemany(f"INSERT INTO temp.{_TALLY} (text) VALUES (?)", [(t,) for t in texts])
    found = conn.execute(f"SELECT term, doc FROM temp.{_TALLY}_vocab").fetchall()
    conn.execute(f"INSERT INTO temp.{_TALLY} ({_TALLY}) VALUES ('delete-all')")
    return [(str(word), int(docs)) for word, docs in found]


def _tokenizer(conn: sqlite3.Connection) -> str:
    """The ``tokenize`` option of the store's FTS5 index, as its schema declares it."""
    sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'langmem_fts'"
    ).fetchone()[0]
    start = sql.index("tokenize='") + len("tokenize='")
    return str(sql[start : sql.index("'", start)])
