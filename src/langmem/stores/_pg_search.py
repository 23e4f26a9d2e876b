"""Search on PostgreSQL: pgvector candidates, full-text candidates, the shared fusion.

The dense side scans a namespace exactly when it is small (an index-free ``ORDER BY`` over the
namespace's rows) and uses the HNSW index with iterative scans when it is large, chosen per
query: exact is faster and perfect below a few thousand rows, HNSW wins above (see
bench/postgres.py). The lexical side uses a GIN index on ``store_vectors.lm_words``, a
``tsvector`` of the text's words as :func:`_lexical.tokens` splits them, so both stores see the
same words; :mod:`_fusion` scores the candidates exactly as the embedded store does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from langgraph.store.base import SearchItem, SearchOp

from langmem.stores import _filters, _fusion, _lexical

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore

COUNT_TTL = 10.0
"""Seconds a word's document count (its IDF) is reused before it is counted again. A handle's
own writes clear its counts at once; other processes' writes show within this delay."""
_EXPIRY = "(s.expires_at IS NULL OR s.expires_at > NOW())"
_COLUMNS = "s.prefix, s.key, s.value, s.created_at, s.updated_at"


def namespace_condition(column: str, prefix: tuple[str, ...]) -> tuple[str, list[Any]]:
    """SQL matching a namespace and its descendants on whole labels (index friendly)."""
    if not prefix:
        return "TRUE", []
    path = ".".join(prefix)
    escaped = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"({column} = %s OR {column} LIKE %s ESCAPE '\\')", [path, f"{escaped}.%"]


def prefilter(filter: dict[str, Any] | None) -> tuple[str, list[Any]]:
    """JSON containment for plain string equalities: a cheap superset of the exact rule."""
    wanted: dict[str, Any] = {}
    for key, condition in (filter or {}).items():
        if isinstance(condition, str):
            wanted[key] = condition
        elif isinstance(condition, dict) and isinstance(condition.get("$eq"), str):
            wanted[key] = condition["$eq"]
    if not wanted:
        return "", []
    return " AND s.value @> %s::jsonb", [json.dumps(wanted)]


def tsquery(words: Sequence[str]) -> str:
    """A tsquery matching any of ``words`` (words from :func:`_lexical.tokens`: no quotes)."""
    return " | ".join(f"'{word}'" for word in words)


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


