"""A hybrid search of the SQLite store from what the process keeps in memory.

The same candidates, scores and order as :mod:`._search` (the reference, still used for the
second ranking pass), found without SQL where memory has the answer:

- the cosines and their top rows on the store's worker thread (:mod:`._cosines`), while this
  thread runs the lexical side: from the matrix's word postings (:mod:`._lexicon`) when every
  live text is plain ASCII, else from FTS5 and ``langmem_term_docs`` as before;
- each candidate text's query-term counts from its words split once (:mod:`._words`), for all
  candidates in a few array operations;
- each candidate item's thread and time from the store's :class:`._origins.ItemOrigins`
  (else read with SQL as before);
- the fusion and the order with numpy (:mod:`._fused`) for the configurations it covers,
  else through :func:`ranking.ranked_items` on :class:`~ranking.Candidate` objects built from
  the same arrays (``explain`` always, for its per-item parts).
"""

from __future__ import annotations

import sqlite3
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from langmem.stores import _cosines, _feedback, _fused, _search
from langmem.stores import ranking as rules
from langmem.stores._similarity import sqlite_similarity
from langmem.stores._words import word_positions

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._origins import ItemOrigins
    from langmem.stores._vectors import VectorIndex


@dataclass
class Memory:
    """What the store keeps for its searches (see :func:`rank` for how each is used)."""

    forms: dict[str, _search.Forms] | None = None
    """Query term -> stored forms, for the SQL lexical side."""
    origins: _search.Origins | None = None
    """Item -> thread and time read with SQL, for this snapshot."""
    items: ItemOrigins | None = None
    """Every item's thread and time, kept current (``None``: read them with SQL)."""
    worker: Executor | None = None
    """A thread for the cosines while this one runs the lexical side."""


@dataclass
class Pool:
    """The candidate texts of a query as arrays (one entry per text, in candidate order)."""

    rows: NDArray[np.intp]
    cosines: NDArray[np.float64]
    items: NDArray[np.int64]
    counts: NDArray[np.int64]  # occurrences of each query term (one column per term)
    lengths: NDArray[np.int64]  # analyzed length
    threads: NDArray[np.int32]  # thread code, -1: none (names in ``names``)
    times: NDArray[np.float64]  # Unix seconds, NaN: none
    names: list[str]
    terms: list[str]
    corpus: rules.Corpus
    every_cosine: NDArray[np.float32]  # every row's cosine (for a second pass)

    def candidates(self) -> list[rules.Candidate]:
        """The candidates as :func:`ranking.rank` takes them."""
        out: list[rules.Candidate] = []
        names, terms = self.names, self.terms
        for item, cosine, counts, length, thread, when, row in zip(
            self.items.tolist(),
            self.cosines.tolist(),
            self.counts.tolist(),
            self.lengths.tolist(),
            self.threads.tolist(),
            self.times.tolist(),
            self.rows.tolist(),
        ):
            held = {term: n for term, n in zip(terms, counts) if n}
            document = rules.Document(held, length) if held else _search._NO_TERMS
            out.append(
                rules.Candidate(
                    item,
                    cosine,
                    document,
                    names[thread] if thread >= 0 else None,
                    None if when != when else when,  # NaN: no time
                    row,
                )
            )
        return out


@dataclass
class Search:
    """One ranked search: the connection (inside a read transaction), the store's matrix (up to
    date), the query's embedding and text, the rows allowed (namespace, filter), how many
    results are wanted (offset + limit), the ranking and the store's :class:`Memory`."""

    conn: sqlite3.Connection
    vectors: VectorIndex
    query: NDArray[np.float32]
    text: str
    allowed: NDArray[np.bool_]
    want: int
    ranking: rules.Ranking
    memory: Memory


def rank(search: Search) -> list[tuple[float, int]]:
    """``(score, item id)`` of the candidate items, best first (as :func:`._search.rank`)."""
    pool = gather(search)
    if pool is None:
        return []
    if _fused.covers(search.ranking, rows=True):
        found = _fused.ranked(
            pool.items,
            pool.cosines,
            pool.counts,
            pool.lengths,
            pool.threads,
            pool.times,
            pool.terms,
            pool.corpus,
            search.ranking,
            (pool.rows, search.vectors.matrix),
        )
        if found is not None:
            return found
    ranked = _ranked(search, pool, explained=False)
    return ranked  # type: ignore[return-value]


