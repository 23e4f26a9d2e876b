"""The lexical side of a ranked search in memory: word postings over the vector matrix's rows.

A hybrid search needs, besides every row's cosine, (1) how many texts hold each stored form of
a query term (BM25's document frequency), (2) the texts holding the query's rarer words, the
best of them by FTS5's own ``bm25()`` when there are many, and (3) how often each candidate text
holds each query term. The SQLite store answered (1) and (2) with SQL (``langmem_term_docs``,
FTS5 ``MATCH ... ORDER BY bm25``), a few hundred microseconds a search. The words of each row
are already split and kept as integer ids (:mod:`._words`), so this module keeps, beside them:

- **postings**: for each word id, the rows holding it (one entry per occurrence, rows in
  order), built once over the rows present (a stable sort of the flat word ids), then extended
  by merging the rows added since (a small sort and one insert), rebuilt after a compaction;
- **document frequencies** over the live rows, updated as rows are added and removed.

**The same numbers as FTS5.** This is exact only while every live text is *plain*: ASCII
without NUL, where :func:`ranking.tokens` splits words exactly as the FTS5 index's
``unicode61`` tokenizer does (the premise of ``_term_docs`` too, tested there). The matrix
counts its live texts that are not (``VectorIndex.unplain``); while there is one, the search
asks SQLite as before. Over plain texts, a word's document frequency is FTS5's, a text's
word count is FTS5's token count, and :meth:`Lexicon.fts5_order` computes FTS5's ``bm25()``
(same formula, constants and floating-point operations, in the same order) and orders rows as
``ORDER BY bm25(...) LIMIT n`` does, equal scores by rowid (the vector id); ``tests/stores``
compare both on stores full of ties.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from langmem.stores import ranking
from langmem.stores._words import word_positions

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

    from langmem.stores._vectors import VectorIndex

MERGE_ROWS = 512
"""Rows added since the postings were built that a search scans instead of looking up; past
this many they are merged into the postings."""

_TABLE_COLUMNS = 127
"""Query terms that :meth:`Lexicon.column_table` can mark (columns fit an int8)."""

_FORMS_KEPT = 65536
"""Query terms whose stored forms' ids a lexicon keeps."""

_K1 = 1.2
_B = 0.75
"""FTS5's bm25() constants (fts5_aux.c)."""


