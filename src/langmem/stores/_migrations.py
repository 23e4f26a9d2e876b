"""Numbered schema migrations for the embedded SQLite store.

Each entry of :data:`MIGRATIONS` is applied once, in order, inside one ``BEGIN IMMEDIATE``
transaction that also records its number in ``langmem_migrations``: two processes opening a new
file at the same time cannot both apply it. Never edit a released migration; append a new one.

Tables (LangGraph's ``store``/``store_vectors`` shapes, plus what exact hybrid search needs):

- ``langmem_items``: one row per item (``prefix`` is the namespace joined by ``.``), JSON
  ``value``, ISO ``created_at``/``updated_at``, ``expires_at`` (Unix seconds) and
  ``ttl_minutes``.
- ``langmem_vectors``: one row per indexed text of an item: the text, its BLAKE2b hash (to reuse
  the vector of unchanged text) and the float32 embedding. Deleting an item cascades here.
- ``langmem_changes``: an append-only log of vector rows added and removed (kept by triggers), so
  a process brings its in-memory matrix up to date by reading only what changed.
- ``langmem_fts``: an FTS5 index over the vector texts (BM25 lexical search), kept by triggers;
  words are not stemmed (names, numbers and rare words are what it is for), and
  ``langmem_fts_vocab`` gives each word's document count. Since migration 9 the triggers index
  what the analyzer reads of a text (``langmem_vectors.lm_lexical``, below).
- ``langmem_meta``: key/value facts about the file, such as the embedding model of the vectors
  and the analyzer that counted ``langmem_vectors.lm_length`` (each text's analyzed length for
  BM25, migration 5).
- ``langmem_term_docs``: each word of the FTS5 index -> how many texts hold it (the same
  numbers as ``langmem_fts_vocab``, kept in each write transaction; migration 6, see
  ``langmem.stores._term_docs``), with ``langmem_removed_texts`` holding removed texts until
  their words are counted out.
- ``langmem_items_threaded``: a partial index of the items whose value names a ``thread_id``
  (migration 7), so a ranked search reads the provenance of those items only.
- ``langmem_item_changes``: an append-only log of the items written (inserted, or their
  ``value`` or ``created_at`` updated; kept by triggers, migration 8), so a process keeps each
  item's thread and time in memory for ranked searches (``langmem.stores._origins``).
- ``langmem_vectors.lm_lexical``: the text the FTS5 index reads when it differs from the
  text (``ranking.lexical_text``: the first ``LEXICAL_CHARS`` characters of a text over that
  many bytes, CJK runs as overlapping bigrams; migration 9, ``langmem.stores._lexical_texts``).
- ``langmem_tasks``: the durable background task queue (``langmem.tasks``; its columns and
  contract are documented there).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def _statements(*sql: str) -> Migration:
    def apply(conn: sqlite3.Connection) -> None:
        for statement in sql:
            conn.execute(statement)

    return apply


def fts5_available(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite build has FTS5 (nearly every CPython build does)."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.langmem_fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.langmem_fts5_probe")
    return True


def _create_lexical_index(conn: sqlite3.Connection, tokenize: str, *, vocab: bool) -> None:
    statements = [
        "CREATE VIRTUAL TABLE langmem_fts USING fts5("
        f" text, content='langmem_vectors', content_rowid='id', tokenize='{tokenize}')",
        "CREATE TRIGGER langmem_fts_added AFTER INSERT ON langmem_vectors BEGIN"
        " INSERT INTO langmem_fts (rowid, text) VALUES (new.id, new.text); END",
        "CREATE TRIGGER langmem_fts_removed AFTER DELETE ON langmem_vectors BEGIN"
        " INSERT INTO langmem_fts (langmem_fts, rowid, text) VALUES ('delete', old.id, old.text);"
        " END",
        "INSERT INTO langmem_fts (langmem_fts) VALUES ('rebuild')",
        "INSERT OR REPLACE INTO langmem_meta (key, value) VALUES ('fts5', '1')",
    ]
    if vocab:
        statements.insert(
            1, "CREATE VIRTUAL TABLE langmem_fts_vocab USING fts5vocab(langmem_fts, 'row')"
        )
    for statement in statements:
        conn.execute(statement)


def _lexical_index(conn: sqlite3.Connection) -> None:
    """Migration 2, as first shipped: a stemmed FTS5 index over the vector texts."""
    if not fts5_available(conn):
        conn.execute("INSERT OR REPLACE INTO langmem_meta (key, value) VALUES ('fts5', '0')")
        return
    _create_lexical_index(conn, "porter unicode61 remove_diacritics 2", vocab=False)


def _unstemmed_lexical_index(conn: sqlite3.Connection) -> None:
    """Migration 3: rebuild the index without stemming, with a vocabulary of document counts.

    Stemming made "living" match "lives" and hurt exact-word recall, which is what the lexical
    side is for; the IDF coverage ranking needs each word's document count (fts5vocab). Files
    written by migration 2 get their index rebuilt from the stored texts.
    """
    if not fts5_available(conn):
        conn.execute("INSERT OR REPLACE INTO langmem_meta (key, value) VALUES ('fts5', '0')")
        return
    for statement in (
        "DROP TRIGGER IF EXISTS langmem_fts_added",
        "DROP TRIGGER IF EXISTS langmem_fts_removed",
        "DROP TABLE IF EXISTS langmem_fts_vocab",
        "DROP TABLE IF EXISTS langmem_fts",
    ):
        conn.execute(statement)
    _create_lexical_index(conn, "unicode61 remove_diacritics 2", vocab=True)


def _task_queue(conn: sqlite3.Connection) -> None:
    """The background task queue's table and indexes (``langmem.tasks._sql.SCHEMA``)."""
    from langmem.tasks._sql import SCHEMA

    for statement in SCHEMA:
        conn.execute(statement)


