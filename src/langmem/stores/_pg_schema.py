"""The PostgreSQL store's schema steps beyond LangGraph's tables (append-only lists).

Each step runs once per database, in order, under the migrations' advisory lock
(:func:`langmem.stores._pg_connect.run_migrations`); never edit or reorder a step that shipped.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from langmem.stores import _pg_identity
from langmem.stores._analyzer import FAST_WORD, lexical_cut
from langmem.stores._cjk import CHANGED
from langmem.stores.ranking import MAX_WORD_BYTES, length, tokens

STAGE = "langmem_reembed"
"""Vectors staged by a re-embed (shaped like ``store_vectors``; see ``_pg_reembed``)."""
STAGE_TARGET = "langmem_reembed_target"
"""The index the staged vectors are for (one row)."""


# Append-only: each entry runs once per database, in order, under the advisory lock.
def _task_table(cur: Any) -> None:
    from langmem.tasks._postgres import POSTGRES_SCHEMA

    for statement in POSTGRES_SCHEMA:
        cur.execute(statement)


STORE_STEPS: tuple[str | Callable[[Any], None], ...] = (
    # LangGraph keeps whole minutes: a TTL of 0.5 minutes would be refreshed to 0
    "ALTER TABLE store ALTER COLUMN ttl_minutes TYPE double precision",
    # the durable queue of background tasks (langmem.tasks), beside the store
    _task_table,
    # namespaces in label order, for list_namespaces to read a page, not every prefix
    # (the expression is _pg_namespaces.ORDER's: keep them equal)
    "CREATE INDEX IF NOT EXISTS langmem_store_namespaces ON store"
    " ((replace(replace(prefix, E'\\x01', E'\\x01\\x02'), '.', E'\\x01\\x01')) COLLATE \"C\")",
)


def _analyzed_lengths(cur: Any) -> None:
    """Each text's analyzed length (BM25's average length), filled in for existing rows."""
    cur.execute("ALTER TABLE store_vectors ADD COLUMN IF NOT EXISTS lm_length integer")
    cur.execute(
        "SELECT prefix, key, field_name, lm_text FROM store_vectors"
        " WHERE lm_length IS NULL AND lm_text IS NOT NULL"
    )
    rows = list(cur.fetchall())
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        cur.execute(
            "UPDATE store_vectors sv SET lm_length = t.n"
            " FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[]) AS t(p, k, f, n)"
            " WHERE sv.prefix = t.p AND sv.key = t.k AND sv.field_name = t.f",
            [
                [r["prefix"] for r in chunk],
                [r["key"] for r in chunk],
                [r["field_name"] for r in chunk],
                [length(r["lm_text"]) for r in chunk],
            ],
        )


COVER_INDEX = "store_vectors_lm_cover_idx"
LONG_INDEX = "store_vectors_lm_long_idx"
_IDENTITY_BYTES = "octet_length(prefix) + octet_length(key) + octet_length(field_name)"


def cover_limit(dims: int) -> int:
    """The longest identity (prefix, key and field name, in bytes) of a vector row that the
    covering index holds; 0 when ``dims``-d vectors leave no useful room.

    A B-tree entry holds at most 2704 bytes (8 kB pages): the vector takes ``4 * dims + 8``,
    and some room is kept for headers and alignment. Rows with longer identities get their own
    small index, so every row stays writable and searchable.
    """
    room = (2640 - (4 * dims + 8)) // 128 * 128
    return room if room >= 256 else 0


def fts5_counts(words: list[str]) -> tuple[int, str | None]:
    """What FTS5's ``bm25()`` reads of a text beyond its distinct words, from its words
    (:func:`ranking.tokens`): how many it has in all (stop words included:
    ``store_vectors.lm_tokens``), and those it holds more than once with their counts, as a
    JSON object (``lm_repeats``; ``None`` when every word is once)."""
    repeats = {word: n for word, n in Counter(words).items() if n > 1}
    return len(words), json.dumps(repeats, sort_keys=True) if repeats else None


def _fts5_counts(cur: Any) -> None:
    """Each text's word count and repeated words (see :func:`fts5_counts`), filled in for
    existing rows: the lexical candidates are the best texts by FTS5's ``bm25()``, as on
    SQLite. The index gives BM25's text count and both total lengths by one index-only scan."""
    for table in ("store_vectors", STAGE):
        cur.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS lm_tokens integer,"
            " ADD COLUMN IF NOT EXISTS lm_repeats jsonb"
        )
        cur.execute(
            f"SELECT prefix, key, field_name, lm_text FROM {table}"
            " WHERE lm_tokens IS NULL AND lm_text IS NOT NULL"
        )
        rows = list(cur.fetchall())
        for start in range(0, len(rows), 5_000):
            chunk = rows[start : start + 5_000]
            counted = [fts5_counts(tokens(r["lm_text"])) for r in chunk]
            cur.execute(
                f"UPDATE {table} sv SET lm_tokens = t.n, lm_repeats = t.r::jsonb"
                " FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::text[])"
                " AS t(p, k, f, n, r)"
                " WHERE sv.prefix = t.p AND sv.key = t.k AND sv.field_name = t.f",
                [
                    [r["prefix"] for r in chunk],
                    [r["key"] for r in chunk],
                    [r["field_name"] for r in chunk],
                    [n for n, _ in counted],
                    [repeats for _, repeats in counted],
                ],
            )
    cur.execute(f"CREATE INDEX IF NOT EXISTS {SIZES_INDEX} ON store_vectors (lm_length, lm_tokens)")
    cur.execute("DROP INDEX IF EXISTS store_vectors_lm_length_idx")


