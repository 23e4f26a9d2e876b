"""Per store handle caches of what PostgreSQL search reads often and changes slowly: the
store's text count and total analyzed length, each word's document count (BM25's statistics,
exact as SQLite's ``fts5vocab``), and the planner's estimate of each namespace's size."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from typing import Any

from langmem.stores._pg_search import namespace_condition

COUNT_TTL = 10.0
"""Seconds a word's document count (its IDF) is reused before it is counted again. A handle's
own writes drop the counts of the words they add or remove at once; other processes' writes
show within this delay."""
WIDE_COUNT = 1_000
WIDE_TTL = 60.0
"""Counts of words held by at least ``WIDE_COUNT`` texts are reused for ``WIDE_TTL`` seconds:
recounting reads every text holding the word, and such a word's IDF moves little."""


class WordCounts:
    """Per store handle: the store's text count and total analyzed length, and how many indexed
    texts hold each word, reused for ``COUNT_TTL`` (``WIDE_TTL`` for common words).

    Counts are exact (as SQLite's ``fts5vocab``), so rankings are the embedded store's to the
    last digit; a handle's own writes drop the counts they change (:meth:`forget`).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}
        self._documents: tuple[float, int, int, int] = (-COUNT_TTL - 1.0, 0, 0, 0)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._documents = (-COUNT_TTL - 1.0, 0, 0, 0)

    def forget(self, words: Iterable[str]) -> None:
        """Drop the counts of ``words`` and the text count (after a write changed them)."""
        with self._lock:
            for word in words:
                self._counts.pop(word, None)
            self._documents = (-COUNT_TTL - 1.0, 0, 0, 0)

    def documents(self, cur: Any) -> tuple[int, int, int]:
        """How many texts the store indexes, their analyzed terms in all, and their words in
        all (FTS5's total length, ``lm_tokens``), by an index-only scan of
        ``store_vectors_lm_sizes_idx``."""
        stamp, total, terms, words = self._documents
        if time.monotonic() - stamp > COUNT_TTL:
            cur.execute(
                "SELECT count(*) AS n, coalesce(sum(lm_length), 0) AS terms,"
                " coalesce(sum(lm_tokens), 0) AS words FROM store_vectors"
            )
            row = cur.fetchone()
            total, terms, words = int(row["n"]), int(row["terms"]), int(row["words"])
            self._documents = (time.monotonic(), total, terms, words)
        return total, terms, words

    def count(self, cur: Any, words: list[str]) -> dict[str, int]:
        """Word -> how many indexed texts hold it."""
        now = time.monotonic()
        fresh: dict[str, int] = {}
        with self._lock:
            for word in words:
                stamp, n = self._counts.get(word, (-WIDE_TTL - 1.0, 0))
                if now - stamp <= (WIDE_TTL if n >= WIDE_COUNT else COUNT_TTL):
                    fresh[word] = n
        missing = [w for w in dict.fromkeys(words) if w not in fresh]
        if missing:
            cur.execute(
                "SELECT w, (SELECT count(*) FROM store_vectors sv"
                " WHERE sv.lm_words @@ quote_literal(w)::tsquery) AS n"
                " FROM unnest(%s::text[]) AS w",
                (missing,),
            )
            found = {row["w"]: int(row["n"]) for row in cur.fetchall()}
            with self._lock:
                if len(self._counts) > 50_000:
                    self._counts.clear()
                for word in missing:
                    self._counts[word] = (now, found.get(word, 0))
                    fresh[word] = found.get(word, 0)
        return {w: fresh[w] for w in words}


class NamespaceSizes:
    """Per store handle: the planner's estimate of how many vector rows each namespace holds,
    reused for ``COUNT_TTL`` (estimates follow the table statistics, which move slowly)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sizes: dict[tuple[str, ...], tuple[float, float]] = {}

    def estimate(self, cur: Any, prefix: tuple[str, ...]) -> float:
        now = time.monotonic()
        with self._lock:
            stamp, rows = self._sizes.get(prefix, (-COUNT_TTL - 1.0, 0.0))
        if now - stamp <= COUNT_TTL:
            return rows
        ns_sql, ns_params = namespace_condition("sv.prefix", prefix)
        cur.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM store_vectors sv WHERE {ns_sql}", ns_params
        )
        plan = cur.fetchone()["QUERY PLAN"]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        rows = float(plan[0]["Plan"]["Plan Rows"])
        with self._lock:
            if len(self._sizes) > 10_000:
                self._sizes.clear()
            self._sizes[prefix] = (now, rows)
        return rows
