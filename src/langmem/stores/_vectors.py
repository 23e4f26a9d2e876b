"""Exact vector search on a numpy matrix that mirrors the vector rows of one SQLite file.

Rows are appended as vectors are added and marked dead when removed (compacted once a quarter
are dead). Each row knows its item and the item's namespace, so a namespace-prefix search masks
rows with one integer gather instead of scanning strings. Scores are cosine similarities: rows
are stored normalised and the query is normalised, so ``M @ q`` is the cosine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from langmem.stores import ranking
from langmem.stores._lexicon import Lexicon
from langmem.stores._words import Words

if TYPE_CHECKING:
    from numpy.typing import NDArray

_SEPARATOR = "."
_PER_ROW = ("lengths", "word_start", "word_count", "plain")  # per-row arrays beside the ids
_DOCUMENTS_KEPT = 200_000
_LOAD_CHUNK = 4096  # rows normalised at a time while loading (temporaries stay in cache)
_vecdot = getattr(np, "vecdot", None)


class Unset(Enum):
    """The value of an argument not given, where ``None`` means something (one member)."""

    UNSET = 0


def rows_of(allowed: NDArray[np.bool_]) -> NDArray[np.intp] | None:
    """The rows a mask allows, ``None`` when it allows every row (nothing to gather)."""
    return None if bool(allowed.all()) else np.flatnonzero(allowed)


class VectorIndex:
    """Normalised float32 vectors with their vector id, item id and namespace.

    Args:
        dims: vector length; rows of another length are refused.

    Example:
        >>> index = VectorIndex(dims=2)
        >>> vector = np.array([1.0, 0.0], dtype=np.float32).tobytes()
        >>> index.add([(1, 10, "docs", vector, "some text")])
        >>> rows, scores = index.scores(np.array([1.0, 0.0], dtype=np.float32), ("docs",))
        >>> [int(index.item_ids[r]) for r in rows], [round(float(s), 3) for s in scores]
        ([10], [1.0])
    """

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.clear()

    def clear(self) -> None:
        """Forget every row."""
        self.matrix: NDArray[np.float32] = np.zeros((0, self.dims), dtype=np.float32)
        self.vector_ids: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.item_ids: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.namespace_ids: NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self.alive: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        # each row's analyzed text length (BM25), -1 while unknown (see ``total_length``)
        self.lengths: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        # each row's words, split once (``_words``): where they start, how many
        self.words = Words()
        self.word_start: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.word_count: NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        # whether each row's text is ASCII without NUL (split exactly as FTS5 splits it), how
        # many live rows are not, and the words of the live rows (FTS5's token total)
        self.plain: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self.unplain = 0
        self.fts_tokens = 0
        # postings and document frequencies of the rows' words (``_lexicon``), built on use
        self.lexicon = Lexicon(self)
        self.size = 0
        self.dead = 0
        self.row_of: dict[int, int] = {}
        # vector id -> the indexed text (for lexical scoring, through ``text``): the rows added
        # one by one; rows installed from a saved matrix keep theirs packed, decoded when asked
        self._texts: dict[int, str] = {}
        self._packed: Packed | None = None
        # vector id -> the whole analyzed text, for callers that need all its terms (bounded;
        # a ranked search counts only the query's terms and does not use it)
        self.documents: dict[int, ranking.Document] = {}
        # analyzed terms over the live rows whose length is known, and how many live rows
        # still have none (written without one: analyzed when a ranked search first asks)
        self._known_length = 0
        self._unknown_lengths = 0
        self.namespaces: list[tuple[str, ...]] = []
        self._namespace_id: dict[str, int] = {}
        self._mask_cache: dict[tuple[str, ...], NDArray[np.bool_]] = {}
        # prefix -> mask over rows, until rows are added or removed: one gather per search saved
        self._row_masks: dict[tuple[str, ...], NDArray[np.bool_]] = {}
        # id of a mask in ``_row_masks`` -> it and its allowed rows (``None``: every row)
        self._mask_rows: dict[int, tuple[NDArray[np.bool_], NDArray[np.intp] | None]] = {}

    def __len__(self) -> int:
        return self.size - self.dead

    def _grow(self, extra: int) -> None:
        need = self.size + extra
        if need <= len(self.vector_ids):
            return
        capacity = max(need, 2 * len(self.vector_ids), 1024)
        matrix = np.zeros((capacity, self.dims), dtype=np.float32)
        matrix[: self.size] = self.matrix[: self.size]
        self.matrix = matrix
        for name in ("vector_ids", "item_ids", "namespace_ids", "alive", *_PER_ROW):
            old = getattr(self, name)
            new = np.zeros(capacity, dtype=old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)
        self._forget_masks()  # cached masks are views of the arrays just replaced

    def _namespace(self, prefix: str) -> int:
        found = self._namespace_id.get(prefix)
        if found is None:
            found = len(self.namespaces)
            self._namespace_id[prefix] = found
            self.namespaces.append(tuple(prefix.split(_SEPARATOR)))
            self._mask_cache.clear()
        return found

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more rows at once (a first load knows its row count)."""
        self._grow(extra)

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        """Add (or replace) rows: ``(vector_id, item_id, prefix, float32 bytes, text)``, plus
        optionally the text's analyzed length (:func:`ranking.length`; ``None``: unknown)."""
        iterator = iter(rows)
        while batch := list(islice(iterator, _LOAD_CHUNK)):
            self._add(batch)

    def _add(self, batch: list[Sequence[Any]]) -> None:
        if self.row_of:
            replaced = [row[0] for row in batch if row[0] in self.row_of]
            if replaced:
                self.remove(replaced)
        self._grow(len(batch))
        start, end = self.size, self.size + len(batch)
        vector_ids, item_ids, prefixes, blobs, texts, *rest = zip(*batch)
        width = self.dims * 4
        if any(len(blob) != width for blob in blobs):
            raise ValueError(
                f"stored vectors do not have {self.dims} dimensions: the file was written with "
                "another embedding model; reopen it with that model's dims."
            )
        # copied straight into the matrix and normalised there: no 100k-row temporaries
        vectors = self.matrix[start:end]
        vectors[:] = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, self.dims)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, np.maximum(norms, 1e-12), out=vectors)
        # column-wise, not row by row: a first load of 100k rows stays well under a second
        known = self._namespace_id
        namespace = self._namespace
        self.vector_ids[start:end] = vector_ids
        self.item_ids[start:end] = item_ids
        self.namespace_ids[start:end] = [known[p] if p in known else namespace(p) for p in prefixes]
        self._texts.update(zip(vector_ids, texts))
        self.word_start[start:end], self.word_count[start:end] = self.words.add(texts)
        plain = [text.isascii() and "\x00" not in text for text in texts]
        self.plain[start:end] = plain
        self.unplain += plain.count(False)
        self.fts_tokens += int(self.word_count[start:end].sum(dtype=np.int64))
        self.row_of.update(zip(vector_ids, range(start, end)))
        lengths = [-1 if n is None else n for n in rest[0]] if rest else [-1] * len(batch)
        self.lengths[start:end] = lengths
        unknown = lengths.count(-1)
        self._unknown_lengths += unknown
        self._known_length += sum(lengths) + unknown
        self.alive[start:end] = True
        self.size = end
        self._forget_masks()
        self.lexicon.added(start, end)

    @property
    def total_length(self) -> int:
        """Analyzed terms over all live texts (rows stored without their length are analyzed
        on first use, then kept)."""
        if self._unknown_lengths:
            live = self.alive[: self.size]
            for row in np.flatnonzero(live & (self.lengths[: self.size] < 0)).tolist():
                counted = ranking.length(self.text(int(self.vector_ids[row])))
                self.lengths[row] = counted
                self._known_length += counted
            self._unknown_lengths = 0
        return self._known_length

    def remove(self, vector_ids: Iterable[int]) -> None:
        """Drop rows by vector id (unknown ids are ignored)."""
        gone: list[int] = []
        for vector_id in vector_ids:
            row = self.row_of.pop(vector_id, None)
            self._texts.pop(vector_id, None)
            self.documents.pop(vector_id, None)
            if row is not None and self.alive[row]:
                self.alive[row] = False
                self.dead += 1
                length = int(self.lengths[row])
                if length < 0:
                    self._unknown_lengths -= 1
                else:
                    self._known_length -= length
                self.fts_tokens -= int(self.word_count[row])
                self.unplain -= not self.plain[row]
                gone.append(row)
                self._forget_masks()
        self.lexicon.removed(gone)
        if self.dead > 1024 and self.dead * 4 > self.size:
            self._compact()

    def text(self, vector_id: int) -> str:
        """The indexed text of a live row (``""`` for an unknown or removed id)."""
        found = self._texts.get(vector_id)
        if found is None and self._packed is not None and vector_id in self.row_of:
            found = self._packed.text(vector_id)
        return "" if found is None else found

    def texts(self, vector_ids: list[int]) -> list[str]:
        """:meth:`text` of each of ``vector_ids`` (packed texts found in one search)."""
        texts = self._texts
        found = [texts.get(vector_id) for vector_id in vector_ids]
        packed = self._packed
        if packed is not None and None in found:
            row_of = self.row_of
            wanted = [v for v, t in zip(vector_ids, found) if t is None and v in row_of]
            unpacked = dict(zip(wanted, packed.texts(wanted)))
            found = [t if t is not None else unpacked.get(v) for v, t in zip(vector_ids, found)]
        return ["" if text is None else text for text in found]

    @property
    def installed(self) -> bool:
        """Whether rows were installed from a saved matrix (see ``_snapshot``)."""
        return self._packed is not None

    def install(self, saved: Saved) -> None:
        """Replace every row with a saved matrix (rows already normalised; see ``_snapshot``)."""
        self.clear()
        for prefix in saved.prefixes:
            self._namespace(prefix)
        self.matrix = saved.matrix
        self.vector_ids = saved.vector_ids
        self.item_ids = saved.item_ids
        self.namespace_ids = saved.namespace_ids
        self.lengths = saved.lengths
        self.size = len(saved.vector_ids)
        self.words = Words.restored(saved.word_ids, saved.vocabulary)
        self.word_count = saved.word_counts
        self.word_start = np.zeros(self.size, dtype=np.int64)
        np.cumsum(saved.word_counts[:-1], out=self.word_start[1:])
        self.alive = np.ones(self.size, dtype=bool)
        self.row_of = dict(zip(saved.vector_ids.tolist(), range(self.size)))
        unknown = saved.lengths < 0
        self._unknown_lengths = int(unknown.sum())
        self._known_length = int(saved.lengths[~unknown].sum())
        self._packed = Packed(saved.vector_ids, saved.offsets, saved.texts)
        self.plain = _plain(saved.texts, saved.offsets)
        self.unplain = int(self.size - self.plain.sum())
        self.fts_tokens = int(saved.word_counts.sum(dtype=np.int64))
        if saved.postings is not None:  # else built on the first search that needs them
            self.lexicon.install(*saved.postings)

    def saved(self) -> Saved:
        """The live rows, as :meth:`install` takes them back."""
        live = self.alive[: self.size]
        # views when every row lives (the usual case right after a load): no 150 MB copy
        keep: Any = slice(0, self.size) if live.all() else np.flatnonzero(live)
        vector_ids = self.vector_ids[keep]
        encoded = [text.encode("utf-8") for text in self.texts(vector_ids.tolist())]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(text) for text in encoded], out=offsets[1:])
        word_ids, vocabulary = self.words.export(self.word_start[keep], self.word_count[keep])
        return Saved(
            prefixes=[_SEPARATOR.join(ns) for ns in self.namespaces],
            vector_ids=vector_ids,
            item_ids=self.item_ids[keep],
            namespace_ids=self.namespace_ids[keep],
            lengths=self.lengths[keep],
            offsets=offsets,
            matrix=self.matrix[keep],
            texts=b"".join(encoded),
            word_counts=self.word_count[keep],
            word_ids=word_ids,
            vocabulary=vocabulary,
            postings=self.lexicon.postings(),
        )

    def held(self, rows: list[int], term_of: Mapping[str, str]) -> list[dict[str, int] | None]:
        """For each of ``rows``, term -> how many of its text's words ``term_of`` maps to that
        term (``None``: none); see :meth:`Words.held`."""
        picked = np.asarray(rows, dtype=np.intp)
        return self.words.held(self.word_start[picked], self.word_count[picked], term_of)

    def document(self, vector_id: int) -> ranking.Document:
        """The analyzed text of a row (computed once, kept while the row lives)."""
        found = self.documents.get(vector_id)
        if found is None:
            if len(self.documents) >= _DOCUMENTS_KEPT:
                self.documents.clear()
            found = ranking.document(self.text(vector_id))
            self.documents[vector_id] = found
        return found

    def _compact(self) -> None:
        self._forget_masks()
        keep = np.flatnonzero(self.alive[: self.size])
        count = len(keep)
        self.matrix[:count] = self.matrix[keep]
        for name in ("vector_ids", "item_ids", "namespace_ids", *_PER_ROW):
            array = getattr(self, name)
            array[:count] = array[keep]
        self.word_start[:count] = self.words.compacted(
            self.word_start[:count], self.word_count[:count]
        )
        self.alive[:count] = True
        self.alive[count:] = False
        self.size, self.dead = count, 0
        self.row_of = {int(v): row for row, v in enumerate(self.vector_ids[:count])}
        self.lexicon.reset()

    def _forget_masks(self) -> None:
        self._row_masks.clear()
        self._mask_rows.clear()

    def namespace_mask(self, prefix: tuple[str, ...]) -> NDArray[np.bool_]:
        """Boolean mask over live rows whose namespace starts with ``prefix`` (shared: do not
        modify it)."""
        cached = self._row_masks.get(prefix)
        if cached is not None:
            return cached
        alive = self.alive[: self.size]
        if not prefix:  # a view of ``alive``, which changes only where masks are forgotten
            self._row_masks[prefix] = alive
            return alive
        allowed = self._mask_cache.get(prefix)
        if allowed is None:
            n = len(prefix)
            allowed = np.array([ns[:n] == prefix for ns in self.namespaces], dtype=bool)
            self._mask_cache[prefix] = allowed
        mask: NDArray[np.bool_]
        if not allowed.any():
            mask = np.zeros(self.size, dtype=bool)
        else:
            mask = allowed[self.namespace_ids[: self.size]] & alive
        self._row_masks[prefix] = mask
        return mask

    def cosines(self, query: NDArray[np.float32]) -> NDArray[np.float32]:
        """Cosine of ``query`` with every row (dead rows included; mask them out)."""
        out = np.empty(self.size, dtype=np.float32)
        dot(self.matrix[: self.size], self.unit(query), out)
        return out

    def allowed_rows(self, allowed: NDArray[np.bool_]) -> NDArray[np.intp] | None:
        """The rows ``allowed`` allows, ``None`` when it allows every row (kept for the masks
        :meth:`namespace_mask` hands out, until they are forgotten)."""
        found = self._mask_rows.get(id(allowed))
        if found is not None and found[0] is allowed:
            return found[1]
        rows = rows_of(allowed)
        if any(mask is allowed for mask in self._row_masks.values()):
            self._mask_rows[id(allowed)] = (allowed, rows)
        return rows

    @staticmethod
    def unit(query: NDArray[np.float32]) -> NDArray[np.float32]:
        """``query`` normalised, as :meth:`cosines` multiplies the rows by it."""
        if query.dtype == np.float32 and query.ndim == 1:  # np.linalg.norm's own steps
            norm = float(np.sqrt(query.dot(query)))
        else:
            norm = float(np.linalg.norm(query))
        unit: NDArray[np.float32] = (query / norm if norm > 0 else query).astype(
            np.float32, copy=False
        )
        return unit

    @staticmethod
    def best(
        scores: NDArray[np.float32],
        allowed: NDArray[np.bool_],
        top: int,
        *,
        ties: bool = False,
        allowed_rows: NDArray[np.intp] | Literal[Unset.UNSET] | None = Unset.UNSET,
    ) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
        """The ``top`` allowed rows by score, best first, with their scores (exact).

        With ``ties``, also the rows whose score equals the last one's (which of several tied
        rows to keep is then no choice), up to ``2 * top`` rows in all (past that, the first
        tied rows in row order), equal scores in row order. ``allowed_rows``: the rows
        ``allowed`` allows (``None``: every row; :meth:`allowed_rows` keeps them for a
        namespace's mask), when the caller has them; else they are found here."""
        candidates = rows_of(allowed) if allowed_rows is Unset.UNSET else allowed_rows
        picked = scores if candidates is None else scores[candidates]
        if top < len(picked):
            part = _top(picked, top, ties)
            if ties and len(part) > 2 * top:  # many copies of one text: keep the first
                edge = picked[part].min()
                above = part[picked[part] > edge]
                tied = np.sort(part[picked[part] == edge])[: 2 * top - len(above)]
                part = np.concatenate([above, tied])
            order = part[np.argsort(-picked[part], kind="stable")]
        else:
            order = np.argsort(-picked, kind="stable")
        rows: NDArray[np.intp] = order if candidates is None else candidates[order]
        return rows, picked[order]

    def scores(
        self, query: NDArray[np.float32], prefix: tuple[str, ...], *, top: int | None = None
    ) -> tuple[NDArray[np.intp], NDArray[np.float32]]:
        """Rows whose namespace starts with ``prefix``, best cosine to ``query`` first."""
        allowed = self.namespace_mask(prefix)
        return self.best(self.cosines(query), allowed, top or self.size)


