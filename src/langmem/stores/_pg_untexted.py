"""Vector rows another writer left without langmem's text columns: LangGraph's own
``PostgresStore`` on the same tables (a user moving to langmem's store, or both writing).

LangGraph writes ``store_vectors (prefix, key, field_name, embedding)`` only: no text, no words
(``lm_text``, ``lm_words``, ``lm_length``, ``lm_tokens``, ``lm_repeats``). Such a row was found
by its cosine but never by its words, its BM25 was 0, and the store's statistics counted it
as a text of no words. When LangGraph re-puts an item, it replaces the embedding in place and
leaves the old text columns: they described the old value.

So the text columns are filled from the item's value (the text of the row's field, as langmem
would have written it; :func:`fill`), at each set-up and, on a writable database, by the first
ranked search after such rows appear: every ``CHECK_EVERY`` seconds a search asks (through
:data:`INDEX`, a partial index of the rows lacking them) whether there are any, then fills them
in its own transaction before reading the statistics. A trigger (:data:`SCHEMA`) clears the
text columns of a row whose embedding changes while its text does not (LangGraph's re-put), so
it is filled again from the new value. Until a search fills them (at most ``CHECK_EVERY``
seconds, as other processes' word counts), or on a read-only database, such rows rank by their
cosine only.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from langgraph.store.base import PutOp

from langmem.stores import _writes
from langmem.stores._pg_schema import write_words

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore

logger = logging.getLogger("langmem.stores")

CHECK_EVERY = 10.0
"""Seconds between two searches' checks for rows without text (the word counts' delay)."""
INDEX = "store_vectors_lm_untexted_idx"
_UNTEXTED = "lm_text IS NULL AND lm_tokens IS NULL"
"""A row no langmem wrote (an underivable text is marked by ``lm_tokens = 0``)."""
_CHUNK = 2_000

SCHEMA: tuple[str, ...] = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON store_vectors (prefix) WHERE {_UNTEXTED}",
    "CREATE OR REPLACE FUNCTION langmem_vectors_restated() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN"
    " IF NEW.embedding IS DISTINCT FROM OLD.embedding"
    " AND NEW.lm_text IS NOT DISTINCT FROM OLD.lm_text THEN"
    " NEW.lm_text := NULL; NEW.lm_words := NULL; NEW.lm_length := NULL;"
    " NEW.lm_tokens := NULL; NEW.lm_repeats := NULL;"
    " END IF; RETURN NEW; END $$",
    "DROP TRIGGER IF EXISTS langmem_vectors_restated ON store_vectors",
    "CREATE TRIGGER langmem_vectors_restated BEFORE UPDATE ON store_vectors"
    " FOR EACH ROW EXECUTE FUNCTION langmem_vectors_restated()",
)
"""The schema step (``_pg_schema.VECTOR_STEPS``): the partial index and the trigger."""


class Untexted:
    """Per store handle: when a search last checked for rows without text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked = -CHECK_EVERY - 1.0

    def due(self) -> bool:
        """Whether it is time to check again (then the next one waits ``CHECK_EVERY``)."""
        now = time.monotonic()
        with self._lock:
            if now - self._checked <= CHECK_EVERY:
                return False
            self._checked = now
            return True


def fill_due(store: PostgresStore, cur: Any) -> None:
    """At a ranked search, every ``CHECK_EVERY`` seconds on a writable database set up by this
    langmem: fill the rows without text, if there are any (one index probe otherwise)."""
    if not store._checks or store._read_only is not None or not store.untexted.due():
        return
    cur.execute(f"SELECT EXISTS (SELECT 1 FROM store_vectors WHERE {_UNTEXTED}) AS any")
    if not cur.fetchone()["any"]:
        return
    import psycopg

    try:
        with cur.connection.transaction():  # a savepoint: a refused fill leaves the search be
            changed = fill(store, cur)
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction) as exc:
        logger.warning(
            "langmem: rows written without langmem's text columns were not filled (%s); "
            "they rank by their cosine only until a set-up with write access fills them",
            exc,
        )
        return
    store.word_counts.forget(changed)


def fill(store: PostgresStore, cur: Any) -> set[str]:
    """Fill the text columns of the rows without them, from their items' values; returns the
    words of the texts written. Rows another transaction holds are left to it (``SKIP
    LOCKED``); a row whose field the value does not hold gets no words (``lm_tokens = 0``)."""
    cur.execute(
        "SELECT sv.prefix, sv.key, sv.field_name, s.value FROM store_vectors sv"
        " JOIN store s ON s.prefix = sv.prefix AND s.key = sv.key"
        f" WHERE sv.{_UNTEXTED.replace(' AND ', ' AND sv.')}"
        " ORDER BY sv.prefix, sv.key, sv.field_name FOR UPDATE OF sv SKIP LOCKED"
    )
    rows = list(cur.fetchall())
    paths = _writes.index_paths((store.index_config or {}).get("fields") or ["$"])
    changed: set[str] = set()
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        texts = [_text(r, paths) for r in chunk]
        for found in write_words(cur, "store_vectors", chunk, texts, set_text=True):
            changed.update(found)
    return changed


def _text(row: dict[str, Any], paths: _writes.IndexPaths) -> str | None:
    """The text langmem indexes for the row's field of its item's value (the store's fields,
    or the field's own path), ``None`` when the value holds none there."""
    value = row["value"] if isinstance(row["value"], dict) else json.loads(row["value"])
    op = PutOp(tuple(row["prefix"].split(".")), row["key"], value)
    field = row["field_name"]
    for name, text in _writes.texts_of(op, paths):
        if name == field:
            return text
    try:
        own = _writes.texts_of(op, _writes.index_paths([field]))
    except (ValueError, TypeError, KeyError, IndexError):  # a field name that is no path
        return None
    for name, text in own:
        if name == field:
            return text
    return None