SIZES_INDEX = "store_vectors_lm_sizes_idx"
SEQUENCE = "langmem_vector_seq"


def _write_order(cur: Any) -> None:
    """Each vector row's place in the order texts were written in (``lm_seq``, from
    :data:`SEQUENCE`), as the embedded store's vector ids: both stores list tied candidates
    in that order. The table's physical order (``ctid``) is not it: each pooled connection
    fills pages of its own. Existing rows are numbered by their write time."""
    cur.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
    for table in ("store_vectors", STAGE):
        cur.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS lm_seq bigint")
    cur.execute(
        "UPDATE store_vectors sv SET lm_seq = o.n FROM (SELECT prefix, key, field_name,"
        " row_number() OVER (ORDER BY updated_at, ctid) AS n FROM store_vectors) o"
        " WHERE sv.prefix = o.prefix AND sv.key = o.key AND sv.field_name = o.field_name"
    )
    cur.execute(
        f"SELECT setval('{SEQUENCE}', greatest((SELECT max(lm_seq) FROM store_vectors), 0) + 1,"
        " false)"
    )
    cur.execute(f"ALTER TABLE store_vectors ALTER COLUMN lm_seq SET DEFAULT nextval('{SEQUENCE}')")


_CHUNK = 5_000
"""Texts split and written back per statement by :func:`resplit`."""

UNCOUNTED_INDEX = "store_vectors_lm_uncounted_idx"
"""Vector rows with a text but no word counts (written by an older langmem): few or none."""
_UNCOUNTED = "lm_tokens IS NULL AND lm_text IS NOT NULL"


def _fts5_words(cur: Any) -> None:
    """Re-split the non-ASCII texts, written with :func:`ranking.tokens`, as the SQLite store's
    FTS5 index splits them (:mod:`._pg_tokens`), and count the words of texts that an older
    langmem wrote without counts; an index finds such texts at each set-up from now on
    (:func:`count_uncounted`). In one transaction; the texts are read in chunks (a server-side
    cursor), so a large database is not held in memory, but the step still rewrites every
    non-ASCII row while other processes' set-ups wait for it."""
    with cur.connection.transaction():
        for table in ("store_vectors", STAGE):
            _resplit_where(
                cur, table, f"lm_text IS NOT NULL AND (lm_text ~ '[^\x01-\x7f]' OR {_UNCOUNTED})"
            )
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {UNCOUNTED_INDEX} ON store_vectors (prefix)"
            f" WHERE {_UNCOUNTED}"
        )


def count_uncounted(cur: Any) -> None:
    """At set-up, after the schema steps: the words of the texts that processes of an older
    langmem wrote without ``lm_tokens`` since (read through :data:`UNCOUNTED_INDEX`), so
    FTS5's ``bm25()`` reads their real lengths (they counted as texts of no words)."""
    with cur.connection.transaction():
        _resplit_where(cur, "store_vectors", _UNCOUNTED)


def _resplit_where(
    cur: Any, table: str, where: str, params: tuple[Any, ...] = (), *, lengths: bool = False
) -> None:
    """:func:`resplit` the rows of ``table`` matching ``where``, read through a server-side
    cursor in chunks (its snapshot is fixed when it opens: the updates do not feed it)."""
    from psycopg.rows import dict_row

    with cur.connection.cursor(name=f"lm_resplit_{table}", row_factory=dict_row) as rows:
        rows.execute(f"SELECT prefix, key, field_name, lm_text FROM {table} WHERE {where}", params)
        while chunk := rows.fetchmany(_CHUNK):
            resplit(cur, table, chunk, lengths=lengths)


def _cjk_bigrams(cur: Any) -> None:
    """Re-split the texts that hold a CJK character or a full-width form: their words are now
    those of :func:`ranking.lexical_text` (CJK runs as bigrams, as the SQLite store's index
    reads them: ``langmem.stores._lexical_texts``), and their analyzed lengths count the
    bigrams. Other texts split and count as before, so a database of English texts is read
    through one scan and nothing is written. Each text is split as :func:`resplit` splits it
    now (its lexical text: cut, then bigrams); run again, it writes the same words."""
    with cur.connection.transaction():
        for table in ("store_vectors", STAGE):
            _resplit_where(cur, table, "lm_text ~ %s", (CHANGED,), lengths=True)


