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
take, both stores keep the best of the whole store by FTS5's ``bm25()`` (:func:`fts5_rank`, from
``lm_words``, ``lm_tokens`` and ``lm_repeats``: each text's words, its word count and its
repeated words), equal scores in the order texts were written in, then the allowed ones, looking
further while fewer than the results wanted remain: the same candidates on both stores
(tests/postgres/test_parity_lexical.py).

The candidates are built from the rows read here by :mod:`._pg_candidates` (cosines, query
term counts, provenance).
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import psycopg
from langgraph.store.base import SearchItem, SearchOp
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.rows import dict_row

from langmem.stores import _filters, _pg_candidates, _pg_connect, _pg_identity
from langmem.stores import ranking as rules
from langmem.stores._search import COMMON_FLOOR, COMMON_SHARE
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
    """A tsquery matching any of ``words`` (words from :func:`ranking.tokens`: no quotes)."""
    return " | ".join(f"'{word}'" for word in words)


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
    documents, terms_in_all, _ = store.word_counts.documents(cur)
    average = terms_in_all / max(documents, 1)
    frequencies: dict[str, int] = {}
    lexical: list[dict[str, Any]] = []
    scope = None
    if terms:
        # a large namespace filters the texts found by word (a bitmap of its rows costs more)
        column = "sv.prefix" if _small(store, cur, prefix) else "(sv.prefix || '')"
        inner = namespace_condition(column, prefix)
        scope = (inner, post, literal)
        frequencies, lexical = _lexical_side(
            store,
            cur,
            op,
            terms,
            rules.Corpus(documents, average, {}),
            ranking,
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
            store, cur, op, (rows, origin), corpus, ranking, scope, want
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


def _lexical_side(
    store: PostgresStore,
    cur: Any,
    op: SearchOp,
    terms: list[str],
    corpus: rules.Corpus,
    ranking: rules.Ranking,
    scope: tuple[tuple[str, list[Any]], tuple[str, list[Any]], QueryVector],
    want: int,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Document frequency of each term, and the allowed rows of texts holding the rarer ones.

    ``scope``: the namespace condition, the item condition and the query vector's literal."""
    documents = corpus.documents
    words = {t: rules.forms(t) for t in terms}
    counts = store.word_counts.count(cur, [w for forms in words.values() for w in forms])
    frequencies = {t: min(sum(counts[w] for w in words[t]), documents) for t in terms}
    common = max(COMMON_SHARE * documents, COMMON_FLOOR)
    search = {w: counts[w] for t in terms for w in words[t] if 0 < counts[w] <= common}
    return frequencies, _lexical_rows(store, cur, op, search, scope, want)


def _lexical_rows(
    store: PostgresStore,
    cur: Any,
    op: SearchOp,
    search: dict[str, int],
    scope: tuple[tuple[str, list[Any]], tuple[str, list[Any]], QueryVector],
    want: int,
) -> list[dict[str, Any]]:
    """Allowed rows of texts holding any of ``search`` (word -> texts holding it): all of them
    when few, else the best of the whole store by FTS5's ``bm25()`` (:func:`fts5_rank`), the
    allowed ones kept and the scan widened while fewer than ``want`` remain, exactly as the
    embedded store's ``ORDER BY bm25(langmem_fts) LIMIT n`` (equal scores in the order texts
    were written in, as SQLite's rowids)."""
    if not search:
        return []
    (ns_sql, ns_params), (post_sql, post_params), literal = scope
    fetch = max(want * 2, 30)
    query = tsquery(list(search))
    if sum(search.values()) <= fetch:  # usually every match fits: no ordering needed
        # listed in the order texts were written in (``lm_seq``), as SQLite's rowids (the
        # ranking's ties keep the order candidates are listed in)
        cur.execute(
            f"WITH hits AS (SELECT sv.prefix, sv.key, sv.field_name, sv.lm_seq AS place"
            f" FROM store_vectors sv WHERE sv.lm_words @@ %s::tsquery AND {ns_sql})"
            f" SELECT {_LEXICAL_COLUMNS}{_index_column(store)} FROM hits{_LEXICAL_JOIN}"
            f" WHERE {_expiry(store)}{post_sql} ORDER BY hits.place",
            [query, *ns_params, literal, *post_params],
        )
        found = list(cur.fetchall())
        _same_index(store, found)
        return [r for r in found if _filters.matches(r["value"], op.filter)]
    documents, _, words = store.word_counts.documents(cur)
    rank, rank_params = fts5_rank(search, documents, words)
    prefix = tuple(op.namespace_prefix)
    if not op.filter and prefix and 4 * store.namespace_sizes.estimate(cur, prefix) < documents:
        # a small part of the store: few of its best are allowed, so look as far as needed
        return _widened(store, cur, op, (rank, rank_params, query), scope, (fetch, want))
    where = namespace_condition("hits.prefix", prefix)
    while True:
        # the best texts of the whole store; values, texts and cosines for the allowed ones
        cur.execute(
            f"WITH hits AS MATERIALIZED (SELECT sv.prefix, sv.key, sv.field_name,"
            f" sv.lm_seq AS place, {rank} AS rank FROM store_vectors sv"
            " WHERE sv.lm_words @@ %s::tsquery ORDER BY rank DESC, place LIMIT %s)"
            f" SELECT {_LEXICAL_COLUMNS}, (SELECT count(*) FROM hits) AS hits"
            f"{_index_column(store)} FROM hits{_LEXICAL_JOIN}"
            f" WHERE {where[0]} AND {_expiry(store)}{post_sql}"
            " ORDER BY hits.rank DESC, hits.place",
            [*rank_params, query, fetch, literal, *where[1], *post_params],
        )
        found = list(cur.fetchall())
        _same_index(store, found)
        rows = [r for r in found if _filters.matches(r["value"], op.filter)]
        if len(rows) >= want:
            return rows
        if not op.filter:  # every condition in SQL: where the widening stops, in one statement
            return _widened(store, cur, op, (rank, rank_params, query), scope, (fetch, want))
        if found:
            hits = int(found[0]["hits"])
        else:
            cur.execute(
                "SELECT count(*) AS n FROM (SELECT 1 FROM store_vectors sv"
                " WHERE sv.lm_words @@ %s::tsquery LIMIT %s) t",
                [query, fetch],
            )
            hits = int(cur.fetchone()["n"])
        # widen the scan when namespaces, filters or expiry dropped too many of the best rows
        if hits < fetch:
            return rows
        fetch *= 4


def _widened(
    store: PostgresStore,
    cur: Any,
    op: SearchOp,
    ranked: tuple[str, list[Any], str],
    scope: tuple[tuple[str, list[Any]], tuple[str, list[Any]], QueryVector],
    sizes: tuple[int, int],
) -> list[dict[str, Any]]:
    """:func:`_lexical_rows`' widening loop in one statement, for a search without filters
    (namespace and expiry only, both in SQL): every match of the store in FTS5's order
    (``pos``), the allowed ones, and the first of ``fetch``, ``4 * fetch``, ``16 * fetch``...
    that holds ``want`` allowed ones or every match (``ranked``: the rank's SQL and parameters
    and the tsquery; ``sizes``: ``fetch`` and ``want``); the allowed rows up to it."""
    rank, rank_params, query = ranked
    _, _, literal = scope
    fetch, want = sizes
    where = namespace_condition("o.prefix", tuple(op.namespace_prefix))
    cur.execute(
        f"WITH ordered AS MATERIALIZED (SELECT m.*, row_number() OVER (ORDER BY m.rank DESC,"
        " m.place) AS pos, count(*) OVER () AS total FROM (SELECT sv.prefix, sv.key,"
        f" sv.field_name, sv.lm_seq AS place, {rank} AS rank FROM store_vectors sv"
        " WHERE sv.lm_words @@ %s::tsquery) m),"
        " allowed AS MATERIALIZED (SELECT o.* FROM ordered o JOIN store s"
        f" ON s.prefix = o.prefix AND s.key = o.key WHERE {where[0]} AND {_expiry(store)}),"
        " bound AS (SELECT coalesce((SELECT pos FROM allowed ORDER BY pos OFFSET %s LIMIT 1),"
        " (SELECT max(total) + 1 FROM ordered), 0) AS b),"
        " cut AS (SELECT min(f) AS f FROM (SELECT %s::bigint << (2 * k) AS f"
        " FROM generate_series(0, 24) k) fs, bound WHERE fs.f >= bound.b)"
        f" SELECT {_LEXICAL_COLUMNS}{_index_column(store)} FROM allowed hits{_LEXICAL_JOIN}"
        " WHERE hits.pos <= (SELECT f FROM cut) ORDER BY hits.pos",
        [*rank_params, query, *where[1], max(want - 1, 0), fetch, literal],
    )
    rows = list(cur.fetchall())
    _same_index(store, rows)
    return rows


_LEXICAL_COLUMNS = (
    f"{_COLUMNS}, v.field_name, v.lm_text, v.lm_length, 1 - (v.embedding <=> %s::vector) AS cosine"
)
_LEXICAL_JOIN = (
    " JOIN store_vectors v ON v.prefix = hits.prefix AND v.key = hits.key"
    " AND v.field_name = hits.field_name"
    " JOIN store s ON s.prefix = hits.prefix AND s.key = hits.key"
)
_K1 = 1.2
_B = 0.75
"""FTS5's ``bm25()`` constants (fts5_aux.c), as :mod:`._lexicon` computes it."""


def fts5_rank(search: dict[str, int], documents: int, words: int) -> tuple[str, list[Any]]:
    """SQL of a ``store_vectors sv`` row's FTS5 ``bm25()`` over the words of ``search`` (word
    -> texts holding it), with its parameters: the same formula, constants and floating-point
    operations in the same order as FTS5 (and :meth:`._lexicon.Lexicon.fts5_order`), so the
    scores are SQLite's to the last bit. ``documents``: the store's texts; ``words``: their
    words in all (``lm_tokens``). Per word: its IDF (at least 1e-6) times
    ``tf * (k1 + 1) / (tf + k1 * (1 - b + b * words / average words))``, ``tf`` counted from
    ``lm_words`` and ``lm_repeats``; the words' parts added in order."""
    total = documents if documents > 0 else 1
    average = float(words) / float(total)
    if average <= 0.0:  # only texts written without langmem's columns: no word counts
        average = 1.0
    norm = "(%s::float8 * (%s::float8 + %s::float8 * coalesce(sv.lm_tokens, 0) / %s::float8))"
    norm_params = [_K1, 1 - _B, _B, average]
    parts: list[str] = []
    params: list[Any] = []
    for word, found in search.items():
        hits = min(found, total)  # counts read apart from the total may be ahead of it
        idf = math.log(((total - hits) + 0.5) / (hits + 0.5))
        tf = "coalesce((sv.lm_repeats ->> %s::text)::float8, 1::float8)"
        parts.append(
            f"CASE WHEN sv.lm_words @@ %s::tsquery THEN %s::float8 * (({tf} * %s::float8)"
            f" / ({tf} + {norm})) ELSE 0::float8 END"
        )
        params += [f"'{word}'", idf if idf > 0.0 else 1e-6, word, _K1 + 1.0, word, *norm_params]
    return "(" + " + ".join(parts) + ")", params


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
