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


ESTIMATE_ABOVE = 10_000
"""In a store of more than this many texts, the count of texts and of the words ``ANALYZE``
found most common come from its statistics instead of a count: the IDF of a common word barely
moves with it, and counting it would read thousands of rows."""


class WordCounts:
    """Per store handle: how many indexed texts hold each word, reused for ``COUNT_TTL``.

    Counts are exact up to ``ESTIMATE_ABOVE`` texts, so rankings are the embedded store's to
    the last digit; in larger stores the number of texts and the counts of common words come
    from ``ANALYZE``'s statistics.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}
        self._documents: tuple[float, int] = (0.0, 0)
        self._common: tuple[float, dict[str, float]] = (0.0, {})

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._documents = (0.0, 0)

    def documents(self, cur: Any) -> int:
        stamp, total = self._documents
        if time.monotonic() - stamp > COUNT_TTL:
            cur.execute(
                "SELECT reltuples::bigint AS n FROM pg_class WHERE oid = 'store_vectors'::regclass"
            )
            total = int(cur.fetchone()["n"])
            if total <= ESTIMATE_ABOVE:
                cur.execute("SELECT count(*) AS n FROM store_vectors")
                total = int(cur.fetchone()["n"])
            self._documents = (time.monotonic(), total)
        return total

    def _frequent(self, cur: Any) -> dict[str, float]:
        """Word -> estimated share of texts, for the words ``ANALYZE`` found most common."""
        stamp, shares = self._common
        if time.monotonic() - stamp > 6 * COUNT_TTL:
            cur.execute(
                "SELECT most_common_elems::text::text[] AS w, most_common_elem_freqs AS f"
                " FROM pg_stats WHERE tablename = 'store_vectors' AND attname = 'lm_words'"
                " AND schemaname = current_schema()"
            )
            row = cur.fetchone()
            shares = dict(zip(row["w"], row["f"])) if row and row["w"] else {}
            self._common = (time.monotonic(), shares)
        return shares

    def count(self, cur: Any, words: list[str]) -> dict[str, int]:
        now = time.monotonic()
        with self._lock:
            fresh = {w: c for w, (t, c) in self._counts.items() if now - t <= COUNT_TTL}
        missing = [w for w in words if w not in fresh]
        if missing:
            documents = self.documents(cur)
            found: dict[str, int] = {}
            if documents > ESTIMATE_ABOVE:
                shares = self._frequent(cur)
                for word in missing:
                    if word in shares:  # common enough for the statistics: an estimate will do
                        found[word] = max(1, round(shares[word] * documents))
            counted = [w for w in missing if w not in found]
            if counted:
                cur.execute(
                    "SELECT w, (SELECT count(*) FROM store_vectors sv"
                    " WHERE sv.lm_words @@ quote_literal(w)::tsquery) AS n"
                    " FROM unnest(%s::text[]) AS w",
                    (counted,),
                )
                found.update({row["w"]: int(row["n"]) for row in cur.fetchall()})
            with self._lock:
                if len(self._counts) > 50_000:
                    self._counts.clear()
                for word in missing:
                    self._counts[word] = (now, found.get(word, 0))
                    fresh[word] = found.get(word, 0)
        return {w: fresh[w] for w in words}


def _exact(store: PostgresStore, cur: Any, ns_sql: str, ns_params: list[Any]) -> bool:
    """Whether to scan the namespace's rows exactly (few rows) rather than through HNSW.

    Decided on the planner's row estimate (no rows read): a wrong estimate costs time, never
    results, since both ways return full results.
    """
    if store.search_mode != "auto":
        return store.search_mode == "exact"
    if store.exact_max <= 0:
        return False
    cur.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM store_vectors sv WHERE {ns_sql}", ns_params)
    plan = cur.fetchone()["QUERY PLAN"]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return float(plan[0]["Plan"]["Plan Rows"]) <= store.exact_max


def _candidates(
    cur: Any,
    inner: tuple[str, list[Any]],
    post: tuple[str, list[Any]],
    literal: str,
    limit: int,
    exact: bool,
) -> list[dict[str, Any]]:
    """The ``limit`` nearest vector rows meeting ``inner``, then those whose item meets
    ``post`` (not expired, prefilter), with their item's columns.

    Distances are computed once per row; values and texts are read for the winners only.
    With ``exact``, an optimisation fence keeps the planner off the HNSW index.
    """
    where, params = inner
    post_sql, post_params = post
    fence = " OFFSET 0" if exact else ""
    cur.execute(
        "WITH near AS (SELECT * FROM (SELECT sv.prefix, sv.key, sv.field_name,"
        f" sv.embedding <=> %s::vector AS dist FROM store_vectors sv WHERE {where}{fence}) d"
        " ORDER BY dist LIMIT %s)"
        f" SELECT {_COLUMNS}, near.field_name, v.lm_text, 1 - near.dist AS cosine FROM near"
        " JOIN store s ON s.prefix = near.prefix AND s.key = near.key"
        " JOIN store_vectors v ON v.prefix = near.prefix AND v.key = near.key"
        f" AND v.field_name = near.field_name WHERE {_EXPIRY}{post_sql}",
        [literal, *params, limit, *post_params],
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
    post = prefilter(op.filter)
    literal = vector_literal(vector)
    exact = _exact(store, cur, ns_sql, ns_params)
    config = cast(dict[str, Any], store.index_config or {})
    per_item = int(config.get("__estimated_num_vectors", 1)) or 1
    top = max(want * 2, 20) * per_item
    text = op.query or ""
    weights: dict[str, float] = {}
    forms: dict[str, str] = {}
    lexical: list[dict[str, Any]] = []
    if store.hybrid:
        weights, forms, lexical = _lexical_candidates(
            store, cur, text, (ns_sql, ns_params), post, literal, want
        )
        lexical = [r for r in lexical if _filters.matches(r["value"], op.filter)]
    while True:
        rows = _candidates(cur, (ns_sql, ns_params), post, literal, top, exact)
        fetched = len(rows)
        rows = [r for r in rows if _filters.matches(r["value"], op.filter)]
        seen = {(r["prefix"], r["key"], r["field_name"]) for r in rows}
        rows += [r for r in lexical if (r["prefix"], r["key"], r["field_name"]) not in seen]
        # items as (created_at, prefix, key): equal scores go newest first, as on SQLite
        ranking = _fusion.rank_candidates(
            [(_item(r), float(r["cosine"]), r["lm_text"] or "") for r in rows], weights, forms
        )
        if len(ranking) >= want or top >= 1_000_000:
            break
        if fetched < top and not _may_have_more(cur, ns_sql, ns_params, top):
            break
        top *= 4  # filters, expiry or items with several texts used up the rows: look further
    by_item = {_item(r): r for r in rows}
    return [_search_item(by_item[item], float(score)) for score, item in ranking[offset:want]]


def _may_have_more(cur: Any, ns_sql: str, ns_params: list[Any], top: int) -> bool:
    """Whether the namespace holds more than ``top`` vector rows."""
    cur.execute(
        f"SELECT count(*) AS n FROM (SELECT 1 FROM store_vectors sv WHERE {ns_sql} LIMIT %s) t",
        [*ns_params, top + 1],
    )
    return int(cur.fetchone()["n"]) > top


def _item(row: dict[str, Any]) -> tuple[Any, str, str]:
    return (row["created_at"], row["prefix"], row["key"])


def _lexical_candidates(
    store: PostgresStore,
    cur: Any,
    text: str,
    inner: tuple[str, list[Any]],
    post: tuple[str, list[Any]],
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
    ns_sql, ns_params = inner
    # usually every match fits; when a word has more texts than fit, the best ts_rank win
    rank = " ORDER BY ts_rank(sv.lm_words, %s::tsquery) DESC"
    order = "" if max(search.values()) <= fetch else rank
    post_sql, post_params = post
    # the matching rows' keys first; values, texts and cosines for the kept ones only
    cur.execute(
        "WITH hits AS (SELECT sv.prefix, sv.key, sv.field_name FROM store_vectors sv"
        f" WHERE sv.lm_words @@ %s::tsquery AND {ns_sql}{order} LIMIT %s)"
        f" SELECT {_COLUMNS}, v.field_name, v.lm_text, 1 - (v.embedding <=> %s::vector) AS cosine"
        " FROM hits JOIN store_vectors v ON v.prefix = hits.prefix AND v.key = hits.key"
        " AND v.field_name = hits.field_name"
        f" JOIN store s ON s.prefix = hits.prefix AND s.key = hits.key WHERE {_EXPIRY}{post_sql}",
        [query, *ns_params, *([query] if order else []), fetch, literal, *post_params],
    )
    return weights, forms, list(cur.fetchall())


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
    return [_search_item(r, None) for r in found]


def _search_item(row: dict[str, Any], score: float | None) -> SearchItem:
    return SearchItem(
        namespace=tuple(row["prefix"].split(".")),
        key=row["key"],
        value=row["value"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        score=score,
    )
