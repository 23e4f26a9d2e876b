"""The words of each text in the vector matrix, split once, for counting a query's terms in them.

A ranked search counts, in each of its ~100 candidate texts, how often the text holds each query
term (BM25's ``tf``). Splitting every candidate text into words again on each search was a fifth
of a search's time, so each row's words (:func:`ranking.tokens`, as the search counted them) are
split once, when the row is added, and kept as integer ids in one flat array: row ``r`` holds
``ids[start[r] : start[r] + count[r]]``. A search then finds the query's words in all its
candidates with a few array operations (:meth:`Words.held`).

The saved matrix (``_snapshot``) keeps them too, so a new process does not split its texts
again (splitting 100k texts takes a few tenths of a second, once, when a process loads them
from SQLite).
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from langmem.stores import ranking

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from numpy.typing import NDArray


class Words:
    """Each matrix row's words, as ids into one vocabulary (the rows' start and count arrays
    are the matrix's: :class:`~langmem.stores._vectors.VectorIndex` keeps them in row order).

    Example:
        >>> words = Words()
        >>> start, count = words.add(["Alice lives", "Bob"])
        >>> start.tolist(), count.tolist()
        ([0, 2], [2, 1])
        >>> words.held(np.array([0, 2]), np.array([2, 1]), {"alice": "alic", "bob": "bob"})
        [{'alic': 1}, {'bob': 1}]
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._words: list[str] = []
        self._flat: NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._used = 0

    @property
    def flat(self) -> NDArray[np.int32]:
        """Every row's word ids, row after row (a view: do not modify it)."""
        return self._flat[: self._used]

    @property
    def ids(self) -> Mapping[str, int]:
        """Word -> its id."""
        return self._ids

    @property
    def size(self) -> int:
        """How many words have an id."""
        return len(self._words)

    def add(self, texts: Iterable[str]) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
        """Split ``texts`` and keep their words; returns each one's start and word count."""
        split = [ranking.tokens(text) for text in texts]
        counts = [len(words) for words in split]
        every = list(chain.from_iterable(split))
        ids = self._ids
        flat = list(map(ids.get, every))  # lookups in C; each new word gets its id below
        listed = self._words
        at = 0
        while True:
            try:
                at = flat.index(None, at)
            except ValueError:
                break
            word = every[at]
            found = ids.get(word)
            if found is None:
                found = ids[word] = len(listed)
                listed.append(word)
            flat[at] = found
        count = np.asarray(counts, dtype=np.int32)
        start = np.empty(len(counts), dtype=np.int64)
        if len(counts):
            start[0] = self._used
            np.cumsum(count[:-1], out=start[1:])
            start[1:] += self._used
        self._append(np.asarray(flat, dtype=np.int32))
        return start, count

    def _append(self, ids: NDArray[np.int32]) -> None:
        need = self._used + len(ids)
        if need > len(self._flat):
            grown = np.zeros(max(need, 2 * len(self._flat), 4096), dtype=np.int32)
            grown[: self._used] = self._flat[: self._used]
            self._flat = grown
        self._flat[self._used : need] = ids
        self._used = need

    def held(
        self, start: NDArray[np.int64], count: NDArray[np.int32], term_of: Mapping[str, str]
    ) -> list[dict[str, int] | None]:
        """For each row (its ``start`` and ``count``), term -> how many of its words
        ``term_of`` maps to that term, in the order they occur; ``None`` for a row with none."""
        out: list[dict[str, int] | None] = [None] * len(start)
        wanted = {self._ids[w]: t for w, t in term_of.items() if w in self._ids}
        total = int(count.sum())
        if not wanted or not total:
            return out
        ends = np.cumsum(count, dtype=np.int64)
        ids = self._flat[word_positions(start, count, ends, total)]
        keys = np.array(sorted(wanted), dtype=np.int32)
        # each word's place among the sorted keys: a hit where the key there is the word
        hit = np.flatnonzero(keys[np.searchsorted(keys, ids) % len(keys)] == ids)
        if not len(hit):
            return out
        owners = (np.searchsorted(ends, hit, side="right")).tolist()
        for owner, found in zip(owners, ids[hit].tolist()):
            counts = out[owner]
            if counts is None:
                counts = out[owner] = {}
            term = wanted[found]
            counts[term] = counts.get(term, 0) + 1
        return out

    def compacted(self, start: NDArray[np.int64], count: NDArray[np.int32]) -> NDArray[np.int64]:
        """Keep only the words of the given rows (the live ones); returns their new starts.
        Words no row holds any more are forgotten."""
        kept, vocabulary = self.export(start, count, prune=True)
        self._restore(kept, vocabulary)
        moved: NDArray[np.int64] = np.cumsum(count, dtype=np.int64) - count
        return moved

    def export(
        self, start: NDArray[np.int64], count: NDArray[np.int32], *, prune: bool = False
    ) -> tuple[NDArray[np.int32], list[str]]:
        """The words of the given rows, one after the other, as ids into a vocabulary, and
        that vocabulary (for :meth:`restored`); ``prune``: of just those rows' words."""
        total = int(count.sum())
        ids = self._flat[word_positions(start, count, np.cumsum(count, dtype=np.int64), total)]
        if not prune:
            return ids, list(self._words)
        used, remap = np.unique(ids, return_inverse=True)
        listed = self._words
        return remap.astype(np.int32).reshape(-1), [listed[i] for i in used.tolist()]

    @classmethod
    def restored(cls, ids: NDArray[np.int32], vocabulary: list[str]) -> Words:
        """The words :meth:`export` gave (rows one after the other)."""
        words = cls()
        words._restore(ids, vocabulary)
        return words

    def _restore(self, ids: NDArray[np.int32], vocabulary: list[str]) -> None:
        self._words = vocabulary
        self._ids = {word: i for i, word in enumerate(vocabulary)}
        self._flat = np.ascontiguousarray(ids, dtype=np.int32)
        self._used = len(ids)


def word_positions(
    start: NDArray[np.int64], count: NDArray[np.int32], ends: NDArray[np.int64], total: int
) -> NDArray[np.int64]:
    """Where the words of each row (``start``, ``count``; ``ends``: the running total of
    ``count``) are in the flat array, one row after the other."""
    shifted: NDArray[np.int64] = np.arange(total) + np.repeat(start - (ends - count), count)
    return shifted
