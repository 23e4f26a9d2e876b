"""Search on PostgreSQL: what :func:`langmem.stores.ranking.rank` needs, read with SQL.

The candidates, statistics and provenance are those "What a backend supplies" in
:mod:`langmem.stores.ranking` defines, so the embedded store and this one rank the same data the
same way. The dense side scans a namespace exactly when it is small (an ``ORDER BY`` over the
namespace's rows, read from the covering index ``store_vectors_lm_cover_idx`` alone) and uses
the HNSW index with iterative scans when it is large, chosen per query on the planner's size
estimate: exact is faster and perfect below a few thousand rows, HNSW wins above (see
bench/postgres.py). A large namespace's word lookups go to the GIN index first and filter by
namespace after (a bitmap of the namespace's rows costs more than it saves). The dense query is
sent first, in pipeline mode, on a second pooled connection when one is free (the server runs it
while the word queries run on the search's own connection; see ``PostgresStore._spare``), else
on the search's own connection ahead of the word counts.

The lexical side uses a GIN index on ``store_vectors.lm_words``, a
``tsvector`` of the text's distinct words as :func:`ranking.tokens` splits them (unstemmed, stop
words included, as SQLite's FTS5 vocabulary): a query term's document frequency sums the counts
of its stored forms (:func:`ranking.forms`), and ``store_vectors.lm_length`` holds each text's
analyzed length (:func:`ranking.length`) for BM25's average.

When the query's rarer words match more texts (in the whole store) than the lexical candidates
take, both stores keep the best of the whole store by FTS5's ``bm25()``, equal scores in the
order texts were written in, then the allowed ones, looking further while fewer than the
results wanted remain: the same candidates on both stores (tests/postgres/test_parity_lexical.py;
:mod:`._pg_lexical` reads them).

The candidates are built from the rows read here by :mod:`._pg_candidates` (cosines, query
term counts, provenance).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import psycopg
from langgraph.store.base import SearchItem, SearchOp
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.rows import dict_row

from langmem.stores import (
    _filters,
    _pg_candidates,
    _pg_connect,
    _pg_identity,
    _pg_lexical,
    _pg_untexted,
)
from langmem.stores import ranking as rules
from langmem.stores._similarity import postgres_similarity

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore

_EXPIRY = "(s.expires_at IS NULL OR s.expires_at > NOW())"


def _expiry(store: PostgresStore) -> str:
    """The item condition on expiry: expired items are left out unless the store's TTL config
    says ``omit_expired=False`` (then there is no condition at all)."""
    return _EXPIRY if store._omit_expired else "TRUE"


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
    """A tsquery matching any of ``words`` (words from :func:`ranking.tokens`: no quotes).

    Many words are grouped in parentheses two by two: PostgreSQL parses and evaluates a
    tsquery recursively, and ``'a' | 'b' | ...`` nests one level per word (thousands of words
    passed its stack depth limit); the groups nest one level per doubling."""
    quoted = [f"'{word}'" for word in words]
    if len(quoted) <= _FLAT_WORDS:
        return " | ".join(quoted)
    while len(quoted) > 1:
        paired = [f"({a} | {b})" for a, b in zip(quoted[::2], quoted[1::2])]
        quoted = paired + quoted[len(paired) * 2 :]
    return quoted[0]


_FLAT_WORDS = 64


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


class QueryVector:
    """A query vector as a statement parameter (``%s::vector``), sent in pgvector's binary
    form: a few microseconds to pack where the text form takes ~0.2 ms to write and to parse.
    Each value is rounded to float32 once, as pgvector stores it (and as the embedded store
    computes cosines)."""

    __slots__ = ("data",)

    def __init__(self, vector: Sequence[float]) -> None:
        self.data = struct.pack(f">HH{len(vector)}f", len(vector), 0, *vector)


class _QueryVectorDumper(Dumper):
    format = Format.BINARY  # no type oid: the server takes the type from the ``::vector``

    def dump(self, obj: QueryVector) -> bytes:
        return obj.data


psycopg.adapters.register_dumper(QueryVector, _QueryVectorDumper)


def _index_column(store: PostgresStore) -> str:
    """The select-list column of the identity a statement reads vectors under, when the
    database records one (see :func:`_pg_identity.verify`)."""
    return f", {_pg_identity.COLUMN}" if store._identity is not None and store._checks else ""


def _same_index(store: PostgresStore, rows: list[dict[str, Any]]) -> None:
    """Refuse rows read after a re-embed committed (see :mod:`._pg_identity`)."""
    if store._identity is not None and store._checks:
        _pg_identity.verify(rows, store._identity, _pg_connect.redact(store.url))


def _small(store: PostgresStore, cur: Any, prefix: tuple[str, ...]) -> bool:
    """Whether the namespace holds at most ``store.exact_max`` vector rows, by the planner's
    estimate (no rows read): a wrong estimate costs time, never results."""
    return store.exact_max > 0 and store.namespace_sizes.estimate(cur, prefix) <= store.exact_max


def _exact(store: PostgresStore, cur: Any, prefix: tuple[str, ...]) -> bool:
    """Whether to scan the namespace's rows exactly (few rows) rather than through HNSW."""
    if store.search_mode != "auto":
        return store.search_mode == "exact"
    return _small(store, cur, prefix)