def explain(search: Search) -> list[rules.Explanation]:
    """The hybrid ranking with each score's parts (as :func:`._search.explain`)."""
    pool = gather(search)
    if pool is None:
        return []
    explained = _ranked(search, pool, explained=True)
    return explained  # type: ignore[return-value]


def _ranked(search: Search, pool: Pool, *, explained: bool) -> list[Any]:
    """:func:`ranking.rank` (``explained``) or :func:`ranking.ranked_items` of the pool, with
    a second pass when the ranking asks for one."""
    candidates = pool.candidates()
    similar = sqlite_similarity(search.vectors)
    ranking = search.ranking
    if ranking.feedback:  # a second pass (pseudo-relevance feedback): see _feedback.py
        from langmem.stores import _search_feedback as reads

        memory = search.memory
        source = reads.SqliteSource(
            (
                search.conn,
                search.vectors,
                search.allowed,
                search.want,
                memory.forms,
                memory.origins,
            ),
            candidates,
            (pool.rows.tolist(), pool.every_cosine),
            ranking,
        )
        second = _feedback.rank if explained else _feedback.ranked
        return second(candidates, pool.terms, pool.corpus, ranking, source, similarity=similar)
    first = rules.rank if explained else rules.ranked_items
    return first(candidates, pool.terms, pool.corpus, ranking, similarity=similar)


def gather(search: Search) -> Pool | None:
    """The query's candidates (``None``: no row is allowed)."""
    conn, vectors, allowed, want = search.conn, search.vectors, search.allowed, search.want
    ranking, memory, text = search.ranking, search.memory, search.text
    top = max(want * 2, ranking.depth)
    terms = rules.query_terms(text)
    keys: list[tuple[NDArray[np.int32], NDArray[np.int64]]] = [_NO_WORDS]

    def lexical() -> tuple[dict[str, int], NDArray[np.intp]]:
        # what does not wait for the cosines is done while the worker computes them
        if ranking.provenance and memory.items is not None:
            memory.items.ready(conn)
        if not terms:
            return {}, np.zeros(0, dtype=np.intp)
        keys[0] = _term_words(vectors, terms)
        if vectors.unplain == 0 and vectors.lexicon.ready():
            return _memory_side(vectors, terms, allowed, want)
        frequencies, found = _search._lexical_side(
            conn, vectors, terms, allowed, want, memory.forms
        )
        return frequencies, np.asarray(found, dtype=np.intp)

    def top_of(cosines: NDArray[np.float32]) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
        # texts tied at the cut: all
        return vectors.best(
            cosines, allowed, top, ties=True, allowed_rows=vectors.allowed_rows(allowed)
        )

    every, (frequencies, found), (top_rows, top_cosines) = _cosines.cosines_beside(
        vectors, search.query, lexical, memory.worker, top_of
    )
    if not len(top_rows):
        return None
    if len(found):  # the lexical rows not among the top rows, in their order
        seen = np.zeros(vectors.size, dtype=bool)
        seen[top_rows] = True
        extra = found[~seen[found]]
    else:
        extra = found
    rows = np.concatenate([top_rows, extra]).astype(np.intp)
    cosines = np.concatenate([top_cosines, every[extra]]).astype(np.float64)
    documents = len(vectors)
    corpus = rules.Corpus(documents, vectors.total_length / max(documents, 1), frequencies)
    items = vectors.item_ids[rows]
    counts = _held(vectors, rows, len(terms), *keys[0])
    lengths = vectors.lengths[rows]  # read only where a term is held
    threads, times, names = _provenance(conn, items, ranking, memory)
    return Pool(rows, cosines, items, counts, lengths, threads, times, names, terms, corpus, every)


