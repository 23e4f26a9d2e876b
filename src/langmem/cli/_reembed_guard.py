"""``store reembed --fields``: refuse new fields that would leave indexed memories without
vectors for good.

A re-embed only re-embeds memories that have vectors (``put(..., index=False)`` memories have
none and stay unindexed), on the embedded store and on PostgreSQL alike. So a memory that holds
no text at the new fields loses its vectors, and no later re-embed brings them back: a typo
(``--fields contnet``) used to leave every memory unsearchable by meaning, reported as
``"reembedded": 0``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from langgraph.store.base import PutOp

from langmem.errors import InvalidInputError
from langmem.stores import _writes

Indexed = list[tuple[tuple[str, ...], str, dict[str, Any]]]


def indexed_memories(store: Any) -> Indexed:
    """``(namespace, key, value)`` of every memory that has vectors (embedded store and
    PostgreSQL; other stores: none)."""
    from langmem.stores._sqlite import SqliteStore

    rows: list[tuple[str, str, Any]] = []
    if isinstance(store, SqliteStore):
        with store._read() as conn:
            rows = conn.execute(
                "SELECT prefix, key, value FROM langmem_items WHERE id IN"
                " (SELECT DISTINCT item_id FROM langmem_vectors) ORDER BY prefix, key"
            ).fetchall()
    elif "langmem.stores._postgres" in sys.modules:
        from langmem.stores._postgres import PostgresStore

        if isinstance(store, PostgresStore):
            with store._transaction() as cur:
                cur.execute("SELECT to_regclass('store_vectors') IS NOT NULL AS ok")
                found = cur.fetchone()
                if found and found["ok"]:
                    cur.execute(
                        "SELECT s.prefix, s.key, s.value FROM store s WHERE EXISTS (SELECT 1"
                        " FROM store_vectors sv WHERE sv.prefix = s.prefix AND sv.key = s.key)"
                        " ORDER BY s.prefix, s.key"
                    )
                    rows = [(r["prefix"], r["key"], r["value"]) for r in cur.fetchall()]
    return [
        (tuple(prefix.split(".")), key, value if isinstance(value, dict) else json.loads(value))
        for prefix, key, value in rows
    ]


def refuse_unindexing(store: Any, fields: list[str]) -> None:
    """Raise when a memory that has vectors holds no text at ``fields``; nothing is changed."""
    paths = _writes.index_paths(fields)
    memories = indexed_memories(store)
    lost = [
        (namespace, key)
        for namespace, key, value in memories
        if not _writes.texts_of(PutOp(namespace, key, value), paths)
    ]
    if not lost:
        return
    namespace, key = lost[0]
    shown = ",".join(fields)
    raise InvalidInputError(
        f"--fields {shown!r} finds no text in {len(lost)} of the {len(memories)} indexed "
        f"memories (e.g. key {key!r} in {'/'.join(namespace)!r}): re-embedding would leave "
        "them without vectors for good (a re-embed only re-embeds memories that have "
        "vectors, so no later --fields could bring them back). Nothing was re-embedded. Fix: "
        "name fields those memories hold (several are allowed: --fields content,title), "
        "leave --fields out to keep the current ones, or add --allow-unindexed if those "
        "memories should stay unsearchable by meaning."
    )
