"""Copying every item between the embedded store and PostgreSQL, losslessly, both ways; and
from LangGraph's own stores into either (migrating to langmem).

Between langmem's stores, what is copied: namespaces, keys, values, ``created_at``/
``updated_at``, TTL (deadline and minutes), and every indexed text with its vector, as stored
(nothing is re-embedded; float32 vectors arrive bit for bit). Items already in the target with
the same namespace and key are replaced. The target's index must have the source's dimensions.

From any other LangGraph store (``InMemoryStore``, LangGraph's ``SqliteStore`` or
``PostgresStore``, or their file / database by URL), see :mod:`langmem.stores._copy_sources`:
the same, except that the target embeds the texts with its own index.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
from langgraph.store.base import BaseStore

from langmem import _json_text
from langmem.errors import ConfigurationError, InvalidInputError
from langmem.stores import _lengths, _writes

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore
    from langmem.stores._sqlite import SqliteStore

Progress = Callable[[int, int], None]
"""``progress(items_copied, items_total)``, called after each batch."""


@dataclass
class StoredItem:
    """One item as a store keeps it, vectors included."""

    prefix: str
    key: str
    value: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None = None
    ttl_minutes: float | None = None
    vectors: list[tuple[str, str, list[float]]] = field(default_factory=list)
    """``(field name, text, vector)`` per indexed text."""


def copy_store(
    source: BaseStore | str,
    target: BaseStore | str,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    """Copy every item of ``source`` into ``target``; returns how many were copied.

    Args:
        source: a :class:`SqliteStore` or :class:`PostgresStore`, or its ``open_store`` URL,
            copied as stored, vectors included. Or any other LangGraph store: an object
            (``InMemoryStore``, LangGraph's ``SqliteStore`` or ``PostgresStore``...), read
            through its public API, or LangGraph's store file or database by URL,
            ``langgraph-sqlite:///path/app.db`` or ``langgraph-postgres://user@host/db``,
            read only. Those keep their values, timestamps and TTLs; their texts are embedded
            by the target with its own index (LangGraph does not record which embeddings made
            its vectors). Such a source is read and checked whole before anything is written.
        target: a :class:`SqliteStore` or :class:`PostgresStore`, or its URL; items with the
            same namespace and key are replaced, so running a copy again is safe.
        batch_size: items per transaction on the target.
        progress: called with ``(copied, total)`` after each batch (see :func:`progress_bar`).

    Example:
        >>> from langmem.stores import open_store
        >>> a, b = open_store("memory://?embed=hashing&dims=8"), open_store("memory://?embed=hashing&dims=8")
        >>> a.put(("notes",), "1", {"text": "tea at five"})
        >>> copy_store(a, b)
        1
        >>> b.get(("notes",), "1").value
        {'text': 'tea at five'}
    """
    from langmem._store_context import check_store
    from langmem.stores import _copy_sources
    from langmem.stores._open import open_store, refuse_missing_file

    if batch_size < 1:
        raise ConfigurationError(f"copy_store(batch_size={batch_size}): use 1 or more.")
    if progress is not None and not callable(progress):
        raise ConfigurationError(
            f"copy_store(progress={progress!r}): pass a function (done, total), e.g. "
            "langmem.stores.progress_bar(), or None."
        )
    source, target = (
        check_store(store, what=f"copy_store {role}") if not isinstance(store, str) else store
        for role, store in (("source", source), ("target", target))
    )
    foreign = isinstance(source, str) and _copy_sources.is_langgraph_url(source)
    dst = open_store(target) if isinstance(target, str) else target
    if foreign or (not isinstance(source, str) and not _is_ours(source)):
        found = _copy_sources.open_source(source)
        _copy_sources.refuse_same_database(found, dst)
        return _copy_sources.copy_found(found, dst, batch_size=batch_size, progress=progress)
    if isinstance(source, str):
        refuse_missing_file(source, "copy_store source")
    src = open_store(source) if isinstance(source, str) else source
    if _kind(dst) == "postgres" and _kind(src) == "sqlite":
        _check_holdable(_as_sqlite(src))
    reader, total = _reader(src, batch_size), _count(src)
    write = _writer(dst)
    done = 0
    if progress is not None:
        progress(0, total)
    for items in reader:
        try:
            write(items)
        except InvalidInputError as exc:  # an item written into the source during the copy
            raise InvalidInputError(
                f"{exc} The copy stopped after {done} item(s), each copied whole; items are "
                "replaced by a copy, so running it again is safe."
            ) from None
        done += len(items)
        if progress is not None:
            progress(done, max(total, done))
    return done


def progress_bar(stream: TextIO | None = None, width: int = 30) -> Progress:
    """A ``progress`` callback drawing ``[#####.....] 500/1000`` on one line of ``stream``."""
    out = stream if stream is not None else sys.stderr

    def show(done: int, total: int) -> None:
        filled = width if total == 0 else width * done // total
        end = "\n" if done >= total else ""
        out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        out.flush()

    return show


def _is_ours(store: BaseStore) -> bool:
    try:
        _kind(store)
    except ConfigurationError:
        return False
    return True


def _kind(store: BaseStore) -> str:
    from langmem.stores._sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        return "sqlite"
    try:
        from langmem.stores._postgres import PostgresStore
    except ImportError:  # pragma: no cover - the postgres extra is not installed
        PostgresStore = ()  # type: ignore[misc,assignment]
    if isinstance(store, PostgresStore):
        return "postgres"
    raise ConfigurationError(
        f"copy_store() copies between langmem's SqliteStore and PostgresStore, not "
        f"{type(store).__name__}: open both ends with open_store(URL)."
    )


def _count(store: BaseStore) -> int:
    if _kind(store) == "sqlite":
        sqlite = _as_sqlite(store)
        with sqlite._read() as conn:
            return int(conn.execute("SELECT count(*) FROM langmem_items").fetchone()[0])
    with _as_postgres(store)._transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM store")
        return int(cur.fetchone()["n"])


def _reader(store: BaseStore, size: int) -> Iterator[list[StoredItem]]:
    return (
        _read_sqlite(_as_sqlite(store), size)
        if _kind(store) == "sqlite"
        else (_read_postgres(_as_postgres(store), size))
    )


def _writer(store: BaseStore) -> Callable[[list[StoredItem]], None]:
    if _kind(store) == "sqlite":
        sqlite = _as_sqlite(store)
        return lambda items: _write_sqlite(sqlite, items)
    postgres = _as_postgres(store)
    return lambda items: _write_postgres(postgres, items)


def _as_sqlite(store: BaseStore) -> SqliteStore:
    return store  # type: ignore[return-value]


def _as_postgres(store: BaseStore) -> PostgresStore:
    return store  # type: ignore[return-value]


def _check_dims(items: Sequence[StoredItem], dims: int | None, name: str) -> None:
    for item in items:
        for field_name, _, vector in item.vectors:
            if dims is None or len(vector) != dims:
                raise ConfigurationError(
                    f"copy_store(): item {item.prefix}/{item.key} has a {len(vector)}-dim vector "
                    f"({field_name!r}) but the target {name} indexes "
                    f"{'no vectors' if dims is None else f'{dims} dims'}: open the target with "
                    f"dims={len(vector)} and the same embeddings as the source."
                )


def _check_holdable(source: SqliteStore) -> None:
    """Before a copy into PostgreSQL writes anything: name every item of ``source`` that
    PostgreSQL cannot hold (NUL, NaN or infinity: see ``_pg_checks``)."""
    from langmem.stores import _pg_checks

    with source._read() as conn:
        # candidates by their JSON text (json.dumps writes NUL as \u0000; the embedded store
        # writes infinity as 1e999, older files as Infinity), checked in Python
        rows = conn.execute(
            "SELECT prefix, key, value FROM langmem_items WHERE instr(key, char(0)) > 0"
            " OR instr(value, '\\u0000') > 0 OR instr(value, 'NaN') > 0"
            " OR instr(value, 'Infinity') > 0 OR instr(value, '1e999') > 0"
        ).fetchall()
    _pg_checks.refuse_unholdable(
        ((prefix, key, json.loads(value)) for prefix, key, value in rows), "Nothing was copied."
    )


# -- SQLite ----------------------------------------------------------------------------------


def _read_sqlite(store: SqliteStore, size: int) -> Iterator[list[StoredItem]]:
    last = 0
    while True:
        with store._read() as conn:
            rows = conn.execute(
                "SELECT id, prefix, key, value, created_at, updated_at, expires_at, ttl_minutes"
                " FROM langmem_items WHERE id > ? ORDER BY id LIMIT ?",
                (last, size),
            ).fetchall()
            if not rows:
                return
            ids = [row[0] for row in rows]
            vectors: dict[int, list[tuple[str, str, list[float]]]] = {}
            for chunk in _writes.chunks(ids):
                for item_id, name, text, blob in conn.execute(
                    "SELECT item_id, field_name, text, embedding FROM langmem_vectors"
                    f" WHERE item_id IN ({','.join('?' * len(chunk))}) ORDER BY id",
                    list(chunk),
                ):
                    vector = np.frombuffer(blob, dtype=np.float32).tolist()
                    vectors.setdefault(item_id, []).append((name, text, vector))
        last = ids[-1]
        yield [
            StoredItem(
                prefix=prefix,
                key=key,
                value=json.loads(value),
                created_at=datetime.fromisoformat(created),
                updated_at=datetime.fromisoformat(updated),
                expires_at=_moment(expires),
                ttl_minutes=ttl,
                vectors=vectors.get(item_id, []),
            )
            for item_id, prefix, key, value, created, updated, expires, ttl in rows
        ]


def _moment(expires: float | None) -> datetime | None:
    """A SQLite ``expires_at`` as a time; ``None`` for none, or one past any calendar
    (``ttl=math.inf``: never expires either way, and the TTL minutes are kept)."""
    if expires is None or expires > _LAST:
        return None
    return datetime.fromtimestamp(expires, tz=timezone.utc)


_LAST = datetime(9999, 12, 31, tzinfo=timezone.utc).timestamp()


def _write_sqlite(store: SqliteStore, items: list[StoredItem]) -> None:
    dims = store._vectors.dims if store._vectors is not None else None
    _check_dims(items, dims, f"SqliteStore({store.path!r})")
    with store._write() as conn:
        for item in items:
            conn.execute(
                "INSERT INTO langmem_items"
                " (prefix, key, value, created_at, updated_at, expires_at, ttl_minutes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value,"
                " created_at = excluded.created_at, updated_at = excluded.updated_at,"
                " expires_at = excluded.expires_at, ttl_minutes = excluded.ttl_minutes",
                (
                    item.prefix,
                    item.key,
                    # infinity as 1e999, as the store's own writes (SQLite's JSON reads it)
                    _json_text.dumps(
                        item.value, refuse_nan=False, ensure_ascii=False, separators=(",", ":")
                    ),
                    item.created_at.isoformat(),
                    item.updated_at.isoformat(),
                    None if item.expires_at is None else item.expires_at.timestamp(),
                    item.ttl_minutes,
                ),
            )
            item_id = conn.execute(
                "SELECT id FROM langmem_items WHERE prefix = ? AND key = ?",
                (item.prefix, item.key),
            ).fetchone()[0]
            conn.execute("DELETE FROM langmem_vectors WHERE item_id = ?", (item_id,))
            _lengths.insert(
                conn,
                [
                    (
                        item_id,
                        name,
                        text,
                        _writes.text_hash(text),
                        np.asarray(vector, dtype=np.float32).tobytes(),
                    )
                    for name, text, vector in item.vectors
                ],
            )
    store._refresh(force=True)


# -- PostgreSQL ------------------------------------------------------------------------------


def _read_postgres(store: PostgresStore, size: int) -> Iterator[list[StoredItem]]:
    after: tuple[str, str] = ("", "")
    first = True
    while True:
        with store._transaction() as cur:
            cur.execute(
                "SELECT prefix, key, value, created_at, updated_at, expires_at, ttl_minutes"
                " FROM store WHERE %s OR (prefix, key) > (%s, %s)"
                " ORDER BY prefix, key LIMIT %s",
                (first, after[0], after[1], size),
            )
            rows = list(cur.fetchall())
            if not rows:
                return
            vectors: dict[tuple[str, str], list[tuple[str, str, list[float]]]] = {}
            if store.index_config:
                cur.execute(
                    "SELECT sv.prefix, sv.key, sv.field_name, sv.lm_text,"
                    " sv.embedding::real[] AS e"
                    " FROM store_vectors sv JOIN unnest(%s::text[], %s::text[]) AS t(p, k)"
                    " ON sv.prefix = t.p AND sv.key = t.k ORDER BY sv.field_name",
                    ([r["prefix"] for r in rows], [r["key"] for r in rows]),
                )
                for v in cur.fetchall():
                    entry = (v["field_name"], v["lm_text"] or "", [float(x) for x in v["e"]])
                    vectors.setdefault((v["prefix"], v["key"]), []).append(entry)
        first, after = False, (rows[-1]["prefix"], rows[-1]["key"])
        yield [
            StoredItem(
                prefix=r["prefix"],
                key=r["key"],
                value=r["value"],
                created_at=r["created_at"],
                updated_at=r["updated_at"],
                expires_at=r["expires_at"],
                ttl_minutes=r["ttl_minutes"],
                vectors=vectors.get((r["prefix"], r["key"]), []),
            )
            for r in rows
        ]


def _write_postgres(store: PostgresStore, items: list[StoredItem]) -> None:
    from psycopg.types.json import Jsonb

    from langmem.stores import _pg_checks
    from langmem.stores._postgres import insert_vectors

    dims = int(store.index_config["dims"]) if store.index_config else None
    _check_dims(items, dims, f"PostgresStore({store.url.split('@')[-1]!r})")
    _pg_checks.refuse_unholdable(
        ((i.prefix, i.key, i.value) for i in items), "Nothing of this batch was written."
    )
    with store._transaction() as cur:
        if store.index_config:  # the vectors go in only while the database has this index
            store._check_index(cur, writes=True)
        cur.execute(
            "INSERT INTO store"
            " (prefix, key, value, created_at, updated_at, expires_at, ttl_minutes)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::jsonb[], %s::timestamptz[],"
            " %s::timestamptz[], %s::timestamptz[], %s::float8[])"
            " ON CONFLICT (prefix, key) DO UPDATE SET value = EXCLUDED.value,"
            " created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at,"
            " expires_at = EXCLUDED.expires_at, ttl_minutes = EXCLUDED.ttl_minutes",
            (
                [i.prefix for i in items],
                [i.key for i in items],
                [Jsonb(i.value) for i in items],
                [i.created_at for i in items],
                [i.updated_at for i in items],
                [i.expires_at for i in items],
                [_pg_checks.capped_ttl(i.ttl_minutes) for i in items],
            ),
        )
        if not store.index_config:
            return
        cur.execute(
            "DELETE FROM store_vectors sv USING unnest(%s::text[], %s::text[]) AS t(p, k)"
            " WHERE sv.prefix = t.p AND sv.key = t.k",
            ([i.prefix for i in items], [i.key for i in items]),
        )
        rows = [(i.prefix, i.key, n, t, v) for i in items for n, t, v in i.vectors]
        stamps = [(i.created_at, i.updated_at) for i in items for _ in i.vectors]
        insert_vectors(cur, rows, stamps=stamps)