def _text_lengths(conn: sqlite3.Connection) -> None:
    """Migration 5: ``langmem_vectors.lm_length``, filled for the rows already stored
    (``langmem.stores._lengths``)."""
    from langmem.stores._lengths import migration

    migration(conn)


def _term_document_counts(conn: sqlite3.Connection) -> None:
    """Migration 6: ``langmem_term_docs``, each word's document count, kept by the writes
    (``langmem.stores._term_docs``), filled for the texts already stored."""
    from langmem.stores._term_docs import migration

    migration(conn)


def _threaded_items(conn: sqlite3.Connection) -> None:
    """Migration 7: a partial index of the items whose value names a ``thread_id``, so a ranked
    search reads the thread and time of those items only (``langmem.stores._search``)."""
    # written out, not imported: a committed migration must not change with later code
    # (tests/stores/test_search_paths.py checks that _search.THREADED is this condition)
    conn.execute(
        "CREATE INDEX langmem_items_threaded ON langmem_items (id)"
        " WHERE instr(value, '\"thread_id\"') > 0"
    )


def _item_changes(conn: sqlite3.Connection) -> None:
    """Migration 8: a log of the items inserted or whose value or creation time changed, kept
    by triggers for every writer, so a process keeps each item's provenance in memory and
    reads again only the items written since (``langmem.stores._origins``)."""
    # written out, not imported: a committed migration must not change with later code
    for statement in (
        "CREATE TABLE langmem_item_changes ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER NOT NULL)",
        "CREATE TRIGGER langmem_items_inserted AFTER INSERT ON langmem_items BEGIN"
        " INSERT INTO langmem_item_changes (item_id) VALUES (new.id); END",
        "CREATE TRIGGER langmem_items_updated AFTER UPDATE OF id, value, created_at"
        " ON langmem_items BEGIN"
        " INSERT INTO langmem_item_changes (item_id) VALUES (new.id); END",
    ):
        conn.execute(statement)


def _lexical_texts(conn: sqlite3.Connection) -> None:
    """Migration 9: ``langmem_vectors.lm_lexical``, the text the lexical index reads (a long
    text's first ``LEXICAL_CHARS`` characters, CJK runs as bigrams), and the index's triggers
    reading it; the rows it changes are re-indexed (``langmem.stores._lexical_texts``)."""
    from langmem.stores._lexical_texts import migration

    migration(conn)


MIGRATIONS: tuple[Migration, ...] = (
    # 1: items, vectors, change log
    _statements(
        "CREATE TABLE langmem_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE langmem_items (
            id INTEGER PRIMARY KEY,
            prefix TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            expires_at REAL,
            ttl_minutes REAL,
            UNIQUE (prefix, key)
        )""",
        "CREATE INDEX langmem_items_expires_at ON langmem_items (expires_at)"
        " WHERE expires_at IS NOT NULL",
        """CREATE TABLE langmem_vectors (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_id INTEGER NOT NULL REFERENCES langmem_items (id) ON DELETE CASCADE,
            field_name TEXT NOT NULL,
            text TEXT NOT NULL,
            text_hash BLOB NOT NULL,
            embedding BLOB NOT NULL,
            UNIQUE (item_id, field_name)
        )""",
        "CREATE INDEX langmem_vectors_text_hash ON langmem_vectors (text_hash)",
        """CREATE TABLE langmem_changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            vector_id INTEGER NOT NULL,
            added INTEGER NOT NULL
        )""",
        "CREATE TRIGGER langmem_vectors_added AFTER INSERT ON langmem_vectors BEGIN"
        " INSERT INTO langmem_changes (vector_id, added) VALUES (new.id, 1); END",
        "CREATE TRIGGER langmem_vectors_removed AFTER DELETE ON langmem_vectors BEGIN"
        " INSERT INTO langmem_changes (vector_id, added) VALUES (old.id, 0); END",
    ),
    # 2: BM25 lexical index over the same texts
    _lexical_index,
    # 3: the lexical index without stemming, plus its vocabulary
    _unstemmed_lexical_index,
    # background task queue (ReflectionExecutor)
    _task_queue,
    # each vector text's analyzed length (BM25 statistics read at load, not recomputed)
    _text_lengths,
    # each word's document count (lexical IDF without walking FTS5 posting lists)
    _term_document_counts,
    # the items that name a thread_id (provenance reads only them)
    _threaded_items,
    # a log of the items written (their thread and time kept in memory)
    _item_changes,
    # the text the lexical index reads: a long text's first characters, CJK runs as bigrams
    _lexical_texts,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations this file lacks; returns the schema version now in place.

    The connection must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS langmem_migrations ("
        " v INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    row = conn.execute("SELECT MAX(v) FROM langmem_migrations").fetchone()
    if row[0] is not None and row[0] >= len(MIGRATIONS):
        return int(row[0])
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT MAX(v) FROM langmem_migrations").fetchone()
        current = int(row[0] or 0)
        for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
            migration(conn)
            conn.execute("INSERT INTO langmem_migrations (v) VALUES (?)", (number,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(MIGRATIONS)
