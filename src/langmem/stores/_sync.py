"""Keep a process's vector matrix equal to the vector rows of the SQLite file.

Triggers append every vector row added or removed to ``langmem_changes``. A process remembers
the last change it applied; bringing its matrix up to date reads only the newer changes and the
vectors they added, never the whole table, unless it is loading for the first time or fell
behind the pruned log. ``PRAGMA data_version`` (checked by the store) says cheaply whether
another connection wrote at all.
"""

from __future__ import annotations

import sqlite3

from langmem.stores import _lengths
from langmem.stores._vectors import VectorIndex
from langmem.stores._writes import chunks

# two scalar subqueries: each is one B-tree seek, whereas ``SELECT MIN(seq), MAX(seq)`` in one
# aggregate makes SQLite scan the whole log (0.6 ms per search at 10k rows)
_BOUNDS = "SELECT (SELECT MIN(seq) FROM langmem_changes), (SELECT MAX(seq) FROM langmem_changes)"
_ROWS = (
    "SELECT v.id, v.item_id, i.prefix, v.embedding, v.text, {length}"
    " FROM langmem_vectors v JOIN langmem_items i ON i.id = v.item_id"
)


def sync_vectors(conn: sqlite3.Connection, vectors: VectorIndex, last_seq: int) -> int | None:
    """Apply the changes after ``last_seq`` to ``vectors``; returns the new last change applied.

    Returns ``None`` when nothing changed. Call it inside a read transaction, so the changes
    and the vectors come from one snapshot.
    """
    low, high = conn.execute(_BOUNDS).fetchone()
    if high is None or high == last_seq:
        return None
    # each text's stored length, when the analyzer that counted it is this process's
    rows = _ROWS.format(length="v.lm_length" if _lengths.current(conn) else "NULL")
    if last_seq == 0 or low > last_seq + 1:
        # first load, or this process fell behind the pruned log: load everything
        vectors.clear()
        vectors.reserve(conn.execute("SELECT COUNT(*) FROM langmem_vectors").fetchone()[0])
        vectors.add(conn.execute(rows))
        return int(high)
    net: dict[int, int] = {}
    for vector_id, added in conn.execute(
        "SELECT vector_id, added FROM langmem_changes WHERE seq > ? ORDER BY seq", (last_seq,)
    ):
        net[vector_id] = added
    vectors.remove(v for v, added in net.items() if not added)
    new = [v for v, added in net.items() if added]
    for chunk in chunks(new):
        vectors.add(conn.execute(f"{rows} WHERE v.id IN ({','.join('?' * len(chunk))})", chunk))
    return int(high)