def _memory_side(
    vectors: VectorIndex, terms: list[str], allowed: NDArray[np.bool_], want: int
) -> tuple[dict[str, int], NDArray[np.intp]]:
    """:func:`._search._lexical_side` from the matrix's postings (:mod:`._lexicon`): each
    term's document frequency, and the allowed rows of the texts holding its rarer words, in
    the order FTS5 gives them."""
    lexicon = vectors.lexicon
    documents = len(vectors)
    common = max(_search.COMMON_SHARE * documents, _search.COMMON_FLOOR)
    frequencies: dict[str, int] = {}
    words: list[int] = []
    held: list[int] = []
    forms = [lexicon.forms_of(term)[0] for term in terms]
    counted = iter(lexicon.documents([word for ids in forms for word in ids]))  # one gather
    for term, ids in zip(terms, forms):
        total = 0
        for word in ids:
            docs = next(counted)
            if docs > 0:
                total += docs
                if docs <= common:
                    words.append(word)
                    held.append(docs)
        frequencies[term] = min(total, documents)
    if not words:
        return frequencies, np.zeros(0, dtype=np.intp)
    fetch = max(want * 2, 30)
    if sum(held) <= fetch:  # every match, in rowid order (FTS5's order without ORDER BY)
        listed = lexicon.holding(words)
        return frequencies, listed[allowed[listed]].astype(np.intp)
    rows, counts = lexicon.matching(words)
    ordered = lexicon.fts5_order(rows, counts, held)
    ok = allowed[ordered]
    while True:  # as _search.lexical_rows widens its LIMIT when masks drop the best rows
        kept = ordered[:fetch][ok[:fetch]]
        if len(kept) >= want or len(ordered) < fetch:
            return frequencies, kept.astype(np.intp)
        fetch *= 4


_NO_WORDS = (np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64))


def _term_words(
    vectors: VectorIndex, terms: list[str]
) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """The ids of the stored words the analyzer turns into a query term (sorted), and which
    term each becomes (its column)."""
    lexicon = vectors.lexicon
    pairs = sorted(
        (word, column) for column, term in enumerate(terms) for word in lexicon.forms_of(term)[1]
    )
    if not pairs:
        return _NO_WORDS
    keys = np.array([key for key, _ in pairs], dtype=np.int32)
    columns = np.array([column for _, column in pairs], dtype=np.int64)
    return keys, columns


def _held(
    vectors: VectorIndex,
    rows: NDArray[np.intp],
    width: int,
    keys: NDArray[np.int32],
    columns: NDArray[np.int64],
) -> NDArray[np.int64]:
    """How many words of each row's text the analyzer turns into each query term (one column
    per term, ``width`` terms; ``keys``, ``columns``: :func:`_term_words`), the counts
    :func:`._search._documents` gives."""
    out = np.zeros((len(rows), width), dtype=np.int64)
    if not len(keys) or not len(rows):
        return out
    count = vectors.word_count[rows]
    ends = np.cumsum(count, dtype=np.int64)
    total = int(ends[-1])
    if not total:
        return out
    starts = vectors.word_start[rows]
    words = vectors.words.flat[word_positions(starts, count, ends, total)]
    table = vectors.lexicon.column_table(width)
    held: NDArray[np.integer[Any]]
    if table is not None:  # each word's column in one gather (-1: no query term)
        table[keys] = columns
        try:
            found = table[words]
        finally:
            table[keys] = -1
        hits = np.flatnonzero(found >= 0)
        held = found[hits]
    else:  # each word's place among the sorted keys: a hit where the key there is the word
        places = np.searchsorted(keys, words) % len(keys)
        hits = np.flatnonzero(keys[places] == words)
        held = columns[places[hits]]
    owners = np.searchsorted(ends, hits, side="right")
    flat = np.bincount(owners * width + held, minlength=len(rows) * width)
    result: NDArray[np.int64] = flat.reshape(len(rows), width).astype(np.int64)
    return result


def _provenance(
    conn: sqlite3.Connection, items: NDArray[np.int64], ranking: rules.Ranking, memory: Memory
) -> tuple[NDArray[np.int32], NDArray[np.float64], list[str]]:
    """Each candidate's thread code, time and the thread names (see ``Ranking.times``:
    without it, only items with a thread have a time)."""
    count = len(items)
    if not ranking.provenance:
        return np.full(count, -1, dtype=np.int32), np.full(count, np.nan), []
    kept = memory.items
    if kept is not None and kept.ready(conn):
        times, threads = kept.of(items)
        names = kept.names
    else:
        listed = items.tolist()
        origin = _search._provenance(
            conn, list(dict.fromkeys(listed)), times=ranking.times, cache=memory.origins
        )
        names = []
        codes: dict[str, int] = {}
        found_threads, found_times = [], []
        for item in listed:
            thread, when = origin.get(item, (None, None))
            found_times.append(np.nan if when is None else when)
            if thread is None:
                found_threads.append(-1)
            else:
                if thread not in codes:
                    codes[thread] = len(names)
                    names.append(thread)
                found_threads.append(codes[thread])
        threads = np.array(found_threads, dtype=np.int32)
        times = np.array(found_times, dtype=np.float64)
    if not ranking.times:  # items without a thread are read without their time
        times = np.where(threads >= 0, times, np.nan)
    return threads, times, names