@dataclass
class Saved:
    """A matrix's live rows as arrays (what ``_snapshot`` writes and reads back)."""

    prefixes: list[str]  # namespace id -> namespace joined by "."
    vector_ids: NDArray[np.int64]
    item_ids: NDArray[np.int64]
    namespace_ids: NDArray[np.int32]
    lengths: NDArray[np.int64]
    offsets: NDArray[np.int64]  # row i's text is texts[offsets[i]:offsets[i + 1]] (UTF-8)
    matrix: NDArray[np.float32]
    texts: bytes
    word_counts: NDArray[np.int32]  # row i's words are the next word_counts[i] of word_ids
    word_ids: NDArray[np.int32]
    vocabulary: list[str]  # word id -> word (``_words``)
    # the word postings (``Lexicon.postings``: entries' words and rows, each word's first
    # entry, document frequencies), when built over exactly these rows
    postings: tuple[Any, Any, Any, Any] | None = None


class Packed:
    """Texts of installed rows in one UTF-8 buffer, found by vector id."""

    def __init__(self, vector_ids: NDArray[np.int64], offsets: NDArray[np.int64], texts: bytes):
        self._order = np.argsort(vector_ids, kind="stable")
        self._sorted = vector_ids[self._order]
        self._offsets = offsets
        self._texts = texts

    def text(self, vector_id: int) -> str | None:
        return self.texts([vector_id])[0]

    def texts(self, vector_ids: list[int]) -> list[str | None]:
        """The text of each id (``None`` for an id not packed), found in one vectorised search."""
        if not vector_ids or not len(self._sorted):
            return [None] * len(vector_ids)
        wanted = np.asarray(vector_ids, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted, wanted), len(self._sorted) - 1)
        rows = self._order[at]
        hit = (self._sorted[at] == wanted).tolist()
        starts = self._offsets[rows].tolist()
        ends = self._offsets[rows + 1].tolist()
        data = self._texts
        return [
            data[start:end].decode("utf-8") if ok else None
            for ok, start, end in zip(hit, starts, ends)
        ]


