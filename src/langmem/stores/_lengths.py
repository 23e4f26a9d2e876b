"""Each indexed text's analyzed length, stored in its vector row (``langmem_vectors.lm_length``).

BM25 needs the average analyzed length (:func:`langmem.stores.ranking.length`) of every text in
the store. Analyzing 100k texts takes a third of a second, so each text's length is computed
once, when its vector row is written, and loading the matrix reads it with the vector.

The lengths are only as good as the analyzer that counted them: ``langmem_meta`` records which
one (:func:`analyzer`, a fingerprint of its behaviour). A process whose analyzer differs writes
no lengths and ignores the stored ones (rows without a length are analyzed when a ranked search
first needs the total, as before), and re-counts them all when it opens the file, so a new
langmem version with another analyzer never ranks with stale lengths. Rows written by a langmem
without this column have no length either and are handled the same way.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable
from functools import lru_cache

from langmem.stores import ranking
from langmem.stores._lexical_texts import derived

META_KEY = "lm_length_analyzer"

VectorRow = tuple[int, str, str, bytes, bytes]
"""``(item_id, field_name, text, text_hash, embedding)`` of a vector row to insert."""

# texts whose token and term counts change when the analyzer's folding, splitting, stop words,
# single-letter rule or number handling change
_PROBES = (
    "Zoë's flight LH-1234, 07:45 -- don't, won't, can't; it's 3 o'clock",
    "Ünïcödé naïve café crème brûlée straße ﬁnal Ǆemal İstanbul",
    "a b c x 1 2 x9 9x _under_score snake_case e-mail me@example.com",
    "日本語のテキスト 東京 Привет мир Ελληνικά العربية",
    "서울에 살아요 猫 ｶﾀｶﾅ ＡＢＣ１２３ 2024年3月 豈",
    "The quick brown fox jumps over the lazy dog while we were there and then",
    "a word too long to be a term: " + "x" * (ranking.MAX_WORD_BYTES + 1) + " " + "é" * 1001,
)


@lru_cache(maxsize=1)
def analyzer() -> str:
    """A fingerprint of :func:`ranking.length` as this code computes it."""
    seen = (
        sorted(ranking.STOPWORDS),
        [ranking.tokens(probe) for probe in _PROBES],
        [ranking.length(probe) for probe in _PROBES],
    )
    return "v1:" + hashlib.blake2b(repr(seen).encode("utf-8"), digest_size=12).hexdigest()


def stored_by(conn: sqlite3.Connection) -> str | None:
    """The fingerprint of the analyzer that counted the file's stored lengths."""
    row = conn.execute("SELECT value FROM langmem_meta WHERE key = ?", (META_KEY,)).fetchone()
    return None if row is None else str(row[0])


def current(conn: sqlite3.Connection) -> bool:
    """Whether the file's stored lengths were counted by this process's analyzer."""
    return stored_by(conn) == analyzer()


def record(conn: sqlite3.Connection) -> None:
    """Record that this process's analyzer counted the stored lengths."""
    conn.execute(
        "INSERT OR REPLACE INTO langmem_meta (key, value) VALUES (?, ?)", (META_KEY, analyzer())
    )


def insert(conn: sqlite3.Connection, rows: Iterable[VectorRow]) -> None:
    """Insert vector rows, each with the text its lexical index reads (``lm_lexical``,
    :mod:`._lexical_texts`) and its analyzed length when the file's lengths are ours."""
    columns = ["item_id", "field_name", "text", "text_hash", "embedding"]
    extra: list[Callable[[str], object]] = []
    # one statement for both: whether the file has lm_lexical (every file a store opened,
    # migration 9; not one an older migration is still building) and whose lengths it holds
    lexical, stored = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info('langmem_vectors')"
        " WHERE name = 'lm_lexical'), (SELECT value FROM langmem_meta WHERE key = ?)",
        (META_KEY,),
    ).fetchone()
    if lexical:
        columns.append("lm_lexical")
        extra.append(derived)
    if stored is not None and str(stored) == analyzer():
        columns.append("lm_length")
        extra.append(ranking.length)
    conn.executemany(
        f"INSERT INTO langmem_vectors ({', '.join(columns)})"
        f" VALUES ({', '.join('?' * len(columns))})",
        [(*row, *(f(row[2]) for f in extra)) for row in rows],
    )


def recount(conn: sqlite3.Connection) -> int:
    """Inside a write transaction: count every stored text's length with this analyzer and
    record it; returns how many rows were counted."""
    counted = [
        (ranking.length(text), vector_id)
        for vector_id, text in conn.execute("SELECT id, text FROM langmem_vectors")
    ]
    conn.executemany("UPDATE langmem_vectors SET lm_length = ? WHERE id = ?", counted)
    record(conn)
    return len(counted)


def migration(conn: sqlite3.Connection) -> None:
    """Migration 5: the ``lm_length`` column, filled for the rows already stored."""
    conn.execute("ALTER TABLE langmem_vectors ADD COLUMN lm_length INTEGER")
    recount(conn)


def reconcile(conn: sqlite3.Connection) -> None:
    """When a store opens: re-count the lengths if another analyzer counted them.

    Best effort: a file this process cannot write keeps its lengths, which it then ignores."""
    if current(conn):
        return
    columns = {row[1] for row in conn.execute("PRAGMA table_info(langmem_vectors)")}
    if "lm_length" not in columns:
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return
    try:
        if not current(conn):
            recount(conn)
        conn.execute("COMMIT")
    except sqlite3.OperationalError:
        conn.execute("ROLLBACK")