class Lexicon:
    """Postings and document frequencies over the rows of one :class:`VectorIndex`.

    Built on first use (:meth:`ready`); the index reports rows added and removed, and drops it
    when rows move (compaction, a saved matrix installed)."""

    def __init__(self, index: VectorIndex) -> None:
        self._index = index
        self.reset()

    def reset(self) -> None:
        """Forget the postings (rebuilt on next use) and the word ids of query terms."""
        self._ready = False
        self._built = 0  # rows [0, _built) are in the postings
        self._words: NDArray[np.int32] = np.zeros(0, dtype=np.int32)  # word id of each entry
        self._rows: NDArray[np.int32] = np.zeros(0, dtype=np.int32)  # row of each entry
        self._start: NDArray[np.int64] = np.zeros(1, dtype=np.int64)  # word id -> first entry
        self._df: NDArray[np.int64] = np.zeros(0, dtype=np.int64)  # word id -> live rows
        # query term -> the ids of its stored forms (see :meth:`forms_of`), for a vocabulary size
        self._forms: dict[str, tuple[list[int], list[int]]] = {}
        self._forms_vocabulary = -1
        self._table: NDArray[np.int8] = np.full(0, -1, dtype=np.int8)  # see column_table

    # ------------------------------------------------------------------ upkeep

    def ready(self) -> bool:
        """Build the postings if needed, merge the rows added since when there are many;
        ``False`` when the index's words are not laid out row after row (never expected)."""
        index = self._index
        if not self._ready:
            flat = index.words.flat
            counts = index.word_count[: index.size]
            if int(counts.sum(dtype=np.int64)) != len(flat):
                return False
            self._built = 0
            self._words = np.zeros(0, dtype=np.int32)
            self._rows = np.zeros(0, dtype=np.int32)
            self._df = np.zeros(0, dtype=np.int64)
            self._merge(count_df=True)
            self._ready = True
        elif index.size - self._built > MERGE_ROWS:
            self._merge(count_df=False)
        return True

    def postings(
        self,
    ) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int64], NDArray[np.int64]] | None:
        """The postings (word id and row of each entry, each word's first entry) and document
        frequencies, for the matrix cache: only when built over every row of an index whose
        rows all live (the rows the cache keeps, numbered as here), else ``None``."""
        index = self._index
        if not self._ready or self._built != index.size or index.dead:
            return None
        if len(self._start) != index.words.size + 1 or len(self._df) < index.words.size:
            return None
        return self._words, self._rows, self._start, self._df[: index.words.size]

    def install(
        self,
        words: NDArray[np.int32],
        rows: NDArray[np.int32],
        start: NDArray[np.int64],
        df: NDArray[np.int64],
    ) -> bool:
        """Take the postings :meth:`postings` gave for this index's rows (installed from the
        same cache); returns whether they fit (else they are built on first use, as before)."""
        index = self._index
        vocabulary = index.words.size
        fits = (
            len(words) == len(rows) == len(index.words.flat)
            and len(start) == vocabulary + 1
            and len(df) == vocabulary
            and int(start[-1]) == len(words)
            and (not len(rows) or int(rows.max()) < index.size)
        )
        if not fits:
            return False
        self.reset()
        self._words, self._rows, self._start, self._df = words, rows, start, df
        self._built = index.size
        self._ready = True
        return True

    def _merge(self, *, count_df: bool) -> None:
        """Add the rows from ``_built`` on to the postings (and, on a first build, count every
        live row's words; later rows were counted as they came: :meth:`added`)."""
        index = self._index
        size = index.size
        first = int(index.word_start[self._built]) if self._built < size else 0
        flat = index.words.flat
        ids = flat[first:]
        counts = index.word_count[self._built : size]
        owners = np.repeat(np.arange(self._built, size, dtype=np.int32), counts)
        order = _stable_order(ids)
        words, rows = ids[order], owners[order]
        if len(self._words):  # new rows come after every old one: after them in each word
            at = np.searchsorted(self._words, words, side="right")
            self._words = np.insert(self._words, at, words)
            self._rows = np.insert(self._rows, at, rows)
        else:
            self._words, self._rows = words, rows
        vocabulary = index.words.size
        self._start = np.zeros(vocabulary + 1, dtype=np.int64)
        np.cumsum(np.bincount(self._words, minlength=vocabulary), out=self._start[1:])
        if count_df:
            self._df = self._live_counts(self._words, self._rows, vocabulary)
        self._built = size

    def _live_counts(
        self, words: NDArray[np.int32], rows: NDArray[np.int32], vocabulary: int
    ) -> NDArray[np.int64]:
        """Word id -> how many live rows hold it, from entries sorted by word, then row."""
        if not len(words):
            return np.zeros(vocabulary, dtype=np.int64)
        distinct = np.ones(len(words), dtype=bool)
        distinct[1:] = (words[1:] != words[:-1]) | (rows[1:] != rows[:-1])
        distinct &= self._index.alive[rows]
        counted: NDArray[np.int64] = np.bincount(words[distinct], minlength=vocabulary).astype(
            np.int64
        )
        return counted

    def added(self, start: int, end: int) -> None:
        """Rows ``start`` to ``end`` were added (live): count their words."""
        if self._ready:
            self._count(np.arange(start, end), 1)

    def removed(self, rows: list[int]) -> None:
        """Live ``rows`` are being removed: count their words out."""
        if self._ready and rows:
            self._count(np.asarray(rows, dtype=np.int64), -1)

    def _count(self, rows: NDArray[np.int64], sign: int) -> None:
        index = self._index
        counts = index.word_count[rows]
        ids = index.words.flat[_positions(index.word_start[rows], counts)]
        vocabulary = index.words.size
        if not len(ids):
            return
        owners = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
        pairs = np.unique(owners * vocabulary + ids)  # each word once per row
        if len(self._df) < vocabulary:
            grown = np.zeros(vocabulary, dtype=np.int64)
            grown[: len(self._df)] = self._df
            self._df = grown
        np.add.at(self._df, pairs % vocabulary, sign)

    # ------------------------------------------------------------------ reads

    def forms_of(self, term: str) -> tuple[list[int], list[int]]:
        """The ids of the stored words whose stem is ``term`` (:func:`ranking.forms`), and of
        those the analyzer turns into ``term`` (stop words are not), in that order; kept per
        term until the vocabulary grows (ids are only renumbered by a compaction, which resets
        this lexicon)."""
        size = self._index.words.size
        if size != self._forms_vocabulary:
            self._forms.clear()
            self._forms_vocabulary = size
        found = self._forms.get(term)
        if found is None:
            known = self._index.words.ids
            forms = ranking.forms(term)
            found = (
                [known[word] for word in forms if word in known],
                [known[w] for w in forms if w in known and ranking._term(w) == term],
            )
            if len(self._forms) >= _FORMS_KEPT:
                self._forms.clear()
            self._forms[term] = found
        return found

    def column_table(self, width: int) -> NDArray[np.int8] | None:
        """A table over the vocabulary's word ids, every entry -1, for a search to mark the
        words of its ``width`` query terms with their column (and unmark them after); ``None``
        when the columns do not fit the table. The store's lock keeps searches apart."""
        if width > _TABLE_COLUMNS:
            return None
        size = self._index.words.size
        if len(self._table) < size:
            self._table = np.full(max(size, 2 * len(self._table), 1024), -1, dtype=np.int8)
        return self._table

    def ids(self, words: Sequence[str]) -> list[int]:
        """The id of each word (``-1``: no row ever held it)."""
        known = self._index.words.ids
        return [known.get(word, -1) for word in words]

    def documents(self, ids: list[int]) -> list[int]:
        """How many live rows hold each word id (0 for ``-1``)."""
        df = self._df
        if ids and min(ids) >= 0 and max(ids) < len(df):  # one gather
            found: list[int] = df[ids].tolist()
            return found
        return [int(df[i]) if 0 <= i < len(df) else 0 for i in ids]

    def holding(self, ids: list[int]) -> NDArray[np.int64]:
        """The live rows holding any of the word ids, by vector id (FTS5's rowid order)."""
        rows, _ = self._entries(ids)
        if not len(rows):
            return rows
        vector_ids = self._index.vector_ids[rows]
        order = np.argsort(vector_ids, kind="stable")
        ordered, sorted_ids = rows[order], vector_ids[order]
        first = np.ones(len(ordered), dtype=bool)  # one entry per row (a row holds several)
        first[1:] = sorted_ids[1:] != sorted_ids[:-1]
        found: NDArray[np.int64] = ordered[first]
        return found

    def matching(self, ids: list[int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """The live rows holding any of the word ids, in row order, and how often each holds
        each (one column per id)."""
        rows, columns = self._entries(ids)
        width = len(ids)
        if not len(rows):
            return rows, np.zeros((0, width), dtype=np.int64)
        # np.unique's steps, without its inverse: entries sorted by row, a new row where it
        # changes, each entry counted at (its row's place, its column)
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        starts = np.empty(len(ordered), dtype=bool)
        starts[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
        place = np.cumsum(starts) - 1
        distinct = ordered[starts]
        counts = np.bincount(place * width + columns[order], minlength=len(distinct) * width)
        return distinct, counts.reshape(len(distinct), width)

    def _entries(self, ids: list[int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Each occurrence of the word ids in a live row: its row and which id it is."""
        index = self._index
        found_rows: list[NDArray[np.int64]] = []
        found_columns: list[NDArray[np.int64]] = []
        start = self._start
        posted = [
            (column, self._rows[start[word] : start[word + 1]])
            for column, word in enumerate(ids)
            if 0 <= word < len(start) - 1
        ]
        if posted:  # one array of rows, each entry's column beside it
            found_rows.append(np.concatenate([entries for _, entries in posted]).astype(np.int64))
            found_columns.append(
                np.repeat(
                    np.array([column for column, _ in posted], dtype=np.int64),
                    [len(entries) for _, entries in posted],
                )
            )
        if self._built < index.size:  # rows added since the postings were built: scanned
            scanned, columns = self._scan(ids)
            found_rows.append(scanned)
            found_columns.append(columns)
        if not found_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        rows = np.concatenate(found_rows) if len(found_rows) > 1 else found_rows[0]
        columns = np.concatenate(found_columns) if len(found_columns) > 1 else found_columns[0]
        live = index.alive[rows]
        return rows[live], columns[live]

    def _scan(self, ids: list[int]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """:meth:`matching` over the rows not in the postings yet, by reading their words."""
        index = self._index
        first = int(index.word_start[self._built])
        tail = index.words.flat[first:]
        wanted = np.asarray(ids, dtype=np.int64)
        keys = np.unique(wanted[wanted >= 0])
        if not len(keys) or not len(tail):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        places = np.searchsorted(keys, tail) % len(keys)
        hits = np.flatnonzero(keys[places] == tail)
        ends = np.cumsum(index.word_count[self._built : index.size], dtype=np.int64)
        rows = np.searchsorted(ends, hits, side="right").astype(np.int64) + self._built
        words = tail[hits]
        found_rows: list[NDArray[np.int64]] = []
        found_columns: list[NDArray[np.int64]] = []
        for column, word in enumerate(ids):
            if word >= 0:
                mine = words == word
                found_rows.append(rows[mine])
                found_columns.append(np.full(int(mine.sum()), column, dtype=np.int64))
        return np.concatenate(found_rows), np.concatenate(found_columns)

    def fts5_order(
        self, rows: NDArray[np.int64], counts: NDArray[np.int64], documents: list[int]
    ) -> NDArray[np.int64]:
        """``rows`` (holding the phrases whose occurrences are ``counts``, one column per
        phrase, held by ``documents`` rows each) in the order of FTS5's
        ``ORDER BY bm25(...)``: best first, equal scores by vector id."""
        index = self._index
        total_rows = len(index)
        if total_rows <= 0:
            total_rows = 1
        average = float(index.fts_tokens) / float(total_rows)
        weights = []
        for hits in documents:
            idf = math.log(((total_rows - hits) + 0.5) / (hits + 0.5))
            weights.append(idf if idf > 0.0 else 1e-6)
        tokens = index.word_count[rows].astype(np.float64)
        norm = _K1 * ((1 - _B) + _B * tokens / average)
        saturation = _K1 + 1.0
        tf = counts.astype(np.float64)
        # weight * ((tf * saturation) / (tf + norm)) of every phrase, added phrase after phrase
        # (an accumulation; 0.0 + the first part is that part: every part is >= 0)
        parts = np.asarray(weights) * ((tf * saturation) / (tf + norm[:, None]))
        score = np.cumsum(parts, axis=1)[:, -1] if len(weights) else np.zeros(len(rows))
        order = np.lexsort((index.vector_ids[rows], -1.0 * score))
        ordered: NDArray[np.int64] = rows[order]
        return ordered


def _stable_order(ids: NDArray[np.int32]) -> NDArray[np.intp]:
    """``np.argsort(ids, kind="stable")``, faster: numpy radix-sorts 16-bit keys, so ids are
    sorted by their low 16 bits, then (stably) by their high ones (a quarter of the time of
    a merge sort over a million ids)."""
    if not len(ids) or int(ids.min()) < 0:
        return np.argsort(ids, kind="stable")
    order: NDArray[np.intp] = np.argsort((ids & 0xFFFF).astype(np.uint16), kind="stable")
    if int(ids.max()) >= 1 << 16:
        high = (ids >> 16).astype(np.uint16)
        order = order[np.argsort(high[order], kind="stable")]
    return order


def _positions(start: NDArray[np.int64], count: NDArray[np.int32]) -> NDArray[np.int64]:
    """Where the words of each row (``start``, ``count``) are in the flat array, one row after
    the other."""
    ends = np.cumsum(count, dtype=np.int64)
    return word_positions(start, count, ends, int(ends[-1]) if len(ends) else 0)
