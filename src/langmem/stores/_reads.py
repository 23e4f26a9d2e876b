"""Reads of the SQLite store: get, filtered listing, ranked search and namespace listing.

The reads of one batch share a :class:`Reader`: one connection (so one snapshot), one clock, and
the list of items they returned whose TTL the store refreshes once the reads are done. Expired
items are never returned, swept or not.
"""

from __future__ import annotations

import json
import json.scanner
import sqlite3
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from langgraph.store.base import (
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    Result,
    SearchItem,
    SearchOp,
)

from langmem._namespace import RESERVED_ROOT
from langmem.stores import _filters, _hybrid, _search
from langmem.stores.ranking import Explanation, Ranking

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from langmem.stores._origins import ItemOrigins
    from langmem.stores._vectors import VectorIndex

_ITEM_COLUMNS = "id, prefix, key, value, created_at, updated_at, ttl_minutes"


def _prefix_clause(prefix: tuple[str, ...]) -> tuple[str, list[Any]]:
    """SQL matching items whose namespace starts with ``prefix`` (an index range scan)."""
    if not prefix:
        return "1", []
    text = ".".join(prefix)
    # labels never contain '.', and '/' sorts right after '.', so the range holds exactly the
    # namespaces below ``text``
    return "(prefix = ? OR (prefix >= ? AND prefix < ?))", [text, text + ".", text + "/"]


def _namespace_matches(namespace: tuple[str, ...], condition: MatchCondition) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    part = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    if not path:
        return True
    return all(p == "*" or p == n for p, n in zip(path, part))


def _item(row: Sequence[Any], score: float | None = None) -> SearchItem:
    _, prefix, key, value, created, updated, _ = row
    return SearchItem(
        namespace=tuple(prefix.split(".")),
        key=key,
        value=_loads(value),
        created_at=datetime.fromisoformat(created),
        updated_at=datetime.fromisoformat(updated),
        score=score,
    )


_scan = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def _loads(text: str) -> Any:
    """``json.loads(text)`` of a stored value, through the decoder's scanner when the value
    fills the whole text (as the store writes it: a third of a result's cost saved), else
    ``json.loads`` itself (surrounding whitespace, or its error)."""
    try:
        found, end = _scan(text, 0)
    except (StopIteration, ValueError, TypeError):
        return json.loads(text)
    return found if end == len(text) else json.loads(text)


