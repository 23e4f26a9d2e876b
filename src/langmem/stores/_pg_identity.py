"""The index identity of a PostgreSQL store: which embedder, dims and fields made its vectors.

As on the embedded store (:mod:`langmem.stores._identity`), a database's vectors are only
comparable with query vectors of the same model, so the identity is recorded, in the one-row
table ``langmem_index`` (identity as JSON, and ``generation``, which counts re-embeds), by the
first handle that sets the database up with an index. Every handle checks it:

- at ``setup()``: another identity is refused with
  :class:`~langmem.errors.IndexMismatchError`, nothing changed;
- in every write transaction that touches vectors, before any vector is written, through the
  SQL function ``langmem_index_check``: it takes a shared advisory lock, then reads the
  identity with a fresh snapshot. A re-embed takes the same lock exclusively for its swap
  (:mod:`langmem.stores._pg_reembed`), so a write either commits before the swap starts (and
  the swap re-embeds its texts) or waits for the swap and is refused: vectors of two
  embedders never meet in one database;
- in every ranked search, in the pipeline that opens its transaction (no extra round trip),
  without the lock: searches never wait for a re-embed. The search's statements each take
  their own snapshot (READ COMMITTED; the vector query may even run on a second connection),
  so a re-embed may commit between the check and a statement that reads vectors. Each such
  statement therefore also returns the identity its own snapshot records (:data:`COLUMN`,
  read once per statement), and :func:`verify` refuses its rows when that is not the
  handle's: a search never ranks vectors of two embedders, or of another embedder than its
  query's, together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from langmem.embeddings._default import embeddings_id
from langmem.errors import IndexMismatchError

TABLE = "langmem_index"
LOCK_KEY = 0x6C616E676D656E  # the advisory lock a re-embed's swap holds (writers share it)
SQLSTATE = "LM001"
"""The error ``langmem_index_check`` raises; its message is the recorded identity."""

SCHEMA: tuple[str, ...] = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (one boolean PRIMARY KEY DEFAULT true CHECK (one),"
    " identity text NOT NULL, generation integer NOT NULL DEFAULT 0)",
    "CREATE OR REPLACE FUNCTION langmem_index_check(wanted text, writes boolean)"
    " RETURNS void LANGUAGE plpgsql VOLATILE AS $$"
    " DECLARE found text;"
    " BEGIN"
    f"  IF writes THEN PERFORM pg_advisory_xact_lock_shared({LOCK_KEY}); END IF;"
    f"  SELECT identity INTO found FROM {TABLE};"  # a fresh snapshot: after the lock
    "  IF found IS DISTINCT FROM wanted AND found IS NOT NULL THEN"
    f"   RAISE EXCEPTION USING ERRCODE = '{SQLSTATE}', MESSAGE = found;"
    "  END IF;"
    " END $$",
)
"""Schema steps (see ``_pg_schema.VECTOR_STEPS``)."""

COLUMN = f"(SELECT identity FROM {TABLE}) AS lm_index"
"""A select-list column: the identity recorded in the statement's own snapshot, the one its
vectors were read in (an uncorrelated subquery: read once per statement)."""


@dataclass(frozen=True)
class Identity:
    """What a database's vectors were made with."""

    embedder: str
    dims: int
    fields: tuple[str, ...]

    @classmethod
    def of(cls, config: Any, embeddings: Any) -> Identity:
        """The identity of a handle's index config (raw ``embed`` name first, as the embedded
        store names it) and its embeddings object."""
        raw = config.get("embed")
        name = embeddings_id(raw if raw is not None else embeddings)
        fields = tuple(sorted(dict.fromkeys(config.get("fields") or ["$"])))
        return cls(name, int(config["dims"]), fields)

    @classmethod
    def parse(cls, text: str) -> Identity:
        data = json.loads(text)
        return cls(str(data["embedder"]), int(data["dims"]), tuple(data["fields"]))

    def text(self) -> str:
        """The canonical JSON the database records and checks."""
        return json.dumps(
            {"dims": self.dims, "embedder": self.embedder, "fields": list(self.fields)},
            sort_keys=True,
        )

    def describe(self) -> str:
        return f"embed={self.embedder!r}, dims={self.dims}, fields={list(self.fields)}"