def _near(
    prefix: tuple[str, ...], literal: QueryVector, exact: bool, cover: int
) -> tuple[str, list[Any]]:
    """SQL of the namespace's vector rows with their distance to the query, in no order.

    With ``exact`` an optimisation fence keeps the planner off the HNSW index; with ``cover``
    too (the longest identity the covering index holds, see
    :func:`langmem.stores._pg_schema.cover_limit`), the rows are read from the
    covering index alone, the few rows with identities too long for it from their own index."""
    ns_sql, ns_params = namespace_condition("sv.prefix", prefix)
    distance = "sv.embedding <=> %s::vector"
    if exact:  # a zero vector's distance is NaN to pgvector (sorted last); cosine 0 to the rule
        distance = f"coalesce(nullif({distance}, 'NaN'), 1)"
    select = f"SELECT sv.prefix, sv.key, sv.field_name, {distance} AS dist"
    if not exact:  # the index scan reads each row anyway: its text comes along
        return (
            f"{select}, sv.lm_text, sv.lm_length, sv.lm_seq AS place FROM store_vectors sv"
            f" WHERE {ns_sql}",
            [literal, *ns_params],
        )
    if not cover:
        return f"{select} FROM store_vectors sv WHERE {ns_sql} OFFSET 0", [literal, *ns_params]
    where, params = ns_sql, ns_params
    if prefix:  # a byte range the covering index can scan, then the exact namespace rule
        path = ".".join(prefix)
        where, params = (
            f"sv.prefix ~>=~ %s AND sv.prefix ~<~ %s AND {ns_sql}",
            [
                path,
                path + "/",
                *ns_params,
            ],
        )
    size = "octet_length(sv.prefix) + octet_length(sv.key) + octet_length(sv.field_name)"
    return (
        f"SELECT * FROM ({select} FROM store_vectors sv WHERE {where} AND {size} <= {cover}"
        f" UNION ALL {select} FROM store_vectors sv WHERE {where} AND {size} > {cover}) u"
        " OFFSET 0",
        [literal, *params, literal, *params],
    )


def _send_candidates(
    store: PostgresStore,
    cur: Any,
    prefix: tuple[str, ...],
    post: tuple[str, list[Any]],
    literal: QueryVector,
    limit: int,
    exact: bool,
) -> Any:
    """Start the query of the ``limit`` nearest vector rows of the namespace, then those whose
    item meets ``post`` (not expired, prefilter), with their item's columns, best first; the
    rows are ``cur``'s to fetch (in pipeline mode, the query waits for the next sync).

    Distances are computed once per row; values and texts are read for the winners only.
    """
    cover = store.cover(cur) if exact else 0
    near, params = _near(prefix, literal, exact, cover)
    post_sql, post_params = post
    conn = cur.connection
    if cover:  # the planner prices an index-only scan of the namespace above a bitmap scan
        conn.execute("SET LOCAL enable_bitmapscan = off")
    text = (
        "v.lm_text, v.lm_length FROM near JOIN store_vectors v ON v.prefix = near.prefix"
        " AND v.key = near.key AND v.field_name = near.field_name"
        if exact
        else "near.lm_text, near.lm_length FROM near"
    )
    # equal distances in the order texts were written in (``lm_seq``, as the embedded store
    # lists them by vector id), whatever the plan: the ranking keeps the order candidates come in
    place = "v.lm_seq" if exact else "near.place"
    cur.execute(
        f"WITH near AS (SELECT * FROM ({near}) d ORDER BY dist LIMIT %s)"
        f" SELECT {_COLUMNS}, near.field_name, 1 - near.dist AS cosine{_index_column(store)},"
        f" {text}"
        " JOIN store s ON s.prefix = near.prefix AND s.key = near.key"
        f" WHERE {_expiry(store)}{post_sql} ORDER BY near.dist, {place}",
        [*params, limit, *post_params],
    )
    if cover:
        conn.execute("RESET enable_bitmapscan")
    return cur