@dataclass
class Reader:
    """The reads of one batch, inside the store's read (or write) transaction."""

    conn: sqlite3.Connection
    now: float
    vectors: VectorIndex | None
    """The store's vector matrix, ``None`` without an index (queries are then ignored)."""
    queries: dict[str, NDArray[np.float32]]
    """The batch's query vectors, embedded before the transaction opened."""
    ranking: Ranking | None
    """The hybrid ranking's parameters; ``None``: rank by cosine only."""
    counts: dict[str, _search.Forms]
    """The store's cache of query term -> stored forms (lexical IDF), filled by the ranking."""
    origins: _search.Origins
    """The store's cache of item -> thread and time, valid for this snapshot."""
    refresh_on_read: bool
    """The TTL config lets reads refresh TTLs at all."""
    touched: list[int] = field(default_factory=list)
    """Ids of the returned items whose TTL the reads refresh."""
    worker: Executor | None = None
    """A thread for a ranked search's cosines and top rows (see ``_cosines``)."""
    item_origins: ItemOrigins | None = None
    """The store's threads and times of every item, kept current (``None``: read with SQL)."""

    def _search(
        self,
        op: SearchOp,
        query: NDArray[np.float32],
        allowed: NDArray[np.bool_],
        want: int,
        ranking: Ranking,
    ) -> _hybrid.Search:
        assert self.vectors is not None
        memory = _hybrid.Memory(self.counts, self.origins, self.item_origins, self.worker)
        return _hybrid.Search(
            self.conn, self.vectors, query, op.query or "", allowed, want, ranking, memory
        )

    def read(self, op: Op) -> Result:
        """The result of a read op; ``None`` for a put (applied after the reads)."""
        if isinstance(op, GetOp):
            return self.get(op)
        if isinstance(op, SearchOp):
            return self.search(op)
        if isinstance(op, ListNamespacesOp):
            return self.list_namespaces(op)
        return None

    def _refreshes(self, flag: bool) -> bool:
        return self.refresh_on_read and bool(flag)

    def get(self, op: GetOp) -> Item | None:
        row = self.conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM langmem_items WHERE prefix = ? AND key = ?"
            " AND (expires_at IS NULL OR expires_at > ?)",
            (".".join(op.namespace), str(op.key), self.now),
        ).fetchone()
        if row is None:
            return None
        if row[6] is not None and self._refreshes(op.refresh_ttl):
            self.touched.append(row[0])
        found = _item(row)
        return Item(
            value=found.value,
            key=found.key,
            namespace=found.namespace,
            created_at=found.created_at,
            updated_at=found.updated_at,
        )

    def _filtered_rows(self, op: SearchOp) -> list[Sequence[Any]]:
        where, params = _prefix_clause(tuple(op.namespace_prefix))
        extra, extra_params = _filters.sql_prefilter(op.filter)
        sql = (
            f"SELECT {_ITEM_COLUMNS} FROM langmem_items WHERE {where}"
            " AND (expires_at IS NULL OR expires_at > ?)"
        )
        params.append(self.now)
        if extra:
            sql += f" AND {extra}"
            params.extend(extra_params)
        sql += " ORDER BY updated_at DESC, id DESC"
        rows = self.conn.execute(sql, params).fetchall()
        if op.filter:
            rows = [r for r in rows if _filters.matches(json.loads(r[3]), op.filter)]
        return rows

    def search(self, op: SearchOp) -> list[SearchItem]:
        limit, offset = max(int(op.limit), 0), max(int(op.offset), 0)
        pairs: list[tuple[Sequence[Any], float | None]]
        if not op.query or self.vectors is None or op.query not in self.queries:
            rows = self._filtered_rows(op)[offset : offset + limit]
            pairs = [(row, None) for row in rows]
        else:
            pairs = list(self._ranked(op, self.queries[op.query], limit, offset))
        if self._refreshes(op.refresh_ttl):
            self.touched.extend(row[0] for row, _ in pairs if row[6] is not None)
        return [_item(row, score) for row, score in pairs]

    def _allowed(self, op: SearchOp) -> NDArray[np.bool_]:
        vectors = self.vectors
        assert vectors is not None
        allowed = vectors.namespace_mask(tuple(op.namespace_prefix))
        if op.filter:
            passing = np.array([r[0] for r in self._filtered_rows(op)], dtype=np.int64)
            allowed = allowed & np.isin(vectors.item_ids[: vectors.size], passing)
        return allowed

    def _ranked(
        self, op: SearchOp, query: NDArray[np.float32], limit: int, offset: int
    ) -> list[tuple[Sequence[Any], float]]:
        vectors = self.vectors
        assert vectors is not None
        want = offset + limit
        if want == 0 or len(vectors) == 0:
            return []
        allowed = self._allowed(op)
        if self.ranking is None:
            ranked = _search.rank(self.conn, vectors, query, "", allowed, want, ranking=None)
        else:
            ranked = _hybrid.rank(self._search(op, query, allowed, want, self.ranking))
        return self._rows(ranked, offset, want)

    def explain(
        self, op: SearchOp, query: NDArray[np.float32]
    ) -> list[tuple[SearchItem, Explanation]]:
        """The items :meth:`search` returns for ``op``, each with its :class:`Explanation`."""
        vectors = self.vectors
        limit, offset = max(int(op.limit), 0), max(int(op.offset), 0)
        want = offset + limit
        if vectors is None or want == 0 or len(vectors) == 0:
            return []
        allowed = self._allowed(op)
        if self.ranking is not None:
            explained = _hybrid.explain(self._search(op, query, allowed, want, self.ranking))
        else:
            explained = [
                Explanation(item, score, score, min(max(score, 0.0), 1.0), 0.0, 0.0, {}, score)
                for score, item in _search.rank(
                    self.conn, vectors, query, "", allowed, want, ranking=None
                )
            ]
        by_item = {int(e.item): e for e in explained}
        hits = self._rows([(e.score, int(e.item)) for e in explained], offset, want)
        return [(_item(row, score), by_item[row[0]]) for row, score in hits]

    def _rows(
        self, ranked: list[tuple[float, int]], offset: int, want: int
    ) -> list[tuple[Sequence[Any], float]]:
        """The stored rows of the ranked items still alive, ``offset`` to ``want``."""
        hits: list[tuple[Sequence[Any], float]] = []
        position = 0
        step = max(want, 1)  # all alive (the usual case): one read of exactly these rows
        while position < len(ranked) and len(hits) < want:
            window = ranked[position : position + step]
            position += step
            by_id = {
                row[0]: row
                for row in self.conn.execute(
                    f"SELECT {_ITEM_COLUMNS} FROM langmem_items"
                    f" WHERE id IN ({','.join('?' * len(window))})"
                    " AND (expires_at IS NULL OR expires_at > ?)",
                    [item for _, item in window] + [self.now],
                )
            }
            for score, item in window:
                row = by_id.get(item)
                if row is not None and len(hits) < want:
                    hits.append((row, float(score)))
        return hits[offset:want]

    def list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        prefixes = self.conn.execute(
            "SELECT DISTINCT prefix FROM langmem_items WHERE expires_at IS NULL OR expires_at > ?",
            (self.now,),
        )
        return listed_namespaces((prefix for (prefix,) in prefixes), op)


def shows_reserved(op: ListNamespacesOp) -> bool:
    """Whether ``op`` asks for langmem's own records: a prefix condition starting with
    :data:`~langmem._namespace.RESERVED_ROOT` (a wildcard there does not ask)."""
    return any(
        c.match_type == "prefix" and tuple(c.path[:1]) == (RESERVED_ROOT,)
        for c in op.match_conditions or ()
    )


def listed_namespaces(prefixes: Iterable[str], op: ListNamespacesOp) -> list[tuple[str, ...]]:
    """The page ``op`` asks for of the namespaces stored as ``prefixes`` (labels joined by
    "."): those matching every condition, cut to ``max_depth``, sorted, without repeats.

    langmem's own records (namespaces under :data:`~langmem._namespace.RESERVED_ROOT`) are
    left out unless a prefix condition starts with that label (``prefix=("__langmem__",)``):
    a user listing their namespaces does not see our bookkeeping, and code that reads it asks
    for it by name. Both stores list through here."""
    conditions = op.match_conditions or ()
    namespaces = {tuple(prefix.split(".")) for prefix in prefixes}
    if not shows_reserved(op):
        namespaces = {ns for ns in namespaces if ns[0] != RESERVED_ROOT}
    kept = [ns for ns in namespaces if all(_namespace_matches(ns, c) for c in conditions)]
    if op.max_depth is not None:
        kept = list({ns[: op.max_depth] for ns in kept})
    kept.sort()
    return kept[op.offset : op.offset + op.limit]