def resplit(cur: Any, table: str, rows: list[dict[str, Any]], *, lengths: bool = False) -> None:
    """Set the words, word counts and analyzed length of ``rows`` (``prefix``, ``key``,
    ``field_name``, ``lm_text``) of ``table`` from their texts, as writes set them (a row whose
    text changed since it was read is left to the write that changed it); the length only
    where it has none, unless ``lengths``."""
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        write_words(cur, table, chunk, [r["lm_text"] for r in chunk], lengths=lengths)


def write_words(
    cur: Any,
    table: str,
    rows: list[dict[str, Any]],
    texts: list[str | None],
    *,
    lengths: bool = True,
    set_text: bool = False,
) -> list[list[str]]:
    """One UPDATE of ``rows`` (``prefix``, ``key``, ``field_name``) of ``table``: the words,
    word counts and analyzed length of ``texts`` (one per row; ``None``: no words, length 0),
    as writes set them; returns each text's words. ``set_text`` also stores the texts (rows
    that had none); else a row is changed only while its ``lm_text`` is still the text given
    (one changed since is left to the write that changed it). The length is set only where the
    row has none, unless ``lengths``."""
    from langmem.stores import _pg_tokens

    split = _pg_tokens.words_of([t or "" for t in texts])
    counted = [fts5_counts(found) for found in split]
    length_of = "t.l" if lengths else "coalesce(sv.lm_length, t.l)"
    cur.execute(
        f"UPDATE {table} sv SET lm_tokens = t.n, lm_repeats = t.r::jsonb,"
        " lm_words = array_to_tsvector(coalesce(string_to_array(nullif(t.w, ''), ' '),"
        f" '{{}}'::text[])), lm_length = {length_of}"
        + (", lm_text = t.x" if set_text else "")
        + " FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[], %s::int[],"
        " %s::text[], %s::int[]) AS t(p, k, f, x, w, n, r, l)"
        " WHERE sv.prefix = t.p AND sv.key = t.k AND sv.field_name = t.f"
        + ("" if set_text else " AND sv.lm_text = t.x"),
        [
            [r["prefix"] for r in rows],
            [r["key"] for r in rows],
            [r["field_name"] for r in rows],
            texts,
            [_pg_tokens.lexemes(found) for found in split],
            [n for n, _ in counted],
            [repeats for _, repeats in counted],
            [length(t) if t is not None else 0 for t in texts],
        ],
    )
    return split


_LONG_RUN = re.compile(rf"\S{{{FAST_WORD + 1},}}")
"""A run of characters long enough to hold a word over ``MAX_WORD_BYTES`` (4 bytes each at
most)."""


def _long_words(cur: Any) -> None:
    """Re-split the texts holding a word over :data:`ranking.MAX_WORD_BYTES` or longer than
    :data:`ranking.LEXICAL_CHARS`: ``array_to_tsvector`` stored a word over 2047 bytes, or a
    text's words past 1 MB, mangled (a word's length modulo 2048), and the analyzer now leaves
    such words out of the terms (the lengths change too). ASCII texts over 2000 bytes are
    read, and every non-ASCII text: a character may fold to up to 18 (NFKD), so a word of a
    short text may be over the limit once folded; such a text is rewritten where its stored
    words, counts or length differ from what the analyzer derives now (SQLite's migration 9
    recounts the same texts). Run again, it finds nothing to write."""
    from psycopg.rows import dict_row

    with cur.connection.transaction():
        for table in ("store_vectors", STAGE):
            found: list[dict[str, Any]] = []
            with cur.connection.cursor(name=f"lm_long_{table}", row_factory=dict_row) as rows:
                rows.execute(
                    f"SELECT prefix, key, field_name, lm_text, lm_length, lm_tokens, lm_repeats,"
                    f" tsvector_to_array(lm_words) AS words FROM {table}"
                    f" WHERE octet_length(lm_text) > {MAX_WORD_BYTES}"
                    " OR lm_text ~ '[^\x01-\x7f]'"
                )
                while chunk := rows.fetchmany(_CHUNK):
                    found += _stale(chunk)
            resplit(cur, table, found, lengths=True)