class WordCounts:
    """Per store handle: how many indexed texts hold each word, reused for ``COUNT_TTL``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}
        self._documents: tuple[float, int] = (0.0, 0)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._documents = (0.0, 0)

    def documents(self, cur: Any) -> int:
        stamp, total = self._documents
        if time.monotonic() - stamp > COUNT_TTL:
            cur.execute("SELECT count(*) AS n FROM store_vectors")
            total = int(cur.fetchone()["n"])
            self._documents = (time.monotonic(), total)
        return total

    def count(self, cur: Any, words: list[str]) -> dict[str, int]:
        now = time.monotonic()
        with self._lock:
            fresh = {w: c for w, (t, c) in self._counts.items() if now - t <= COUNT_TTL}
        missing = [w for w in words if w not in fresh]
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


def _exact(store: PostgresStore, cur: Any, ns_sql: str, ns_params: list[Any]) -> bool:
    """Whether the namespace is small enough to scan exactly."""
    if ns_sql == "TRUE" or store.exact_max <= 0:
        return store.exact_max > 0 and store.search_mode == "exact"
    if store.search_mode != "auto":
        return store.search_mode == "exact"
    cur.execute(
        f"SELECT count(*) AS n FROM (SELECT 1 FROM store_vectors sv WHERE {ns_sql} LIMIT %s) t",
        [*ns_params, store.exact_max + 1],
    )
    return int(cur.fetchone()["n"]) <= store.exact_max


def _candidates(
    cur: Any, where: str, params: list[Any], query: str, order: str, limit: int
) -> list[dict[str, Any]]:
    cur.execute(
        f"SELECT {_COLUMNS}, sv.field_name, sv.lm_text,"
        f" 1 - (sv.embedding <=> %s::vector) AS cosine"
        f" FROM store_vectors sv JOIN store s ON s.prefix = sv.prefix AND s.key = sv.key"
        f" WHERE {where} {order} LIMIT %s",
        [query, *params, limit],
    )
    return list(cur.fetchall())


def ranked_search(
    store: PostgresStore, cur: Any, op: SearchOp, vector: Sequence[float]
) -> list[SearchItem]:
    """One query's results: dense and lexical candidates fused, then the requested page."""
    limit, offset = max(int(op.limit), 0), max(int(op.offset), 0)
    want = offset + limit
    if want == 0:
        return []
    ns_sql, ns_params = namespace_condition("sv.prefix", tuple(op.namespace_prefix))
    pre_sql, pre_params = prefilter(op.filter)
    where = f"{ns_sql} AND {_EXPIRY}{pre_sql}"
    params = [*ns_params, *pre_params]
    literal = vector_literal(vector)
    exact = _exact(store, cur, ns_sql, ns_params)
    # "+ 0" keeps the planner off the HNSW index: an exact scan of the namespace's rows
    order = (
        "ORDER BY (sv.embedding <=> %s::vector) + 0"
        if exact
        else ("ORDER BY sv.embedding <=> %s::vector")
    )
    config = cast(dict[str, Any], store.index_config or {})
    per_item = int(config.get("__estimated_num_vectors", 1)) or 1
    top = max(want * 2, 20) * per_item
    text = op.query or ""
    weights: dict[str, float] = {}
    forms: dict[str, str] = {}
    lexical: list[dict[str, Any]] = []
    if store.hybrid:
        weights, forms, lexical = _lexical_candidates(
            store, cur, text, where, params, literal, want
        )
        lexical = [r for r in lexical if _filters.matches(r["value"], op.filter)]
    while True:
        rows = _candidates(cur, where, [*params, literal], literal, order, top)
        complete = len(rows) < top
        rows = [r for r in rows if _filters.matches(r["value"], op.filter)]
        seen = {(r["prefix"], r["key"], r["field_name"]) for r in rows}
        rows += [r for r in lexical if (r["prefix"], r["key"], r["field_name"]) not in seen]
        # items as (created_at, prefix, key): equal scores go newest first, as on SQLite
        ranking = _fusion.rank_candidates(
            [(_item(r), float(r["cosine"]), r["lm_text"] or "") for r in rows], weights, forms
        )
        if len(ranking) >= want or complete or not op.filter:
            break
        top *= 4  # the exact filter dropped rows the SQL let through: look further
    by_item = {_item(r): r for r in rows}
    hits = []
    for score, item in ranking[offset:want]:
        row = by_item[item]
        hits.append(
            SearchItem(
                namespace=tuple(row["prefix"].split(".")),
                key=row["key"],
                value=row["value"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                score=float(score),
            )
        )
    return hits


def _item(row: dict[str, Any]) -> tuple[Any, str, str]:
    return (row["created_at"], row["prefix"], row["key"])


def _lexical_candidates(
    store: PostgresStore,
    cur: Any,
    text: str,
    where: str,
    params: list[Any],
    literal: str,
    want: int,
) -> tuple[dict[str, float], dict[str, str], list[dict[str, Any]]]:
    terms = _lexical.query_terms(text)
    if not terms:
        return {}, {}, []
    documents = store.word_counts.documents(cur)
    weights, forms, search = _fusion.term_weights(
        terms, documents, lambda words: store.word_counts.count(cur, words)
    )
    if not search:
        return weights, forms, []
    fetch = max(want * 2, 30)
    query = tsquery(list(search))
    if max(search.values()) <= fetch:
        order = ""
    else:
        order = "ORDER BY ts_rank(sv.lm_words, %s::tsquery) DESC"
    rows = _candidates(
        cur,
        f"{where} AND sv.lm_words @@ %s::tsquery",
        [*params, query, *([query] if order else [])],
        literal,
        order,
        fetch,
    )
    return weights, forms, rows


def list_search(store: PostgresStore, cur: Any, op: SearchOp) -> list[SearchItem]:
    """Results without a query: newest first, exact filters, the requested page."""
    limit, offset = max(int(op.limit), 0), max(int(op.offset), 0)
    if limit == 0:
        return []
    ns_sql, ns_params = namespace_condition("s.prefix", tuple(op.namespace_prefix))
    pre_sql, pre_params = prefilter(op.filter)
    sql = (
        f"SELECT {_COLUMNS} FROM store s WHERE {ns_sql} AND {_EXPIRY}{pre_sql}"
        " ORDER BY s.updated_at DESC, s.key DESC LIMIT %s OFFSET %s"
    )
    found: list[dict[str, Any]] = []
    if not op.filter or (pre_sql and all(isinstance(v, str) for v in op.filter.values())):
        cur.execute(sql, [*ns_params, *pre_params, limit, offset])
        found = list(cur.fetchall())
    else:
        chunk, position = 500, 0
        while len(found) < offset + limit:
            cur.execute(sql, [*ns_params, *pre_params, chunk, position])
            rows = list(cur.fetchall())
            found += [r for r in rows if _filters.matches(r["value"], op.filter)]
            if len(rows) < chunk:
                break
            position += chunk
        found = found[offset : offset + limit]
    return [
        SearchItem(
            namespace=tuple(r["prefix"].split(".")),
            key=r["key"],
            value=r["value"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            score=None,
        )
        for r in found
    ]
