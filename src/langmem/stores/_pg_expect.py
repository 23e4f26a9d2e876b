"""The expectation check of :meth:`PostgresStore.batch_expecting
<langmem.stores.PostgresStore.batch_expecting>`, inside the batch's write transaction.

The memories expected are locked as they are read, so no other transaction changes them until
this one ends: the stored ones are read with ``SELECT ... FOR UPDATE``, in the same statement
and order that locks the rows the batch writes (``_pg_writes.lock_and_read``); a memory not stored
is claimed by inserting an empty placeholder row (an uncommitted insert, visible to no one,
that another writer's insert of the same key waits for), and one another writer stored
meanwhile is locked and read in turn. The placeholders are overwritten by the batch's own puts,
and removed when the batch does not write them. Then each memory is read as a get would read
it (an expired one not yet swept is none, unless the TTL config says ``omit_expired=False``)
and compared (``langmem._expect``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langgraph.store.base import Item

from langmem import _expect
from langmem.errors import WriteConflictError
from langmem.stores._pg_writes import lock_and_read

if TYPE_CHECKING:
    from langmem._expect import Expected
    from langmem.stores._postgres import PostgresStore

_CLAIMS = 3  # rounds of claiming keys that another writer deletes between our claim and lock


def check(
    store: PostgresStore, cur: Any, expect: Sequence[Expected], written: Sequence[tuple[str, str]]
) -> None:
    """Lock the ``written`` ``(prefix, key)`` rows of the batch (``_pg_writes.lock_rows``)
    together with the ``expect``-ed ones, in one statement that also reads the latter, then
    compare them (see the module). Placeholders of keys the batch does not write are removed.

    A key that other writers keep creating and deleting while it is claimed (still unclaimed
    after a few rounds) raises :class:`~langmem.errors.WriteConflictError` naming nothing
    found, for the writer to send its batch again."""
    refs = sorted({(".".join(e.namespace), e.key) for e in expect})
    omit = store._omit_expired
    rows = lock_and_read(cur, sorted({*written, *refs}), omit_expired=omit)
    claimed: set[tuple[str, str]] = set()
    pending = [ref for ref in refs if ref not in rows]
    for _ in range(_CLAIMS):
        if not pending:
            break
        inserted = cur.connection.execute(
            "INSERT INTO store (prefix, key, value)"
            " SELECT p, k, '{}'::jsonb FROM unnest(%s::text[], %s::text[]) AS t(p, k)"
            ' ORDER BY p COLLATE "C", k COLLATE "C"'
            " ON CONFLICT (prefix, key) DO NOTHING RETURNING prefix, key",
            ([p for p, _ in pending], [k for _, k in pending]),
        ).fetchall()
        claimed |= {(row["prefix"], row["key"]) for row in inserted}
        # a key another writer stored meanwhile: lock and read it (deleted again: claim again)
        stored = [ref for ref in pending if ref not in claimed]
        rows |= lock_and_read(cur, stored, omit_expired=omit)
        pending = [ref for ref in stored if ref not in rows]
    if pending:  # rolled back with the transaction: nothing is written
        namespaces = {(".".join(e.namespace), e.key): tuple(e.namespace) for e in expect}
        shown = ", ".join(f"{key!r} in {namespaces[prefix, key]!r}" for prefix, key in pending[:3])
        raise WriteConflictError(
            f"memory {shown} was created and deleted again by other writers while this write "
            "checked it: nothing was written. Send the write again.",
            found={},
        )
    spare = sorted(claimed - set(written))
    if spare:
        cur.connection.execute(
            "DELETE FROM store s USING unnest(%s::text[], %s::text[]) AS t(p, k)"
            " WHERE s.prefix = t.p AND s.key = t.k",
            ([p for p, _ in spare], [k for _, k in spare]),
        )
    found: list[Item | None] = []
    for wanted_item in expect:
        row = rows.get((".".join(wanted_item.namespace), wanted_item.key))
        found.append(None if row is None or row["expired"] else _item(wanted_item, row))
    _expect.check(expect, found)


def _item(expected: Expected, row: dict[str, Any]) -> Item:
    return Item(
        namespace=tuple(expected.namespace),
        key=expected.key,
        value=row["value"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
