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

from langmem.errors import ConfigurationError, InvalidInputError
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
    conn: sqlite3.Connection,
    fields: _writes.IndexPaths,
    wanted: _identity.IndexIdentity,
    *,
    allow_unindexed: bool = False,
) -> dict[bytes, str]:
    """Every distinct text to embed for ``wanted``, by hash (refused, unless
    ``allow_unindexed``, when some indexed items hold no text at its fields: :func:`refusal`)."""
    rows = _rows(conn, fields, wanted)
    if not allow_unindexed:
        _refuse_unindexing(conn, rows, fields)
    return {digest: text for found in rows.values() for _, text, digest in found}


class UnindexingRefused(InvalidInputError):
    """A re-embed whose new fields find no text in some items that have vectors: they would
    lose their vectors, and since a re-embed only re-embeds items that have vectors, no later
    one would bring them back (a typo such as ``contnet`` used to leave every memory
    unsearchable by meaning)."""

    def __init__(
        self,
        fields: list[str],
        lost: int,
        total: int,
        where: tuple[str, str],
        allow: str = "allow_unindexed=True",
    ) -> None:
        self.details = (fields, lost, total, where)
        prefix, key = where
        super().__init__(
            f"fields {','.join(fields)!r} find no text in {lost} of the {total} indexed "
            f"memories (e.g. key {key!r} in {prefix.replace('.', '/')!r}): re-embedding would "
            "leave them without vectors for good (a re-embed only re-embeds memories that have "
            "vectors, so no later fields could bring them back). Nothing was re-embedded. Fix: "
            "name fields those memories hold (several are allowed, e.g. content,title), keep "
            f"the current fields, or allow it ({allow}) if those memories should stay "
            "unsearchable by meaning."
        )

    def told(self, allow: str) -> UnindexingRefused:
        """The same refusal, naming ``allow`` as the way to re-embed anyway (the CLI's flag)."""
        return UnindexingRefused(*self.details, allow=allow)


def check_dims(embeddings: Embeddings, dims: int) -> None:
    """Refuse ``dims`` when ``embeddings`` gives vectors of another length (one probe text is
    embedded): a re-embed with nothing to embed used to record it, and every later put failed.
    An embedder whose reply is not one vector of numbers is refused as such."""
    from langmem.embeddings._default import embeddings_id

    name = embeddings_id(embeddings)
    probe = embeddings.embed_documents(["langmem dims probe"])
    vector = probe[0] if isinstance(probe, list) and len(probe) == 1 else None
    if not _numbers(vector):
        raise ConfigurationError(
            f"{name} answered {_writes._shown(probe)} for one text: not one vector of numbers, so "
            f"dims={dims} cannot be checked. Nothing was re-embedded. Fix: the embedder's "
            "embed_documents must return one list of numbers per text; check its setup."
        )
    made = len(vector)  # type: ignore[arg-type]
    if made == dims:
        return
    raise ConfigurationError(
        f"dims={dims} does not match the embeddings: {name} returns vectors of {made} values. "
        f"Nothing was re-embedded. Fix: pass dims={made} (CLI: --dims {made}, or leave --dims "
        "out for the model's own length)."
    )


def _numbers(vector: object) -> bool:
    """Whether ``vector`` is a non-empty sequence of numbers (lists, tuples, numpy arrays)."""
    if vector is None or isinstance(vector, (str, bytes, dict)):
        return False
    try:
        values = [float(v) for v in vector]  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return False
    return len(values) > 0


def check_flag(allow_unindexed: object) -> None:
    """Refuse an ``allow_unindexed`` that is not a bool (``"no"`` would allow it)."""
    if not isinstance(allow_unindexed, bool):
        raise ConfigurationError(
            f"reembed(allow_unindexed={allow_unindexed!r}): pass True or False."
        )


def _refuse_unindexing(conn: sqlite3.Connection, rows: Rows, fields: _writes.IndexPaths) -> None:
    lost = [item_id for item_id, found in rows.items() if not found]
    if not lost:
        return
    prefix, key = conn.execute(
        "SELECT prefix, key FROM langmem_items WHERE id IN"
        f" ({','.join('?' * len(lost[: _writes.MAX_PARAMS]))}) ORDER BY prefix, key LIMIT 1",
        lost[: _writes.MAX_PARAMS],
    ).fetchone()
    raise UnindexingRefused([path for path, _ in fields], len(lost), len(rows), (prefix, key))


def swap(
    conn: sqlite3.Connection,
    fields: _writes.IndexPaths,
    vectors: dict[bytes, bytes],
    embeddings: Embeddings,
    wanted: _identity.IndexIdentity,
    *,
    allow_unindexed: bool = False,
) -> int:
    """Inside a write transaction: replace every vector row with ``wanted``'s and record it.

    ``vectors`` holds the texts embedded beforehand; texts written since are embedded here
    (and checked as :func:`texts` checks them). Returns how many distinct texts the new index
    holds.
    """
    rows = _rows(conn, fields, wanted)
    if not allow_unindexed:
        _refuse_unindexing(conn, rows, fields)
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
