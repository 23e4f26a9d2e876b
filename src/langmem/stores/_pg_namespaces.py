"""``list_namespaces`` of :class:`~langmem.stores.PostgresStore`, by the embedded store's rule.

The embedded store's rule (:func:`langmem.stores._reads.listed_namespaces`): namespaces
matching every condition, cut to ``max_depth``, in label-by-label order, paged; langmem's own
records (``("__langmem__", ...)``) left out unless a prefix asks for them. LangGraph's SQL
for it is not used: it lists those records, orders by the database's collation rather than
label by label, and before mid-2026 it listed expired items too.

Here the database hands out distinct prefixes already in label order (:data:`ORDER`, served by
the index ``langmem_store_namespaces``), in growing chunks, from the key ranges that can match
(under the prefix's literal labels; around langmem's records when they are left out); each
chunk goes through the same rule, until the page is full. A page costs about its own length,
not the store's size (``bench/pg_namespaces.py``); a database set up before that index runs the
same queries, sorting instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.store.base import ListNamespacesOp
from psycopg.rows import tuple_row

from langmem._namespace import RESERVED_ROOT
from langmem.stores._reads import listed_namespaces, shows_reserved

ORDER = "(replace(replace(prefix, E'\\x01', E'\\x01\\x02'), '.', E'\\x01\\x01') COLLATE \"C\")"
"""A prefix's sort key (the index ``langmem_store_namespaces``): its separator written below
every character a label can hold (U+0001 in a label is escaped), compared in code point order,
so keys sort as the namespaces' tuples do, label by label (:func:`key`)."""
FIRST_CHUNK = 200
LAST_CHUNK = 20_000


def list_namespaces(cur: Any, op: ListNamespacesOp, *, omit_expired: bool) -> list[tuple[str, ...]]:
    """``op``'s page of the namespaces that hold an item (not expired, with ``omit_expired``)."""
    live = " AND (expires_at IS NULL OR expires_at > NOW())" if omit_expired else ""
    want = op.offset + op.limit
    whole = ListNamespacesOp(op.match_conditions, op.max_depth, limit=want, offset=0)
    read: list[str] = []  # the prefixes read so far
    found: list[tuple[str, ...]] = []
    # on a cursor of its own: ``cur`` returns dict rows, and may be in a pipeline
    with cur.connection.cursor(row_factory=tuple_row) as own:
        for low, high in _ranges(op):
            chunk, after = FIRST_CHUNK, None
            while len(found) < want:
                bounds, params = [], []
                if after is not None or low is not None:
                    bounds.append(f"{ORDER} {'>' if after is not None else '>='} %s")
                    params.append(after if after is not None else low)
                if high is not None:
                    bounds.append(f"{ORDER} < %s")
                    params.append(high)
                own.execute(
                    f"SELECT DISTINCT ON ({ORDER}) {ORDER} AS k, prefix FROM store"
                    f" WHERE {' AND '.join(bounds) or 'true'}{live} ORDER BY {ORDER} LIMIT %s",
                    [*params, chunk],
                )
                rows = own.fetchall()
                if rows:
                    after = rows[-1][0]
                    read.extend(prefix for _, prefix in rows)
                    found = listed_namespaces(read, whole)
                if len(rows) < chunk:
                    break
                chunk = min(chunk * 4, LAST_CHUNK)
    return found[op.offset : want]


def key(labels: Sequence[str]) -> str:
    """The :data:`ORDER` key of a namespace (Python's side of the same expression)."""
    return "\x01\x01".join(label.replace("\x01", "\x01\x02") for label in labels)


def _ranges(op: ListNamespacesOp) -> list[tuple[str | None, str | None]]:
    """The ``[low, high)`` ranges of :data:`ORDER` keys that may match ``op``, in order: a
    namespace and every one below it hold the keys from its own key up to that key followed
    by U+0001 U+0002 (a longer label sorts there)."""
    for condition in op.match_conditions or ():
        if condition.match_type == "prefix":  # under the labels before its first wildcard
            labels = list(condition.path)
            head = labels[: labels.index("*")] if "*" in labels else labels
            if head:
                return [(key(head), key(head) + "\x01\x02")]
            break
    if shows_reserved(op):
        return [(None, None)]
    root = key([RESERVED_ROOT])
    return [(None, root), (root + "\x01\x02", None)]