def _dense(
    store: PostgresStore,
    cur: Any,
    op: SearchOp,
    post: tuple[str, list[Any]],
    literal: QueryVector,
    top: int,
    sent: Any | None = None,
    *,
    ties: bool = False,
) -> list[dict[str, Any]]:
    """The ``top`` allowed vector rows (namespace, filter, not expired) by cosine, best first;
    with ``ties``, also the rows whose cosine equals the last one's, up to ``2 * top`` rows in
    all (as the embedded store's candidates: which of several tied rows to keep is then no
    choice, up to that bound).

    ``sent``: a cursor on which :func:`_send_candidates` already asked for the ``top`` rows
    (``top + 1`` with ``ties``: one more shows whether the last one is tied)."""
    prefix = tuple(op.namespace_prefix)
    exact = _exact(store, cur, prefix)
    fetch = top + 1 if ties else top
    while True:
        if sent is None:
            sent = _send_candidates(store, cur, prefix, post, literal, fetch, exact)
        rows = list(sent.fetchall())
        _same_index(store, rows)
        sent = None
        fetched = len(rows)
        rows = [r for r in rows if _filters.matches(r["value"], op.filter)]
        if ties and len(rows) > top:
            end, edge, most = top, rows[top - 1]["cosine"], 2 * top
            while end < len(rows) and end < most and rows[end]["cosine"] == edge:
                end += 1
            if end < len(rows) or end == most:  # a row past the tied ones, or the bound
                return rows[:end]
        elif not ties and len(rows) >= top:
            return rows[:top]
        if fetch >= 1_000_000 or (fetched < fetch and not _may_have_more(cur, prefix, fetch)):
            return rows
        fetch *= 4  # filters or expiry used up the rows, or ties run past them: look further


def _may_have_more(cur: Any, prefix: tuple[str, ...], top: int) -> bool:
    """Whether the namespace holds more than ``top`` vector rows."""
    ns_sql, ns_params = namespace_condition("sv.prefix", prefix)
    cur.execute(
        f"SELECT count(*) AS n FROM (SELECT 1 FROM store_vectors sv WHERE {ns_sql} LIMIT %s) t",
        [*ns_params, top + 1],
    )
    return int(cur.fetchone()["n"]) > top


def explain(
    store: PostgresStore,
    cur: Any,
    op: SearchOp,
    vector: Sequence[float],
    ranking: rules.Ranking | None,
    *,
    parts: bool = True,
) -> list[tuple[dict[str, Any], rules.Explanation]]:
    """The ranked candidate items of one query, best first, each with its item's row and the
    parts of its score; items are ``(prefix, key)``. Hybrid with ``ranking`` (see
    :mod:`langmem.stores.ranking`), else plain cosine. ``parts=False``: the second pass's
    share of each score is left out (searches read the scores only)."""
    want = max(int(op.limit), 0) + max(int(op.offset), 0)
    if want == 0:
        return []
    post = prefilter(op.filter)
    literal = QueryVector(vector)
    if ranking is None:
        rows = _dense(store, cur, op, post, literal, max(want * 2, 20))
        best: dict[tuple[str, str], tuple[dict[str, Any], rules.Explanation]] = {}
        for r in rows:
            item = (r["prefix"], r["key"])
            if item not in best:
                cosine = _pg_candidates.cosine(r)
                dense = min(max(cosine, 0.0), 1.0)
                best[item] = (
                    r,
                    rules.Explanation(item, cosine, cosine, dense, 0.0, 0.0, {}, cosine),
                )
        return list(best.values())
    terms = rules.query_terms(op.query or "")
    # the dense query goes first, on its own connection when one is free (see the module doc)
    top = max(want * 2, ranking.depth)
    prefix = tuple(op.namespace_prefix)
    exact = _exact(store, cur, prefix)
    with store._spare() as spare:
        # on a second connection when one is free: the server runs both sides at once
        dense_cur = (spare or cur.connection).cursor(binary=True, row_factory=dict_row)
        sent = _send_candidates(store, dense_cur, prefix, post, literal, top + 1, exact)
        return _hybrid(store, cur, op, (post, literal, top, sent), terms, ranking, want, parts)


