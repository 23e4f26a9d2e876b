"""Re-embedding a PostgreSQL store for a new index (embedder, dims or fields), resumably.

Two phases, so that an interruption (a killed process, a lost connection) loses no finished
work and never leaves vectors of two embedders side by side:

1. **Staging** (no lock; the store keeps serving with its old vectors): the texts to index are
   embedded in batches, and each batch is committed into ``langmem_reembed``, a table shaped
   like ``store_vectors``; ``langmem_reembed_target`` records which index the staged vectors
   are for. A run for the same index after an interruption embeds only the texts not staged
   yet (or changed since); a run for another index starts over.
2. **Swap** (one transaction): under the exclusive advisory lock that every vector write
   shares (:mod:`langmem.stores._pg_identity`), and ``EXCLUSIVE`` on ``store_vectors`` (reads
   go on, with the old vectors), texts written since they were staged are embedded, every
   vector row is replaced by its staged one, the new index is recorded (generation + 1) and
   the stage is emptied. New dims change the column's type (reads then wait for the swap).

What is re-embedded is what the embedded store re-embeds (:mod:`langmem.stores._reembed`):
items that have vectors (``put(..., index=False)`` items stay unindexed); with the same fields
each keeps exactly its texts, with new fields its texts are read from its value at them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from langgraph.store.base import PutOp

from langmem.errors import ConfigurationError
from langmem.stores import _identity, _pg_connect, _pg_identity, _reembed, _writes
from langmem.stores._pg_identity import Identity
from langmem.stores._pg_schema import (
    COVER_INDEX,
    LONG_INDEX,
    STAGE,
    VECTOR_STEPS,
    covering_index,
    vector_dims,
)
from langmem.stores._pg_schema import STAGE_TARGET as TARGET
from langmem.stores._pg_writes import insert_vectors

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langgraph.store.postgres.base import PostgresIndexConfig

    from langmem.stores._postgres import PostgresStore

RowId = tuple[str, str, str]
"""``(prefix, key, field name)`` of a vector row."""
Progress = Callable[[int, int], object]


def reembed(
    store: PostgresStore,
    index: PostgresIndexConfig | dict[str, Any] | None,
    *,
    progress: Progress | None,
    batch_size: int,
    allow_unindexed: bool = False,
) -> int:
    """:meth:`PostgresStore.reembed <langmem.stores.PostgresStore.reembed>`: the arguments
    checked, then :func:`run` (or, on a store never indexed, its vector tables created); the
    handle indexes with ``index`` afterwards."""
    _reembed.check_flag(allow_unindexed)
    if index is None:
        if store.index_config is None:
            raise ConfigurationError(
                f"reembed() on {_pg_connect.redact(store.url)}: this handle has no index; "
                "pass one, e.g. store.reembed({'dims': 384, 'embed': <embeddings>, "
                "'fields': ['$']})."
            )
        index = {k: store.index_config.get(k) for k in ("dims", "embed", "fields")}
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigurationError(f"reembed(batch_size={batch_size!r}): use 1 or more.")
    config, embeddings, found = _identity.index_setup(index)
    wanted = Identity(found.embedder, found.dims, found.fields or ("$",))
    extras = {k: v for k, v in (store.index_config or {}).items() if not k.startswith("__")}
    extras.update(dims=config["dims"], embed=index.get("embed"), fields=config["fields"])
    with store._transaction() as cur:
        cur.execute("SELECT to_regclass('store_vectors') IS NOT NULL AS ok")
        indexed = bool(cur.fetchone()["ok"])
    if not indexed:  # a store never indexed: create its vector tables, nothing to embed
        _reembed.check_dims(embeddings, wanted.dims)  # no vector shows the length: ask
        store._configure_index(cast("PostgresIndexConfig", extras), embeddings, wanted)
        store.setup()
        return 0
    with _pg_connect.migration_lock(store._conninfo, store.url), store._transaction() as cur:
        # the stage and the checks, for a handle that skipped setup()
        _pg_connect.run_migrations(cur, "langmem_vector_migrations", VECTOR_STEPS)
    count = run(
        store,
        config["fields"],
        embeddings,
        wanted,
        batch_size=batch_size,
        progress=progress,
        allow_unindexed=allow_unindexed,
    )
    store._configure_index(cast("PostgresIndexConfig", extras), embeddings, wanted)
    store._checks = True
    return count


def run(
    store: PostgresStore,
    fields: list[str],
    embeddings: Embeddings,
    wanted: Identity,
    *,
    batch_size: int,
    progress: Progress | None,
    allow_unindexed: bool = False,
) -> int:
    """Stage, then swap; returns how many distinct texts the new index holds (as the embedded
    store counts them). Unless ``allow_unindexed``, refused before anything is embedded (and
    checked again in the swap) when some items that have vectors hold no text at ``fields``
    (:func:`langmem.stores._reembed.refusal`)."""
    guard = None if allow_unindexed else fields
    paths = _writes.index_paths(fields)
    with store._transaction() as cur:
        found, _ = _pg_identity.recorded(cur)
        # texts kept as they are only when they were made for the same fields (unrecorded
        # fields: read from the values, as the embedded store does)
        keep = found is not None and found.fields == wanted.fields
        _start(cur, wanted)
        texts = _texts(cur, paths, keep=keep, guard=guard)
        staged = _staged(cur)
    if not texts:  # no vector shows the embedder's length: ask it
        _reembed.check_dims(embeddings, wanted.dims)
    pending = [row for row, text in texts.items() if staged.get(row) != text]
    total = len(texts)
    done = total - len(pending)
    if progress is not None:
        progress(done, total)
    for start in range(0, len(pending), batch_size):
        chunk = pending[start : start + batch_size]
        vectors = _embed(embeddings, [texts[row] for row in chunk], wanted.dims)
        with store._transaction() as cur:
            _stage(cur, [(*row, texts[row], vector) for row, vector in zip(chunk, vectors)])
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    with store._transaction() as cur:
        return _swap(cur, paths, embeddings, wanted, keep=keep, guard=guard)


def _start(cur: Any, wanted: Identity) -> None:
    """Keep the stage when it holds vectors for ``wanted`` (a resumed run), else empty it."""
    cur.execute(f"SELECT identity FROM {TARGET}")
    row = cur.fetchone()
    if row is not None and row["identity"] == wanted.text():
        return
    cur.execute(f"DELETE FROM {STAGE}")
    cur.execute(
        f"INSERT INTO {TARGET} (identity) VALUES (%s)"
        " ON CONFLICT (one) DO UPDATE SET identity = EXCLUDED.identity",
        (wanted.text(),),
    )


def _texts(
    cur: Any, paths: _writes.IndexPaths, *, keep: bool, guard: list[str] | None = None
) -> dict[RowId, str]:
    """Every vector row the new index holds, with its text, in the table's key order. With
    ``guard`` (the new fields), refused when an item read from its value holds no text there
    (no item is read twice: the texts are derived in this same pass)."""
    texts: dict[RowId, str] = {}
    lost: list[tuple[str, str]] = []
    derive: list[tuple[str, str]] = []
    if keep:
        cur.execute(
            "SELECT prefix, key, field_name, lm_text FROM store_vectors"
            " ORDER BY prefix, key, field_name"
        )
        for r in cur.fetchall():
            if r["lm_text"] is None:  # written without langmem's columns: read the value
                derive.append((r["prefix"], r["key"]))
            else:
                texts[(r["prefix"], r["key"], r["field_name"])] = r["lm_text"]
        if not derive:
            return texts
    for prefix, key, value in _values(cur, None if not keep else derive):
        found = _writes.texts_of(PutOp(tuple(prefix.split(".")), key, value), paths)
        for name, text in found:
            texts[(prefix, key, name)] = text
        if not found:
            lost.append((prefix, key))
    if lost and guard is not None:
        items = {(p, k) for p, k, _ in texts} | set(lost)
        raise _reembed.UnindexingRefused(guard, len(lost), len(items), min(lost))
    return texts


def _values(cur: Any, only: list[tuple[str, str]] | None) -> Iterator[tuple[str, str, Any]]:
    """``(prefix, key, value)`` of the items that have vectors (``only`` those, if given)."""
    if only is None:
        cur.execute(
            "SELECT s.prefix, s.key, s.value FROM store s WHERE EXISTS (SELECT 1 FROM"
            " store_vectors sv WHERE sv.prefix = s.prefix AND sv.key = s.key)"
            " ORDER BY s.prefix, s.key"
        )
    else:
        cur.execute(
            "SELECT s.prefix, s.key, s.value FROM store s JOIN unnest(%s::text[], %s::text[])"
            " AS t(p, k) ON s.prefix = t.p AND s.key = t.k ORDER BY s.prefix, s.key",
            ([p for p, _ in only], [k for _, k in only]),
        )
    for r in cur.fetchall():
        value = r["value"] if isinstance(r["value"], dict) else json.loads(r["value"])
        yield r["prefix"], r["key"], value


def _staged(cur: Any) -> dict[RowId, str]:
    cur.execute(f"SELECT prefix, key, field_name, lm_text FROM {STAGE}")
    return {(r["prefix"], r["key"], r["field_name"]): r["lm_text"] for r in cur.fetchall()}


def _embed(embeddings: Embeddings, texts: list[str], dims: int) -> list[list[float]]:
    """Vectors of ``texts`` (each distinct text once), checked as every store checks them
    (:func:`langmem.stores._writes.to_blobs`: ``dims`` values each, no NaN or infinity)."""
    distinct = list(dict.fromkeys(texts))
    made = embeddings.embed_documents(distinct)
    _writes.to_blobs(made, len(distinct), dims, distinct)  # raises, naming the text
    by_text = {text: [float(x) for x in vector] for text, vector in zip(distinct, made)}
    return [by_text[text] for text in texts]


def _stage(cur: Any, rows: list[tuple[str, str, str, str, list[float]]]) -> None:
    insert_vectors(cur, rows, table=STAGE)


def _swap(
    cur: Any,
    paths: _writes.IndexPaths,
    embeddings: Embeddings,
    wanted: Identity,
    *,
    keep: bool,
    guard: list[str] | None = None,
) -> int:
    """Replace every vector row by its staged one and record ``wanted``; returns how many
    distinct texts the rows hold."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_pg_identity.LOCK_KEY,))
    cur.execute("LOCK TABLE store_vectors IN EXCLUSIVE MODE")
    texts = _texts(cur, paths, keep=keep, guard=guard)  # now nobody else writes vectors
    staged = _staged(cur)
    late = [row for row, text in texts.items() if staged.get(row) != text]
    if late:
        vectors = _embed(embeddings, [texts[row] for row in late], wanted.dims)
        _stage(cur, [(*row, texts[row], vector) for row, vector in zip(late, vectors)])
    _, generation = _pg_identity.recorded(cur)
    resized = vector_dims(cur) != wanted.dims
    cur.execute(  # each text keeps its place in the write order
        f"UPDATE {STAGE} st SET lm_seq = sv.lm_seq FROM store_vectors sv"
        " WHERE st.prefix = sv.prefix AND st.key = sv.key AND st.field_name = sv.field_name"
    )
    cur.execute("DELETE FROM store_vectors")
    rebuild: list[str] = []
    if resized:
        rebuild = _resize(cur, wanted.dims)
    rows = list(texts)
    cur.execute(
        "INSERT INTO store_vectors (prefix, key, field_name, embedding, lm_text, lm_words,"
        " lm_length, lm_tokens, lm_repeats, lm_seq, created_at, updated_at)"
        " SELECT st.prefix, st.key, st.field_name, st.embedding, st.lm_text, st.lm_words,"
        " st.lm_length, st.lm_tokens, st.lm_repeats, st.lm_seq, st.created_at, st.updated_at"
        f" FROM {STAGE} st JOIN unnest(%s::text[], %s::text[], %s::text[]) AS t(p, k, f)"
        " ON st.prefix = t.p AND st.key = t.k AND st.field_name = t.f",
        ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]),
    )
    for definition in rebuild:  # built over every row at once: faster than row by row
        cur.execute(definition)
    if resized:
        covering_index(cur)
    _pg_identity.record(cur, wanted, generation + 1)
    cur.execute(f"DELETE FROM {STAGE}")
    cur.execute(f"DELETE FROM {TARGET}")
    return len(set(texts.values()))


def _resize(cur: Any, dims: int) -> list[str]:
    """Give the (empty) vector column ``dims`` dimensions. The indexes holding vectors are
    dropped, to build after the rows are in: the covering one (its identity limit depends on
    the dims: ``covering_index``) and the nearest-neighbour ones (their definitions are
    returned)."""
    cur.execute(
        "SELECT format_type(atttypid, NULL) AS kind FROM pg_attribute"
        " WHERE attrelid = 'store_vectors'::regclass AND attname = 'embedding'"
    )
    kind = str(cur.fetchone()["kind"])  # vector or halfvec, as the index config chose
    cur.execute(
        "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
        " WHERE i.indrelid = 'store_vectors'::regclass AND a.amname IN ('hnsw', 'ivfflat')"
    )
    nearest = [(r["name"], r["definition"]) for r in cur.fetchall()]
    for name in (COVER_INDEX, LONG_INDEX, *(n for n, _ in nearest)):
        cur.execute(f'DROP INDEX IF EXISTS "{name}"')
    cur.execute(f"ALTER TABLE store_vectors ALTER COLUMN embedding TYPE {kind}({int(dims)})")
    return [definition for _, definition in nearest]
