"""Ranking a query over the SQLite store with SQL: what :func:`langmem.stores.ranking.rank` needs.

The store's searches now run :mod:`._hybrid`, which answers from memory what it can and comes
back here for the rest (the lexical side of a store holding texts that are not plain ASCII,
provenance without the item log, the second ranking pass); this module's :func:`rank` and
:func:`explain` remain the reference the tests compare the memory path with, and the plain
cosine ranking (``ranking=None``).

Pure functions over a SQLite connection and the store's :class:`VectorIndex`; the store decides
which rows are allowed (namespace, filter) and turns the ranked item ids into results. The
dense side is exact (every allowed row's cosine); the lexical side reads the FTS5 index of the
texts (unstemmed words, migration 3) for the texts holding a query's words, and each word's
document count from ``langmem_term_docs`` (kept by the writes, the same numbers as FTS5's
``fts5vocab``, which is read instead while the table lags another writer: see
:mod:`._term_docs`): a query term matches every stored word whose :func:`ranking.stem` is the
term, looked up by equality (:func:`ranking.forms` lists the words that can have that stem).
The cosines are computed beside the lexical side, on the store's worker thread
(:mod:`._cosines`); of each candidate text only the query's terms are counted, in its words
split once (:mod:`._words`), with the analyzed length stored beside its vector
(:func:`_documents`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from concurrent.futures import Executor
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from langmem.stores import _cosines, _feedback, _term_docs
from langmem.stores import ranking as rules
from langmem.stores._similarity import sqlite_similarity
from langmem.stores._writes import chunks

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._vectors import VectorIndex

COMMON_SHARE = 0.02
COMMON_FLOOR = 100
"""Words in more than ``max(COMMON_SHARE * texts, COMMON_FLOOR)`` texts do not fetch lexical
candidates (they still count in BM25): their posting lists are long and they say little about
which text is meant."""

Forms = list[tuple[str, int]]
"""Stored words of one term, with how many texts hold each."""

Origin = tuple[str | None, float | None]
Origins = dict[int, Origin]
"""Item id -> its ``thread_id`` and ``created_at`` (Unix seconds), as :func:`_provenance` reads
them; a store keeps one per snapshot (any write may change a value but not its texts)."""
_ORIGINS_KEPT = 200_000

_FIELD = "CASE WHEN instr(value, '\"{0}\"') THEN json_extract(value, '$.{0}') END"
"""A top-level field of an item's value. Values are stored as ``json.dumps`` writes them, which
never escapes a letter or ``_`` in a key, so a value without the quoted name has no such key:
the cheap ``instr`` spares parsing it (json_extract costs ~6 us a value, most of a search's
provenance)."""

THREADED = "instr(value, '\"thread_id\"') > 0"
"""Items whose value names a ``thread_id`` (the condition of their partial index)."""

_NO_TERMS = rules.Document({}, 0)
"""The analyzed text of any text that holds none of the query's terms, as far as BM25 can
tell: it reads only the counts of the query's terms, so such a text scores 0 whatever its
length."""


def term_forms(
    conn: sqlite3.Connection, terms: Iterable[str], cache: dict[str, Forms] | None
) -> dict[str, Forms]:
    """Each term's stored forms (``cache``: the store's, valid until its texts change).

    The words whose stem is a term are the term itself and the term plus one of the stemmer's
    suffixes (:func:`ranking.forms`): those are looked up by equality in the vocabulary."""
    known = cache if cache is not None else {}
    missing = [t for t in dict.fromkeys(terms) if t not in known]
    lookups = {word: term for term in missing for word in rules.forms(term)}
    words = list(lookups)
    counts = _term_docs.lookup(conn, words) if words else {}
    if counts is None:  # the table is behind another writer's changes: FTS5's own counts
        counts = _term_docs.vocab_counts(conn, words)
    for term in missing:
        known[term] = []
    for word, term in lookups.items():
        if word in counts:
            known[term].append((word, int(counts[word])))
    return {term: known[term] for term in terms}


def fts_query(words: Iterable[str]) -> str | None:
    """An FTS5 ``MATCH`` expression for texts holding any of ``words`` (``None`` if none).

    Example:
        >>> fts_query(["alice", "2019"])
        '"alice" OR "2019"'
    """
    quoted = [f'"{word}"' for word in words]
    return " OR ".join(quoted) if quoted else None


def lexical_rows(
    conn: sqlite3.Connection,
    words: dict[str, int],
    vectors: VectorIndex,
    allowed: NDArray[np.bool_],
    want: int,
) -> list[int]:
    """Matrix rows of texts holding any of ``words`` (word -> texts holding it) among the
    allowed rows: all of them when few, else the best by FTS5 BM25 (at least ``want``)."""
    expression = fts_query(words)
    if expression is None:
        return []
    fetch = max(want * 2, 30)
    # usually the searched words are rare and every match fits: then no BM25 ordering is needed
    if sum(words.values()) <= fetch:
        found = conn.execute(
            "SELECT rowid FROM langmem_fts WHERE langmem_fts MATCH ?", (expression,)
        ).fetchall()
        return _allowed_rows(found, vectors, allowed)
    while True:
        found = conn.execute(
            "SELECT rowid FROM langmem_fts WHERE langmem_fts MATCH ?"
            " ORDER BY bm25(langmem_fts) LIMIT ?",
            (expression, fetch),
        ).fetchall()
        rows = _allowed_rows(found, vectors, allowed)
        # widen the scan when namespace or filter masks dropped too many of the best rows
        if len(rows) >= want or len(found) < fetch:
            return rows
        fetch *= 4


def _allowed_rows(
    found: list[tuple[int]], vectors: VectorIndex, allowed: NDArray[np.bool_]
) -> list[int]:
    row_of = vectors.row_of
    rows = [
        row for row in map(row_of.get, [vector_id for (vector_id,) in found]) if row is not None
    ]
    if not rows:
        return []
    picked = np.asarray(rows, dtype=np.intp)
    kept: list[int] = picked[allowed[picked]].tolist()  # one gather, not one lookup per row
    return kept


def _dense(
    vectors: VectorIndex, query: NDArray[np.float32], allowed: NDArray[np.bool_], top: int
) -> tuple[list[int], list[float]]:
    """The ``top`` allowed rows by cosine (best first) and their cosines (on this thread)."""
    rows, best = vectors.best(vectors.cosines(query), allowed, top)
    return rows.tolist(), best.tolist()


def _lexical_side(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    terms: list[str],
    allowed: NDArray[np.bool_],
    want: int,
    cache: dict[str, Forms] | None,
) -> tuple[dict[str, int], list[int]]:
    """Document frequency of each term, and the rows of texts holding the rarer ones."""
    forms = term_forms(conn, terms, cache)
    documents = len(vectors)
    common = max(COMMON_SHARE * documents, COMMON_FLOOR)
    frequencies = term_frequencies(forms, terms, documents)
    search = {word: docs for t in terms for word, docs in forms[t] if docs <= common}
    return frequencies, lexical_rows(conn, search, vectors, allowed, want)


def term_frequencies(forms: dict[str, Forms], terms: list[str], documents: int) -> dict[str, int]:
    """How many texts hold each term (its stored forms' counts, capped at ``documents``)."""
    return {t: min(sum(docs for _, docs in forms[t]), documents) for t in terms}


def _provenance(
    conn: sqlite3.Connection, items: list[int], *, times: bool, cache: Origins | None = None
) -> Origins:
    """Item id -> (``thread_id``, ``created_at`` as Unix seconds) from the items' values (the
    time only for items with a thread, unless ``times``: every item's). ``cache``: the
    store's, for the current snapshot (items read once are not read again).

    Without ``times`` only items whose value names a ``thread_id`` are read, found through
    the partial index of those items (migration 7): the others cost an index probe each."""
    known: Origins = {} if cache is None else cache
    if times:  # items without a thread were cached without their time
        missing = [item for item in items if known.get(item, _UNTIMED) is _UNTIMED]
    else:
        missing = [item for item in items if item not in known]
    if len(known) + len(missing) > _ORIGINS_KEPT:
        known.clear()
        missing = items
    sql = _ORIGINS if times else _THREADED
    for chunk in chunks(missing):
        try:
            found = conn.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall()
        except sqlite3.OperationalError:  # a file without the index: read every value
            found = conn.execute(_ORIGINS.format(",".join("?" * len(chunk))), chunk).fetchall()
        for item, thread, *stamps in found:
            if thread is not None:
                known[item] = (str(thread), _seconds(*stamps))
            elif times:
                known[item] = (None, _seconds(*stamps))
            else:  # parsing the time is most of the cost: only when asked
                known[item] = _UNTIMED
        if not times:
            for item in chunk:  # no thread named in its value (or no such item)
                known.setdefault(item, _UNTIMED)
    out: Origins = {}
    for item in items:
        found_origin = known.get(item)
        if (
            found_origin is not None
            and found_origin is not _UNTIMED
            and (found_origin[0] is not None or times)
        ):
            out[item] = found_origin
    return out


_ORIGINS = (
    f"SELECT id, {_FIELD.format('thread_id')}, {_FIELD.format('created_at')}, created_at"
    " FROM langmem_items WHERE id IN ({})"
)
_THREADED = (
    f"SELECT id, json_extract(value, '$.thread_id'), {_FIELD.format('created_at')}, created_at"
    f" FROM langmem_items INDEXED BY langmem_items_threaded WHERE {THREADED} AND id IN ({{}})"
)
"""The origins of the items whose value names a ``thread_id`` (the partial index's rows)."""

_UNTIMED: Origin = (None, None)
"""The cached origin of an item without a thread whose time was not read (this very object)."""


def _documents(
    vectors: VectorIndex, vector_ids: list[int], terms: list[str], rows: list[int]
) -> list[rules.Document]:
    """What BM25 reads of each candidate text (``vector_ids``, at matrix ``rows``): how often
    it holds each query term, and its analyzed length (stored with its vector).

    Only words that :func:`ranking.analyze` turns into a query term are counted (the other
    terms of a text are never read by :func:`ranking.rank`; :func:`ranking.forms` lists the
    words that stem to a term), so the scores are those of the whole :func:`ranking.document`.
    Each text's words were split once, when its row was added (:mod:`._words`); a text that
    holds no query term is :data:`_NO_TERMS`, with nothing analyzed."""
    if not terms or not rows:
        return [_NO_TERMS] * len(vector_ids)
    # every word the analyzer turns into a query term (its forms, less stop words)
    term_of = {
        word: term for term in terms for word in rules.forms(term) if rules._term(word) == term
    }
    out: list[rules.Document] = []
    add = out.append
    lengths = vectors.lengths[rows].tolist()
    for at, (counts, length) in enumerate(zip(vectors.held(rows, term_of), lengths)):
        if counts is None:
            add(_NO_TERMS)
        elif length < 0:  # no stored length (it is counted on the first ranked search)
            add(rules.document(vectors.text(vector_ids[at])))
        else:
            add(rules.Document(counts, length))
    return out


def _seconds(*stamps: object) -> float | None:
    for stamp in stamps:
        if isinstance(stamp, str):
            try:
                return datetime.fromisoformat(stamp).timestamp()
            except ValueError:
                continue
    return None


def explain(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    query: NDArray[np.float32],
    text: str,
    allowed: NDArray[np.bool_],
    want: int,
    ranking: rules.Ranking,
    *,
    cache: dict[str, Forms] | None = None,
    origins: Origins | None = None,
    worker: Executor | None = None,
) -> list[rules.Explanation]:
    """The hybrid ranking of the candidate items, best first, with each score's parts.

    Args:
        conn: the store's connection, inside a read transaction.
        vectors: the store's vector matrix (up to date).
        query: the query's embedding.
        text: the query's text (for the lexical side).
        allowed: mask over matrix rows that may be returned.
        want: how many results the caller needs (offset + limit).
        ranking: the ranking parameters.
        cache: the store's cache of term -> stored forms.
        origins: the store's cache of item -> thread and time (for this snapshot).
        worker: a thread for the cosines while this one runs the lexical side.
    """
    candidates, terms, corpus, rows, cosines = _candidates(
        conn, vectors, query, text, allowed, want, ranking, cache, origins, worker
    )
    similar = sqlite_similarity(vectors)
    if ranking.feedback:  # a second pass (pseudo-relevance feedback): see stores/_feedback.py
        from langmem.stores import _search_feedback as reads

        source = reads.SqliteSource(
            (conn, vectors, allowed, want, cache, origins), candidates, (rows, cosines), ranking
        )
        return _feedback.rank(candidates, terms, corpus, ranking, source, similarity=similar)
    return rules.rank(candidates, terms, corpus, ranking, similarity=similar)


def _candidates(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    query: NDArray[np.float32],
    text: str,
    allowed: NDArray[np.bool_],
    want: int,
    ranking: rules.Ranking,
    cache: dict[str, Forms] | None,
    origins: Origins | None,
    worker: Executor | None,
) -> tuple[list[rules.Candidate], list[str], rules.Corpus, list[int], NDArray[np.float32]]:
    """What :func:`ranking.rank` needs (see :func:`explain` for the arguments), and the
    candidates' matrix rows and every row's cosine (for a second pass)."""
    top = max(want * 2, ranking.depth)
    terms = rules.query_terms(text)
    times = ranking.times

    def lexical() -> tuple[dict[str, int], list[int], dict[int, rules.Document]]:
        """The lexical side, and what its rows need (their texts' query terms, their items'
        origins: into ``origins``), while the worker computes the cosines."""
        if not terms:
            return {}, [], {}
        frequencies, found = _lexical_side(conn, vectors, terms, allowed, want, cache)
        if not found:
            return frequencies, found, {}
        held = _documents(vectors, vectors.vector_ids[found].tolist(), terms, found)
        if ranking.provenance and origins is not None:
            _provenance(conn, vectors.item_ids[found].tolist(), times=times, cache=origins)
        return frequencies, found, dict(zip(found, held))

    def top_of(cosines: NDArray[np.float32]) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
        return vectors.best(cosines, allowed, top, ties=True)  # texts tied at the cut: all

    # the worker computes the cosines and their top rows, this thread the lexical side meanwhile
    cosines, (frequencies, found, known), (top_rows, top_cosines) = _cosines.cosines_beside(
        vectors, query, lexical, worker, top_of
    )
    rows: list[int] = top_rows.tolist()
    if not rows:
        return [], terms, rules.Corpus(len(vectors), 0.0, frequencies), rows, cosines
    corpus = rules.Corpus(len(vectors), vectors.total_length / max(len(vectors), 1), frequencies)
    best: list[float] = top_cosines.tolist()
    seen = set(rows)
    extra = [r for r in found if r not in seen]
    if extra:
        rows += extra
        best += cosines[extra].tolist()
    vector_ids = vectors.vector_ids[rows].tolist()
    items = vectors.item_ids[rows].tolist()
    origin: Origins = {}
    if ranking.provenance:
        origin = _provenance(conn, list(dict.fromkeys(items)), times=times, cache=origins)
    unknown = [i for i, row in enumerate(rows) if row not in known]
    counted = iter(
        _documents(vectors, [vector_ids[i] for i in unknown], terms, [rows[i] for i in unknown])
    )
    documents = [known[row] if row in known else next(counted) for row in rows]
    none: Origin = (None, None)
    candidates = [
        rules.Candidate(item, cosine, document, *origin.get(item, none), row)
        for item, cosine, document, row in zip(items, best, documents, rows)
    ]
    return candidates, terms, corpus, rows, cosines


def rank(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    query: NDArray[np.float32],
    text: str,
    allowed: NDArray[np.bool_],
    want: int,
    *,
    ranking: rules.Ranking | None,
    cache: dict[str, Forms] | None = None,
    origins: Origins | None = None,
    worker: Executor | None = None,
) -> list[tuple[float, int]]:
    """``(score, item id)`` of the candidate items, best first: hybrid (see
    :mod:`langmem.stores.ranking`) or, with ``ranking=None``, plain cosine."""
    if ranking is not None:
        candidates, terms, corpus, rows, cosines = _candidates(
            conn, vectors, query, text, allowed, want, ranking, cache, origins, worker
        )
        similar = sqlite_similarity(vectors)
        if ranking.feedback:  # a second pass (pseudo-relevance feedback): see _feedback.py
            from langmem.stores import _search_feedback as reads

            source = reads.SqliteSource(
                (conn, vectors, allowed, want, cache, origins), candidates, (rows, cosines), ranking
            )
            return _feedback.ranked(candidates, terms, corpus, ranking, source, similarity=similar)
        return rules.ranked_items(candidates, terms, corpus, ranking, similarity=similar)
    rows, best = _dense(vectors, query, allowed, max(want * 2, 20))
    seen: dict[int, float] = {}
    for score, item in zip(best, vectors.item_ids[rows].tolist()):
        seen.setdefault(item, score)
    return [(score, item) for item, score in seen.items()]
