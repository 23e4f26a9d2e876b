"""Re-embedding a store file for a new index (embedder, dims or fields): the texts, then the swap.

Only items that have vectors are re-embedded (``put(..., index=False)`` items stay unindexed).
When the fields stay the same, each item keeps exactly the texts it has (including those chosen
by ``put(..., index=[...])``); when they change, texts are read from each value at the new fields.
"""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from langgraph.store.base import PutOp

from langmem.stores import _identity, _lengths, _writes

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

Rows = dict[int, list[tuple[str, str, bytes]]]
"""item id -> its (field name, text, hash) to index"""


def _keeps_texts(conn: sqlite3.Connection, wanted: _identity.IndexIdentity) -> bool:
    found, _ = _identity.recorded(conn)
    return found is not None and found.fields in (None, wanted.fields)


def _rows(
    conn: sqlite3.Connection, fields: _writes.IndexPaths, wanted: _identity.IndexIdentity
) -> Rows:
    rows: Rows = {}
    if _keeps_texts(conn, wanted):
        for item_id, name, text, digest in conn.execute(
            "SELECT item_id, field_name, text, text_hash FROM langmem_vectors ORDER BY id"
        ):
            rows.setdefault(item_id, []).append((name, text, digest))
        return rows
    for item_id, prefix, key, value in conn.execute(
        "SELECT id, prefix, key, value FROM langmem_items WHERE id IN"
        " (SELECT DISTINCT item_id FROM langmem_vectors)"
    ):
        op = PutOp(tuple(prefix.split(".")), key, json.loads(value))
        rows[item_id] = [
            (name, text, _writes.text_hash(text)) for name, text in _writes.texts_of(op, fields)
        ]
    return rows


def texts(
    conn: sqlite3.Connection, fields: _writes.IndexPaths, wanted: _identity.IndexIdentity
) -> dict[bytes, str]:
    """Every distinct text to embed for ``wanted``, by hash."""
    return {
        digest: text for found in _rows(conn, fields, wanted).values() for _, text, digest in found
    }


def swap(
    conn: sqlite3.Connection,
    fields: _writes.IndexPaths,
    vectors: dict[bytes, bytes],
    embeddings: Embeddings,
    wanted: _identity.IndexIdentity,
) -> int:
    """Inside a write transaction: replace every vector row with ``wanted``'s and record it.

    ``vectors`` holds the texts embedded beforehand; texts written since are embedded here.
    Returns how many distinct texts the new index holds.
    """
    rows = _rows(conn, fields, wanted)
    late = sorted(
        {d: t for found in rows.values() for _, t, d in found if d not in vectors}.items()
    )
    if late:
        blobs = _writes.to_blobs(
            embeddings.embed_documents([text for _, text in late]), len(late), wanted.dims
        )
        vectors.update(zip([digest for digest, _ in late], blobs))
    _, generation = _identity.recorded(conn)
    conn.execute("DELETE FROM langmem_vectors")
    _lengths.insert(
        conn,
        [
            (item_id, name, text, digest, vectors[digest])
            for item_id, found in rows.items()
            for name, text, digest in found
        ],
    )
    _identity.record(conn, wanted, generation + 1)
    return len({digest for found in rows.values() for _, _, digest in found})
