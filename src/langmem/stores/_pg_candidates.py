"""The PostgreSQL search's candidates from its rows: each text's cosine, its counts of the query
terms (analysed only where a query word occurs) and its item's provenance, as
:func:`langmem.stores.ranking.rank` reads them. Rows are ``store_vectors`` rows joined with
their item (``prefix``, ``key``, ``field_name``, ``value``, ``created_at``, ``cosine``,
``lm_text``, ``lm_length``); :mod:`._pg_search` reads them, this module only computes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from langmem.stores import ranking as rules


def row_id(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["prefix"], row["key"], row["field_name"])


Origins = dict[tuple[str, str], tuple[str | None, float | None]]
"""Item -> its ``thread_id`` and ``created_at`` (Unix seconds), see :func:`_provenance`."""


def merged(
    rows: list[dict[str, Any]], more: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``rows`` then the rows of ``more`` that are not among them (each text once), and those
    added rows."""
    seen = {row_id(r) for r in rows}
    added: list[dict[str, Any]] = []
    for row in more:
        identity = row_id(row)
        if identity not in seen:
            seen.add(identity)
            added.append(row)
    return rows + added, added


def origins(rows: list[dict[str, Any]], ranking: rules.Ranking) -> Origins:
    """The rows' items' provenance when the ranking reads it (else none)."""
    if not ranking.provenance:
        return {}
    return _provenance(rows, times=ranking.times)


def build_candidates(
    rows: list[dict[str, Any]],
    words: frozenset[str],
    origin: Origins,
    analyzed: dict[tuple[str, str, str], rules.Document] | None = None,
) -> list[rules.Candidate]:
    """The candidates of :func:`ranking.rank` from the rows of their texts, in order: each
    text's cosine, its counts of the terms whose forms are ``words`` (from ``analyzed`` when
    already counted), its item's provenance from ``origin``, and ``(prefix, key, field)`` as
    its handle. Both passes (the search's and the second pass's) build theirs here."""
    known = analyzed or {}
    none = (None, None)
    out = []
    for r in rows:
        item = (r["prefix"], r["key"])
        handle = (item[0], item[1], r["field_name"])
        document = known.get(handle) or query_document(r["lm_text"] or "", words, r["lm_length"])
        out.append(rules.Candidate(item, cosine(r), document, *origin.get(item, none), handle))
    return out


def cosine(row: dict[str, Any]) -> float:
    """The row's cosine; 0 for a zero vector, whose cosine pgvector gives as NaN (the SQLite
    store's normalised zero row has cosine 0 with every query)."""
    value = float(row["cosine"])
    return 0.0 if math.isnan(value) else value


cached_document = lru_cache(maxsize=20_000)(rules.document)
"""``ranking.document``, cached: texts come back search after search."""
NOTHING = rules.Document({}, 0)


def query_document(text: str, words: frozenset[str], length: int | None) -> rules.Document:
    """What BM25 reads of the text: how often it holds each query term, and its analyzed
    length (``length``: ``store_vectors.lm_length``, :func:`ranking.length` of the text).

    Only the text's words among ``words`` (every word whose stem is a query term, see
    :func:`term_words`) are analyzed: the other terms of the text are never looked up, so the
    BM25 is that of the whole :func:`ranking.document`. Most dense candidates hold none."""
    if not words:
        return NOTHING
    if len(words) > _FINDER_WORDS:  # a regex of thousands of alternatives is slower
        found = [word for word in rules.tokens(text) if word in words]
    else:  # the lexical text (cut, CJK runs as bigrams), as tokens() splits it
        folded = rules.fold(rules.lexical_text(text))
        found = finder(words, folded.isascii()).findall(folded)
    if not found:
        return NOTHING
    if length is None:  # a row written without langmem's columns
        return cached_document(text)
    return rules.Document(Counter(rules.analyze(" ".join(found))), length)


_FINDER_WORDS = 200
"""Up to this many words, :func:`query_document` finds them with one regex (:func:`finder`);
past it, it splits the text (the same words: :func:`ranking.tokens`' split of the folded text)."""


@lru_cache(maxsize=256)
def finder(words: frozenset[str], ascii: bool) -> re.Pattern[str]:
    """A regex finding, in folded text, each occurrence of a whole word (as
    :func:`ranking.tokens` splits words) that is one of ``words``: one scan of the text
    instead of splitting it into all its words."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    inside = "[a-z0-9]" if ascii else r"[^\W_]"
    return re.compile(rf"(?<!{inside})(?:{alternatives})(?!{inside})")


def term_words(terms: Sequence[str]) -> frozenset[str]:
    """Every word that :func:`ranking.analyze` turns into one of ``terms``
    (:func:`ranking.forms` lists them)."""
    return frozenset(word for term in terms for word in rules.forms(term))


def _provenance(rows: list[dict[str, Any]], *, times: bool) -> Origins:
    """Item -> (``thread_id``, ``created_at`` as Unix seconds) from the items' values (the time
    only for items with a thread, unless ``times``: every item's), as on SQLite."""
    out: Origins = {}
    for r in rows:
        value = r["value"] if isinstance(r["value"], dict) else {}
        thread = value.get("thread_id")
        if thread is not None or times:
            label = str(thread) if thread is not None else None
            out[(r["prefix"], r["key"])] = (
                label,
                _seconds(value.get("created_at"), r["created_at"]),
            )
    return out


def _seconds(stamp: Any, stored: Any) -> float | None:
    if isinstance(stamp, str):
        try:
            return datetime.fromisoformat(stamp).timestamp()
        except ValueError:
            pass
    return stored.timestamp() if isinstance(stored, datetime) else None