def recorded(cur: Any) -> tuple[Identity | None, int]:
    """The recorded identity (``None`` if none) and its generation."""
    cur.execute(f"SELECT identity, generation FROM {TABLE}")
    row = cur.fetchone()
    if row is None:
        return None, 0
    return Identity.parse(row["identity"]), int(row["generation"])


def claim(cur: Any, wanted: Identity, where: str, column_dims: int) -> int:
    """At setup: record ``wanted`` if the database records nothing, else check it is the
    recorded one. Returns the generation.

    ``column_dims``: the vector column's dimensions (0 when not fixed); a database that records
    nothing yet but holds vectors of other dims (written before langmem recorded the index, or
    by LangGraph's own store) is refused, not claimed."""
    found, _ = recorded(cur)
    if found is None and column_dims and column_dims != wanted.dims:
        unknown = Identity("not recorded", column_dims, ())
        raise mismatch(where, unknown, wanted)
    cur.execute(
        f"INSERT INTO {TABLE} (identity) VALUES (%s) ON CONFLICT (one) DO NOTHING",
        (wanted.text(),),
    )
    found, generation = recorded(cur)
    if found is not None and found != wanted:
        raise mismatch(where, found, wanted)
    return generation


def record(cur: Any, identity: Identity, generation: int) -> None:
    """Record ``identity`` (inside the caller's transaction)."""
    cur.execute(
        f"INSERT INTO {TABLE} (identity, generation) VALUES (%s, %s) ON CONFLICT (one)"
        " DO UPDATE SET identity = EXCLUDED.identity, generation = EXCLUDED.generation",
        (identity.text(), generation),
    )


def check(cur: Any, wanted: Identity, *, writes: bool) -> None:
    """Send the check on a cursor of its own on ``cur``'s connection: its empty result is never
    read, and in pipeline mode a result left unread on ``cur`` would be taken for the next
    statement's. A failure is raised when the transaction's next results are read."""
    conn = cur.connection
    text = wanted.text()
    if writes:
        conn.execute("SELECT langmem_index_check(%s, true)", (text,))
    else:  # plain SQL while the identity matches; the function only to raise
        conn.execute(
            f"SELECT CASE WHEN identity = %s THEN NULL"
            f" ELSE langmem_index_check(%s, false) END FROM {TABLE}",
            (text, text),
        )


def verify(rows: list[dict[str, Any]], wanted: Identity, where: str) -> None:
    """Refuse rows read with :data:`COLUMN` under another identity than ``wanted`` (a re-embed
    committed after the search's check): :func:`mismatch`, as the next search gets."""
    found = rows[0].get("lm_index") if rows else None
    if found is not None and found != wanted.text():
        raise mismatch(where, Identity.parse(found), wanted, changed=True)


def mismatch(
    where: str, found: Identity, wanted: Identity, *, changed: bool = False
) -> IndexMismatchError:
    """The error for a handle whose index is not the database's."""
    indexed = (
        f"holds {found.dims}-dim vectors of embeddings it does not record"
        if found.embedder == "not recorded"
        else f"is indexed with ({found.describe()})"
    )
    what = (
        f"The PostgreSQL store {where} was re-embedded by another handle or process; its "
        f"vectors are now for ({found.describe()}), but this handle embeds with "
        f"({wanted.describe()})"
        if changed
        else f"The PostgreSQL store {where} {indexed}, but it was opened with ({wanted.describe()})"
    )
    return IndexMismatchError(
        f"{what}: ranking or writing with vectors of another model or other fields would give "
        "wrong results, so nothing was read or changed. Fix: open the store with the recorded "
        "index (same embeddings, dims and fields), or re-embed it for the new one with "
        "`langmem store reembed --store URL --embed ...` or PostgresStore.reembed(index) "
        "(every other handle then must reopen with that index).",
        recorded=found.describe(),
        requested=wanted.describe(),
    )
