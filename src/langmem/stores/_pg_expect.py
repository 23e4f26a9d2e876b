"""The expectation check of :meth:`PostgresStore.batch_expecting
<langmem.stores.PostgresStore.batch_expecting>`, inside the batch's write transaction.

The memories expected are locked as they are read, so no other transaction changes them until
this one ends: the stored ones are read with ``SELECT ... FOR UPDATE``, in the order every
batch locks rows in (``_pg_writes.lock_rows``); a memory not stored is claimed by inserting an
empty placeholder row (an uncommitted insert, visible to no one, that another writer's insert
of the same key waits for), and one another writer stored meanwhile is locked and read in
turn. The
placeholders are overwritten by the batch's own puts, and removed when the batch does not
write them. Then each memory is read as a get would read it (an expired one not yet swept is
none, unless the TTL config says ``omit_expired=False``) and compared (``langmem._expect``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langgraph.store.base import Item

from langmem import _expect

if TYPE_CHECKING:
    from langmem._expect import Expected
    from langmem.stores._postgres import PostgresStore

_CLAIMS = 3  # rounds of claiming keys that another writer deletes between our claim and lock


def check(
    store: PostgresStore, cur: Any, expect: Sequence[Expected], written: set[tuple[str, str]]
) -> None:
    """Lock and compare the ``expect``-ed memories (see the module); ``written``: the
    ``(prefix, key)`` items the batch writes (other placeholders are removed)."""
    refs = sorted({(".".join(e.namespace), e.key) for e in expect})
    conn = cur.connection
    claimed: set[tuple[str, str]] = set()
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    pending = refs
    for _ in range(_CLAIMS):
        rows |= _locked(conn, pending, store._omit_expired)
        missing = [ref for ref in pending if ref not in rows]
        if not missing:
            break
        inserted = conn.execute(
            "INSERT INTO store (prefix, key, value)"
            " SELECT p, k, '{}'::jsonb FROM unnest(%s::text[], %s::text[]) AS t(p, k)"
            ' ORDER BY p COLLATE "C", k COLLATE "C"'
            " ON CONFLICT (prefix, key) DO NOTHING RETURNING prefix, key",
            ([p for p, _ in missing], [k for _, k in missing]),
        ).fetchall()
        claimed |= {(row["prefix"], row["key"]) for row in inserted}
        # a key another writer stored meanwhile: lock and read it in the next round
        pending = [ref for ref in missing if ref not in claimed]
        if not pending:
            break
    spare = sorted(claimed - written)
    if spare:
        conn.execute(
            "DELETE FROM store s USING unnest(%s::text[], %s::text[]) AS t(p, k)"
            " WHERE s.prefix = t.p AND s.key = t.k",
            ([p for p, _ in spare], [k for _, k in spare]),
        )
    found: list[Item | None] = []
    for wanted_item in expect:
        row = rows.get((".".join(wanted_item.namespace), wanted_item.key))
        found.append(None if row is None or row["expired"] else _item(wanted_item, row))
    _expect.check(expect, found)


def _locked(
    conn: Any, refs: list[tuple[str, str]], omit_expired: bool
) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored rows of ``refs``, locked (in the order every batch locks rows in:
    ``_pg_writes.lock_rows``); a row deleted meanwhile is missing."""
    if not refs:
        return {}
    expired = "s.expires_at IS NOT NULL AND s.expires_at <= NOW()" if omit_expired else "FALSE"
    rows = conn.execute(
        f"SELECT s.prefix, s.key, s.value, s.created_at, s.updated_at, {expired} AS expired"
        " FROM store s WHERE (s.prefix, s.key) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
        ' ORDER BY s.prefix COLLATE "C", s.key COLLATE "C" FOR UPDATE OF s',
        ([p for p, _ in refs], [k for _, k in refs]),
    ).fetchall()
    return {(row["prefix"], row["key"]): row for row in rows}


def _item(expected: Expected, row: dict[str, Any]) -> Item:
    return Item(
        namespace=tuple(expected.namespace),
        key=expected.key,
        value=row["value"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