def _stale(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``rows`` whose stored words, counts or length the analyzer would now write
    otherwise (a non-ASCII text), or whose words were mangled (see :func:`_long_words`)."""
    from langmem.stores import _pg_tokens

    others = [r for r in rows if r["lm_text"].isascii()]
    found = [r for r in others if _mangled(r["lm_text"])]
    wide = [r for r in rows if not r["lm_text"].isascii()]
    for row, words in zip(wide, _pg_tokens.words_of([r["lm_text"] for r in wide])):
        lexemes = _pg_tokens.lexemes(words)
        n, repeats = fts5_counts(words)
        now = (
            length(row["lm_text"]),
            set(lexemes.split(" ") if lexemes else ()),
            n,
            json.loads(repeats) if repeats else None,
        )
        stored = (row["lm_length"], set(row["words"] or ()), row["lm_tokens"], row["lm_repeats"])
        if now != stored:
            found.append(row)
    return found


def _mangled(text: str) -> bool:
    return lexical_cut(text) != text or _LONG_RUN.search(text) is not None


def _untexted_rows(cur: Any) -> None:
    """The index of rows without text and the trigger that clears a re-put row's text
    (:data:`langmem.stores._pg_untexted.SCHEMA`); set-ups fill such rows."""
    from langmem.stores import _pg_untexted

    for statement in _pg_untexted.SCHEMA:
        cur.execute(statement)


def _gin_without_pending_list(cur: Any) -> None:
    """Words go straight into the GIN index: a pending list is scanned by every word lookup."""
    cur.execute("ALTER INDEX store_vectors_lm_words_idx SET (fastupdate = off)")
    cur.execute("SELECT gin_clean_pending_list('store_vectors_lm_words_idx'::regclass)")


def covering_index(cur: Any) -> None:
    """A namespace's vectors in one index, so an exact scan reads no table rows."""
    limit = cover_limit(vector_dims(cur))
    if not limit:
        return  # large vectors: exact scans read the table
    cur.execute(
        f"CREATE INDEX IF NOT EXISTS {COVER_INDEX} ON store_vectors (prefix text_pattern_ops)"
        f" INCLUDE (key, field_name, embedding) WHERE {_IDENTITY_BYTES} <= {limit}"
    )
    cur.execute(
        f"CREATE INDEX IF NOT EXISTS {LONG_INDEX} ON store_vectors"
        f" (prefix text_pattern_ops) WHERE {_IDENTITY_BYTES} > {limit}"
    )


def vector_dims(cur: Any) -> int:
    """The dimension of ``store_vectors.embedding`` (0 when not fixed)."""
    cur.execute(
        "SELECT atttypmod AS dims FROM pg_attribute"
        " WHERE attrelid = 'store_vectors'::regclass AND attname = 'embedding'"
    )
    row = cur.fetchone()
    return max(int(row["dims"]), 0) if row else 0


VECTOR_STEPS: tuple[str | Callable[[Any], None], ...] = (
    "ALTER TABLE store_vectors ADD COLUMN IF NOT EXISTS lm_text text,"
    " ADD COLUMN IF NOT EXISTS lm_words tsvector",
    "CREATE INDEX IF NOT EXISTS store_vectors_lm_words_idx ON store_vectors USING gin (lm_words)",
    "CREATE INDEX IF NOT EXISTS store_vectors_prefix_idx"
    " ON store_vectors (prefix text_pattern_ops)",
    # the shared ranking (langmem.stores.ranking) averages the texts' analyzed lengths
    _analyzed_lengths,
    _gin_without_pending_list,
    covering_index,
    # BM25's text count and total length by an index-only scan (not the whole table)
    "CREATE INDEX IF NOT EXISTS store_vectors_lm_length_idx ON store_vectors (lm_length)",
    # which embedder made the vectors, checked by every handle (langmem.stores._pg_identity)
    *_pg_identity.SCHEMA,
    # the stage of a resumable re-embed (langmem.stores._pg_reembed)
    f"CREATE TABLE IF NOT EXISTS {STAGE} (prefix text NOT NULL, key text NOT NULL,"
    " field_name text NOT NULL, embedding vector, lm_text text, lm_words tsvector,"
    " lm_length integer, created_at timestamptz, updated_at timestamptz,"
    " PRIMARY KEY (prefix, key, field_name))",
    f"CREATE TABLE IF NOT EXISTS {STAGE_TARGET} (one boolean PRIMARY KEY DEFAULT true"
    " CHECK (one), identity text NOT NULL)",
    # FTS5's bm25() picks the lexical candidates, as on SQLite (langmem.stores._pg_search)
    _fts5_counts,
    # tied candidates in the order texts were written in, as SQLite's vector ids
    _write_order,
    # non-ASCII texts' words as SQLite's FTS5 index splits them (langmem.stores._pg_tokens)
    _fts5_words,
    # CJK runs as bigrams (langmem.stores._cjk)
    _cjk_bigrams,
    # words over MAX_WORD_BYTES and text past LEXICAL_CHARS are not terms (the analyzer)
    _long_words,
    # rows LangGraph's own PostgresStore writes get their text (langmem.stores._pg_untexted)
    _untexted_rows,
)
