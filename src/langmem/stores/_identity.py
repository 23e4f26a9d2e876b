"""The index identity of a store file: which embedder, dims and fields its vectors were made with.

A file's vectors are only comparable with query vectors of the same model, and a file indexed on
some fields answers for those fields only. So the identity is recorded in ``langmem_meta`` (key
``index``, JSON) by the first handle that opens the file with an index, and every handle checks
it: at open time (a different identity is refused with :class:`IndexMismatchError`) and inside
every transaction that embeds or ranks (so a re-embed made by another process meanwhile is
noticed, never mixed). ``generation`` counts re-embeds, for logs and tools.

Files written before identities were recorded have ``embedding_model`` and ``dims`` keys only;
their fields are unknown, and a handle whose model and dims match records its own fields.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langgraph.store.base import IndexConfig, ensure_embeddings

from langmem.embeddings._default import default_embeddings, embeddings_id
from langmem.errors import ConfigurationError, IndexMismatchError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

META_KEY = "index"


@dataclass(frozen=True)
class IndexIdentity:
    """What a file's vectors were made with."""

    embedder: str
    dims: int
    fields: tuple[str, ...] | None
    """Sorted field paths; ``None`` when a legacy file did not record them."""

    @classmethod
    def of(cls, embedder: str, dims: int, fields: list[str]) -> IndexIdentity:
        return cls(embedder, dims, tuple(sorted(dict.fromkeys(fields))))

    def same(self, other: IndexIdentity) -> bool:
        """Whether vectors of ``other`` serve this identity (unknown legacy fields match any)."""
        fields_match = self.fields is None or other.fields is None or self.fields == other.fields
        return self.embedder == other.embedder and self.dims == other.dims and fields_match

    def describe(self) -> str:
        fields = "unrecorded" if self.fields is None else list(self.fields)
        return f"embed={self.embedder!r}, dims={self.dims}, fields={fields}"

    def to_json(self, generation: int) -> str:
        return json.dumps(
            {
                "embedder": self.embedder,
                "dims": self.dims,
                "fields": list(self.fields or ()),
                "generation": generation,
            }
        )


def recorded(conn: sqlite3.Connection) -> tuple[IndexIdentity | None, int]:
    """The identity recorded in the file (``None`` if none) and its re-embed generation."""
    meta = dict(
        conn.execute(
            "SELECT key, value FROM langmem_meta WHERE key IN (?, 'embedding_model', 'dims')",
            (META_KEY,),
        ).fetchall()
    )
    raw = meta.get(META_KEY)
    if raw is not None:
        data: dict[str, Any] = json.loads(raw)
        identity = IndexIdentity(data["embedder"], int(data["dims"]), tuple(data["fields"]))
        return identity, int(data.get("generation", 0))
    if "embedding_model" in meta and "dims" in meta:
        return IndexIdentity(meta["embedding_model"], int(meta["dims"]), None), 0
    return None, 0


def record(conn: sqlite3.Connection, identity: IndexIdentity, generation: int) -> None:
    """Write ``identity`` (inside the caller's write transaction)."""
    conn.executemany(
        "INSERT OR REPLACE INTO langmem_meta (key, value) VALUES (?, ?)",
        [
            (META_KEY, identity.to_json(generation)),
            ("embedding_model", identity.embedder),
            ("dims", str(identity.dims)),
        ],
    )


def mismatch(
    path: str, found: IndexIdentity, wanted: IndexIdentity, *, changed: bool = False
) -> IndexMismatchError:
    """The error for a handle whose index is not the file's."""
    if changed:
        what = (
            f"The store file {path!r} was re-embedded by another handle or process; its vectors "
            f"are now for ({found.describe()}), but this handle embeds with ({wanted.describe()})"
        )
    else:
        what = (
            f"The store file {path!r} is indexed with ({found.describe()}), but it was opened "
            f"with ({wanted.describe()})"
        )
    hint = ""
    if wanted.embedder.startswith("langmem-hashing") and "MiniLM" in found.embedder:
        from langmem.embeddings._default import INSTALL_HINT

        hint = (
            " This process fell back to hashing embeddings because the local MiniLM model is "
            f"not installed here: run `{INSTALL_HINT}`."
        )
    return IndexMismatchError(
        f"{what}: ranking or writing with vectors of another model or other fields would give "
        "wrong results, so nothing was read or changed. Fix: open the file with the recorded "
        "index (same embeddings, dims and fields), or re-embed it for the new one with "
        f"SqliteStore({path!r}).reembed(index={{...}}) (every other handle then must reopen "
        f"with that index).{hint}",
        recorded=found.describe(),
        requested=wanted.describe(),
    )


def rebuild(identity: IndexIdentity) -> Embeddings | None:
    """The embeddings of ``identity`` when langmem can make them itself, else ``None``.

    Used by handles opened without an index, so they keep the file's vectors current.
    """
    from langmem.embeddings import HashingEmbeddings, MiniLMEmbeddings
    from langmem.embeddings._default import DEFAULT_DIMS, default_embeddings, embeddings_id

    if identity.embedder == f"{HashingEmbeddings.model_id}-{identity.dims}":
        return HashingEmbeddings(identity.dims)
    if identity.embedder != MiniLMEmbeddings.model_id or identity.dims != DEFAULT_DIMS:
        return None
    local = default_embeddings()  # warns, once, when only the hashing fallback is installed
    return local if embeddings_id(local) == identity.embedder else None


def index_setup(
    index: IndexConfig | dict[str, Any],
) -> tuple[dict[str, Any], Embeddings, IndexIdentity]:
    """Validate an index config (LangGraph's ``fields`` or ``text_fields``); returns it
    normalised, its embeddings and its identity."""
    config: dict[str, Any] = dict(index)
    dims = config.get("dims")
    if not isinstance(dims, int) or isinstance(dims, bool) or dims <= 0:
        raise ConfigurationError(
            f"index dims={dims!r} is not usable: give the embedding length as a positive "
            'int, for example index={"dims": 384} for all-MiniLM-L6-v2.'
        )
    fields = config.get("fields")
    text_fields = config.pop("text_fields", None)
    if fields is not None and text_fields is not None and fields != text_fields:
        raise ConfigurationError(
            f"index has fields={fields!r} and text_fields={text_fields!r}: they are two names "
            "for the same setting (LangGraph's SqliteStore says text_fields); give one."
        )
    chosen = fields if fields is not None else text_fields
    if isinstance(chosen, str):
        chosen = [chosen]
    if chosen is not None and (
        not isinstance(chosen, (list, tuple)) or not all(isinstance(f, str) for f in chosen)
    ):
        raise ConfigurationError(
            f"index fields={chosen!r} is not a list of paths: use e.g. ['$'] (the whole value) "
            "or ['content', 'tags[*]']."
        )
    config["fields"] = list(chosen or ["$"])
    if text_fields is not None:  # kept under LangGraph's name too, for code that reads it
        config["text_fields"] = list(config["fields"])
    embed = config.get("embed")
    embeddings = default_embeddings() if embed is None else ensure_embeddings(embed)
    config["embed"] = embeddings
    name = embeddings_id(embed if embed is not None else embeddings)
    return config, embeddings, IndexIdentity.of(name, dims, config["fields"])