def _plain(texts: bytes, offsets: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each packed UTF-8 text (``offsets`` as in :class:`Saved`) is ASCII without NUL
    (one pass over the bytes; the rare others found by where their bytes are)."""
    rows = len(offsets) - 1
    plain = np.ones(rows, dtype=bool)
    data = np.frombuffer(texts, dtype=np.uint8)
    odd = np.flatnonzero((data >= 128) | (data == 0))
    if len(odd):
        plain[np.searchsorted(offsets, odd, side="right") - 1] = False
    return plain


def dot(rows: NDArray[np.float32], unit: NDArray[np.float32], out: NDArray[np.float32]) -> None:
    """``out[i] = rows[i] . unit``: the cosines of matrix rows (releases the GIL).

    Row-wise dot products in one ufunc loop, not a matrix-vector product: a multi-threaded BLAS
    gemv stalls for milliseconds when another process holds a core (measured: 8 ms instead of
    0.3 ms at 10k rows); numpy >= 2 has vecdot, older numpy gets einsum's SIMD loop.
    """
    if _vecdot is not None:
        _vecdot(rows, unit, out=out)
    else:
        np.einsum("ij,j->i", rows, unit, out=out)


_CHUNK = 64


def _top(scores: NDArray[np.float32], top: int, ties: bool = False) -> NDArray[np.intp]:
    """Indices of the ``top`` highest scores, in no particular order (``0 < top < len``);
    with ``ties``, also those equal to the lowest of them, in index order.

    The same set as ``np.argpartition``, which touches every index and costs about four times
    more at 10k rows: the ``top`` best chunk maxima bound the cut from below, so only the few
    scores above that bound are partitioned. Ties at the cut (or NaNs) fall back to
    ``argpartition`` itself, so which of the tied rows are kept does not change (without
    ``ties``: with it, the tied rows found above are all kept, at no cost).
    """
    n = len(scores)
    chunks = n // _CHUNK
    if chunks > top:
        maxima = scores[: chunks * _CHUNK].reshape(chunks, _CHUNK).max(axis=1)
        # ``top`` chunks hold a score >= floor, so the ``top`` best scores are all >= floor
        floor = np.partition(maxima, chunks - top)[chunks - top]
        near = np.flatnonzero(scores >= floor)
        # argpartition ranks NaN above everything; a NaN shows in its chunk's maximum
        nan = np.isnan(maxima).any() or np.isnan(scores[chunks * _CHUNK :]).any()
        if len(near) >= top and not nan:
            sub = scores[near]
            cut = np.partition(sub, len(sub) - top)[len(sub) - top]
            part: NDArray[np.intp] = near[sub >= cut]
            if len(part) == top or ties:  # more: ties at the cut, all of them in ``part``
                return part
    everything: NDArray[np.intp] = np.argpartition(scores, n - top)[n - top :]
    if ties:
        edge = scores[everything].min()
        if not np.isnan(edge):
            tied: NDArray[np.intp] = np.flatnonzero(scores >= edge)
            return tied
    return everything