def _hybrid(
    store: PostgresStore,
    cur: Any,
    op: SearchOp,
    dense: tuple[tuple[str, list[Any]], QueryVector, int, Any],
    terms: list[str],
    ranking: rules.Ranking,
    want: int,
    parts: bool = True,
) -> list[tuple[dict[str, Any], rules.Explanation]]:
    """The ranked candidates, once the dense query is sent (``dense``: the item condition,
    the query vector's literal, how many rows by cosine, the cursor that will read them):
    the lexical side is read on ``cur`` meanwhile."""
    post, literal, top, sent = dense
    prefix = tuple(op.namespace_prefix)
    _pg_untexted.fill_due(store, cur)  # rows LangGraph's own store wrote: their words
    documents, terms_in_all, tokens = store.word_counts.documents(cur)
    average = terms_in_all / max(documents, 1)
    frequencies: dict[str, int] = {}
    lexical: list[dict[str, Any]] = []
    scope = None
    if terms:
        # a large namespace filters the texts found by word (a bitmap of its rows costs more)
        column = "sv.prefix" if _small(store, cur, prefix) else "(sv.prefix || '')"
        inner = namespace_condition(column, prefix)
        scope = (inner, post, literal)
        frequencies, lexical = _pg_lexical.lexical_side(
            store,
            cur,
            op,
            terms,
            rules.Corpus(documents, average, {}),
            tokens,
            scope,
            want,
        )
    words = _pg_candidates.term_words(terms)
    # the lexical rows are analyzed while the vector query may still run
    texts = {
        _pg_candidates.row_id(r): _pg_candidates.query_document(
            r["lm_text"] or "", words, r["lm_length"]
        )
        for r in lexical
    }
    rows = _dense(store, cur, op, post, literal, top, sent, ties=True)
    if not rows:
        return []
    rows, _ = _pg_candidates.merged(rows, lexical)
    corpus = rules.Corpus(documents, average, frequencies)
    origin = _pg_candidates.origins(rows, ranking)
    candidates = _pg_candidates.build_candidates(rows, words, origin, texts)
    similar = _watched_similarity(store, cur)
    if ranking.feedback and scope is not None:  # a second pass: see stores/_feedback.py
        from langmem.stores import _feedback, _pg_feedback

        source = _pg_feedback.PostgresSource(
            store, cur, op, (rows, origin), (corpus, tokens), ranking, scope, want
        )
        ranked = _feedback.rank(
            candidates, terms, corpus, ranking, source, parts=parts, similarity=similar
        )
        rows = source.rows
    else:
        ranked = rules.rank(candidates, terms, corpus, ranking, similarity=similar)
    by_item = {(r["prefix"], r["key"]): r for r in rows}
    return [(by_item[e.item], e) for e in ranked]


def _watched_similarity(store: PostgresStore, cur: Any) -> rules.Similarity:
    """:func:`postgres_similarity`, each of its queries followed by a look at the recorded
    identity: they read vectors in snapshots of their own, so a re-embed committed before one
    of them refuses the search, as in :func:`_same_index`."""
    base: Any = postgres_similarity(cur)
    if store._identity is None or not store._checks:
        return cast("rules.Similarity", base)

    def recheck() -> None:
        cur.execute(f"SELECT {_pg_identity.COLUMN}")
        _same_index(store, [cur.fetchone()])

    def similarity(candidates: Any, floor: float) -> list[tuple[int, int, float]]:
        found = list(base(candidates, floor))
        recheck()
        return found

    def sums(candidates: Any, inside: Any) -> list[float]:
        found = list(base.sums(candidates, inside))
        recheck()
        return found

    similarity.sums = sums  # type: ignore[attr-defined]
    return similarity


def ranked_search(
    store: PostgresStore, cur: Any, op: SearchOp, vector: Sequence[float]
) -> list[SearchItem]:
    """One query's results: the ranked candidates' requested page."""
    offset = max(int(op.offset), 0)
    ranked = explain(store, cur, op, vector, store.active_ranking(), parts=False)
    want = offset + max(int(op.limit), 0)
    return [search_item(row, e.score) for row, e in ranked[offset:want]]


def list_search(store: PostgresStore, cur: Any, op: SearchOp) -> list[SearchItem]:
    """Results without a query: newest first, exact filters, the requested page."""
    limit, offset = max(int(op.limit), 0), max(int(op.offset), 0)
    if limit == 0:
        return []
    ns_sql, ns_params = namespace_condition("s.prefix", tuple(op.namespace_prefix))
    pre_sql, pre_params = prefilter(op.filter)
    sql = (
        f"SELECT {_COLUMNS} FROM store s WHERE {ns_sql} AND {_expiry(store)}{pre_sql}"
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
    return [search_item(r, None) for r in found]


def search_item(row: dict[str, Any], score: float | None) -> SearchItem:
    return SearchItem(
        namespace=tuple(row["prefix"].split(".")),
        key=row["key"],
        value=row["value"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        score=score,
    )
