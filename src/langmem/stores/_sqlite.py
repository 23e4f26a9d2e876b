"""The embedded default store: a LangGraph ``BaseStore`` in one SQLite file.

Standard-library ``sqlite3`` only (no loadable extension). Writes run in ``BEGIN IMMEDIATE``
transactions (WAL mode, so readers never wait), roll back on any error, and cascade deletes
through foreign keys. Embeddings are computed before a transaction opens, and the vector of a
text already stored is reused instead of recomputed. Search is exact: every vector lives in a
numpy matrix kept current on writes and refreshed from a change log when another process wrote.
Queries are answered by hybrid ranking, dense cosine fused with BM25 (see ``_lexical``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
    ensure_embeddings,
    get_text_at_path,
    tokenize_path,
    validate_op_namespace,
)

from langmem.embeddings._default import default_embeddings, embeddings_id
from langmem.errors import ConfigurationError
from langmem.stores import _filters, _search
from langmem.stores._migrations import migrate
from langmem.stores._sync import sync_vectors
from langmem.stores._vectors import VectorIndex

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from numpy.typing import NDArray

logger = logging.getLogger("langmem.stores")

_MAX_PARAMS = 500  # values per IN (...) list, below every SQLite build's variable limit
_LOG_KEEP = 100_000  # change-log rows kept; a reader further behind reloads everything
_ITEM_COLUMNS = "id, prefix, key, value, created_at, updated_at, ttl_minutes"


def _chunks(values: Sequence[Any], size: int = _MAX_PARAMS) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _prefix_clause(prefix: tuple[str, ...]) -> tuple[str, list[Any]]:
    """SQL matching items whose namespace starts with ``prefix`` (an index range scan)."""
    if not prefix:
        return "1", []
    text = ".".join(prefix)
    # labels never contain '.', and '/' sorts right after '.', so the range holds exactly the
    # namespaces below ``text``
    return "(prefix = ? OR (prefix >= ? AND prefix < ?))", [text, text + ".", text + "/"]


def _namespace_matches(namespace: tuple[str, ...], condition: MatchCondition) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    part = namespace[: len(path)] if condition.match_type == "prefix" else namespace[-len(path) :]
    if not path:
        return True
    return all(p == "*" or p == n for p, n in zip(path, part))


@dataclass
class _Write:
    """One put (or delete) after last-write-wins deduplication, with its texts to index."""

    op: PutOp
    prefix: str
    texts: list[tuple[str, str, bytes]] = field(default_factory=list)  # (field, text, hash)


@dataclass
class _Plan:
    """A batch split into reads and writes, plus what must be embedded before it runs."""

    ops: list[Op]
    writes: list[_Write]
    queries: list[str]
    texts: dict[bytes, str]  # hash -> text, for every text the writes index


class SqliteStore(BaseStore):
    """A LangGraph ``BaseStore`` in one SQLite file, with exact hybrid search and TTL.

    Every ``BaseStore`` operation works, sync and async. Another process using the same file
    sees each write at once. ``index`` works as LangGraph defines it (``dims``, ``embed``,
    ``fields``; ``put(..., index=[...])`` / ``index=False`` per item); when ``embed`` is left
    out, local MiniLM embeddings are used.

    Scores: with a query, ``SearchItem.score`` is in ``[-1, 1]``, higher is better. It is the
    cosine similarity of the query and the item's best indexed text, lifted towards 1 by
    ``0.7 * coverage * (1 - cosine)``, where ``coverage`` in ``[0, 1]`` is the IDF-weighted share
    of the query's informative words that the text contains (names, numbers and rare words weigh
    most). A query whose words no text covers well (below 0.3) is ranked by plain cosine, and so
    is every query with ``hybrid=False``. Without a query, results come newest first, unscored.

    Args:
        path: the database file; ``":memory:"`` for a private in-memory database. By default
            ``$LANGMEM_STORE`` when it names a SQLite file, else ``memories.sqlite`` in the user
            data folder (``LANGMEM_HOME``).
        index: vector index configuration, or ``None`` for a store without search by meaning
            (queries are then ignored, as in LangGraph's stores).
        ttl: LangGraph TTL configuration (``default_ttl``, ``refresh_on_read``,
            ``sweep_interval_minutes``). Expired items are never returned; sweeping deletes them.
        hybrid: fuse word matches (SQLite FTS5) with the dense ranking when a query is given
            (default ``True``); ``False`` ranks by cosine only.
        timeout: seconds a write waits for another writer's lock before failing.

    Example:
        >>> from langmem.embeddings import HashingEmbeddings
        >>> store = SqliteStore(":memory:", index={"dims": 64, "embed": HashingEmbeddings(64)})
        >>> store.put(("docs",), "a", {"text": "Alice moved to Lisbon in 2019"})
        >>> store.put(("docs",), "b", {"text": "Bob likes green tea"})
        >>> [hit.key for hit in store.search(("docs",), query="When did Alice move?", limit=1)]
        ['a']
    """

    supports_ttl = True

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        hybrid: bool = True,
        timeout: float = 30.0,
    ) -> None:
        from langmem.stores._open import default_sqlite_path

        chosen = str(path) if path is not None else str(default_sqlite_path())
        special = chosen == ":memory:" or chosen.startswith("file:")
        self.path = chosen if special else str(Path(chosen).expanduser())
        self.ttl_config = ttl
        self.hybrid = hybrid
        self._lock = threading.RLock()
        self._closed = False
        if not special:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(
            self.path,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=self.path.startswith("file:"),
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        migrate(self._conn)
        row = self._conn.execute("SELECT value FROM langmem_meta WHERE key = 'fts5'").fetchone()
        self._fts = row is not None and row[0] == "1"
        self.index_config: dict[str, Any] | None = None
        self.embeddings: Embeddings | None = None
        self._fields: list[tuple[str, Any]] = []
        self._vectors: VectorIndex | None = None
        self._data_version = -1
        self._document_counts: dict[str, int] = {}  # word -> texts holding it (lexical IDF)
        self._last_seq = 0
        self._writes = 0
        self._sweeper: threading.Thread | None = None
        self._sweeper_stop = threading.Event()
        if index is not None:
            self._configure_index(index)

    # ------------------------------------------------------------------ configuration

    def _configure_index(self, index: IndexConfig) -> None:
        config: dict[str, Any] = dict(index)
        dims = config.get("dims")
        if not isinstance(dims, int) or dims <= 0:
            raise ConfigurationError(
                f"index dims={dims!r} is not usable: give the embedding length as a positive "
                'int, for example index={"dims": 384} for all-MiniLM-L6-v2.'
            )
        embed = config.get("embed")
        self.embeddings = default_embeddings() if embed is None else ensure_embeddings(embed)
        config["embed"] = self.embeddings
        fields = config.get("fields") or ["$"]
        config["fields"] = list(fields)
        self._fields = [(p, p if p == "$" else tokenize_path(p)) for p in fields]
        self.index_config = config
        self._vectors = VectorIndex(dims)
        self._check_model(embeddings_id(embed if embed is not None else self.embeddings), dims)

    def _check_model(self, model: str, dims: int) -> None:
        """Record the embedding model; re-embed stored texts when it changed since last time."""
        with self._lock:
            meta = dict(self._conn.execute("SELECT key, value FROM langmem_meta").fetchall())
            if meta.get("embedding_model") == model and meta.get("dims") == str(dims):
                return
            count = self._conn.execute("SELECT COUNT(*) FROM langmem_vectors").fetchone()[0]
        if count and "embedding_model" in meta:
            logger.warning(
                "langmem: %s was indexed with %s (%s dims); re-embedding its %d texts with %s.",
                self.path,
                meta.get("embedding_model"),
                meta.get("dims"),
                count,
                model,
            )
            self.reindex()
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO langmem_meta (key, value) VALUES (?, ?)",
                [("embedding_model", model), ("dims", str(dims))],
            )

    def reindex(self) -> int:
        """Re-embed every stored text with the current model; returns how many were embedded."""
        if self.embeddings is None:
            return 0
        with self._lock:
            self._ensure_open()
            rows = self._conn.execute("SELECT id, text FROM langmem_vectors").fetchall()
        if not rows:
            return 0
        vectors = self._embed_documents([text for _, text in rows])
        with self._write() as conn:
            for (vector_id, _), vector in zip(rows, vectors):
                conn.execute(
                    "UPDATE langmem_vectors SET embedding = ? WHERE id = ?", (vector, vector_id)
                )
                conn.execute(
                    "INSERT INTO langmem_changes (vector_id, added) VALUES (?, 1)", (vector_id,)
                )
        self._refresh(force=True)
        return len(rows)

    # ------------------------------------------------------------------ connection helpers

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE``, commit, or roll back on any error."""
        with self._lock:
            self._ensure_open()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self, *, snapshot: bool = True) -> Iterator[sqlite3.Connection]:
        """One read transaction, so every op of a batch sees the same snapshot (``snapshot``:
        a lone op skips it; its few statements tolerate a concurrent commit)."""
        with self._lock:
            self._ensure_open()
            if not snapshot:
                yield self._conn
                return
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def _ensure_open(self) -> None:
        if self._closed:
            raise ConfigurationError(
                f"The store for {self.path!r} is closed: open a new SqliteStore to use it again."
            )

    def close(self) -> None:
        """Stop the TTL sweeper (if any) and close the database connection."""
        self.stop_ttl_sweeper()
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ vector matrix sync

    def _refresh(self, *, force: bool = False) -> None:
        """Bring the matrix up to date with the file; cheap when nobody else wrote."""
        vectors = self._vectors
        if vectors is None:
            return
        with self._lock:
            conn = self._conn
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if version == self._data_version and not force:
                return
            self._data_version = version
            conn.execute("BEGIN")
            try:
                applied = sync_vectors(conn, vectors, self._last_seq)
                if applied is not None:
                    self._last_seq = applied
                    self._document_counts.clear()
            finally:
                conn.execute("COMMIT")

    # ------------------------------------------------------------------ planning + embedding

    def _texts_of(self, op: PutOp) -> list[tuple[str, str]]:
        if self.index_config is None or op.value is None or op.index is False:
            return []
        paths = (
            self._fields
            if op.index is None
            else [(p, p if p == "$" else tokenize_path(p)) for p in op.index]
        )
        out: list[tuple[str, str]] = []
        for path, tokens in paths:
            texts = get_text_at_path(op.value, tokens)
            if len(texts) == 1:
                out.append((path, texts[0]))
            else:
                out.extend((f"{path}.{i}", text) for i, text in enumerate(texts))
        return out

    def _plan(self, ops: Iterable[Op]) -> _Plan:
        listed = list(ops)
        latest: dict[tuple[tuple[str, ...], str], PutOp] = {}
        queries: dict[str, None] = {}
        for op in listed:
            if not isinstance(op, (GetOp, PutOp, SearchOp, ListNamespacesOp)):
                raise ConfigurationError(
                    f"Unknown store operation {op!r}: use GetOp, PutOp, SearchOp or "
                    "ListNamespacesOp."
                )
            validate_op_namespace(op)
            if isinstance(op, PutOp):
                if not op.namespace:
                    raise InvalidNamespaceError("Namespace cannot be empty.")
                latest[(tuple(op.namespace), str(op.key))] = op
            elif isinstance(op, SearchOp):
                _filters.validate(op.filter)
                if op.query and self.embeddings is not None:
                    queries[op.query] = None
        writes: list[_Write] = []
        texts: dict[bytes, str] = {}
        for (namespace, _), op in latest.items():
            write = _Write(op=op, prefix=".".join(namespace))
            for name, text in self._texts_of(op):
                digest = _text_hash(text)
                texts[digest] = text
                write.texts.append((name, text, digest))
            writes.append(write)
        return _Plan(ops=listed, writes=writes, queries=list(queries), texts=texts)

    def _known_vectors(self, hashes: Sequence[bytes]) -> dict[bytes, bytes]:
        """Stored vectors of texts already indexed (same model: see :meth:`_check_model`)."""
        found: dict[bytes, bytes] = {}
        if not hashes:
            return found
        with self._lock:
            self._ensure_open()
            for chunk in _chunks(list(hashes)):
                for digest, blob in self._conn.execute(
                    "SELECT text_hash, embedding FROM langmem_vectors"
                    f" WHERE text_hash IN ({','.join('?' * len(chunk))})",
                    list(chunk),
                ):
                    found[digest] = blob
        return found

    def _to_blobs(self, vectors: Sequence[Sequence[float]], count: int) -> list[bytes]:
        dims = self._vectors.dims if self._vectors is not None else 0
        array = np.asarray(vectors, dtype=np.float32)
        if array.shape != (count, dims):
            raise ConfigurationError(
                f"The embedding function returned vectors of shape {array.shape} for {count} "
                f"texts, but index dims={dims}: set dims to the model's vector length."
            )
        return [row.tobytes() for row in array]

    def _embed_documents(self, texts: list[str]) -> list[bytes]:
        assert self.embeddings is not None
        return self._to_blobs(self.embeddings.embed_documents(texts), len(texts))

    async def _aembed_documents(self, texts: list[str]) -> list[bytes]:
        assert self.embeddings is not None
        return self._to_blobs(await self.embeddings.aembed_documents(texts), len(texts))

    def _query_vector(self, vector: Sequence[float]) -> NDArray[np.float32]:
        array = np.asarray(vector, dtype=np.float32)
        dims = self._vectors.dims if self._vectors is not None else 0
        if array.shape != (dims,):
            raise ConfigurationError(
                f"The embedding function returned a query vector of shape {array.shape}, but "
                f"index dims={dims}: set dims to the model's vector length."
            )
        return array

    # ------------------------------------------------------------------ batch entry points

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run ``ops`` as one batch: reads see the state before the batch's writes, and all
        writes commit together or not at all."""
        plan = self._plan(ops)
        missing, blobs = self._lookup(plan)
        if missing:
            blobs.update(zip(missing, self._embed_documents([plan.texts[h] for h in missing])))
        queries = {
            q: self._query_vector(self.embeddings.embed_query(q))  # type: ignore[union-attr]
            for q in plan.queries
        }
        return self._execute(plan, blobs, queries)

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async :meth:`batch`: embeddings through the model's async API, SQLite in a thread."""
        plan = self._plan(ops)
        missing, blobs = await asyncio.to_thread(self._lookup, plan)
        if missing:
            computed = await self._aembed_documents([plan.texts[h] for h in missing])
            blobs.update(zip(missing, computed))
        queries: dict[str, NDArray[np.float32]] = {}
        if plan.queries:
            assert self.embeddings is not None
            vectors = await asyncio.gather(*(self.embeddings.aembed_query(q) for q in plan.queries))
            queries = {q: self._query_vector(v) for q, v in zip(plan.queries, vectors)}
        return await asyncio.to_thread(self._execute, plan, blobs, queries)

    def _lookup(self, plan: _Plan) -> tuple[list[bytes], dict[bytes, bytes]]:
        """Split the plan's texts into those to embed and those whose vector is stored."""
        if not plan.texts:
            return [], {}
        known = self._known_vectors(list(plan.texts))
        return [digest for digest in plan.texts if digest not in known], known

    def _execute(
        self,
        plan: _Plan,
        blobs: dict[bytes, bytes],
        queries: dict[str, NDArray[np.float32]],
    ) -> list[Result]:
        self._maybe_start_sweeper()
        results: list[Result] = [None] * len(plan.ops)
        touched: list[int] = []
        with self._lock:
            self._refresh()
            transaction = self._write() if plan.writes else self._read(snapshot=len(plan.ops) > 1)
            with transaction as conn:
                now = time.time()
                for i, op in enumerate(plan.ops):
                    if isinstance(op, GetOp):
                        results[i] = self._get(conn, op, now, touched)
                    elif isinstance(op, SearchOp):
                        results[i] = self._search(conn, op, now, queries, touched)
                    elif isinstance(op, ListNamespacesOp):
                        results[i] = self._list_namespaces(conn, op, now)
                if plan.writes:
                    self._apply_writes(conn, plan.writes, blobs, now)
                    if touched:
                        self._refresh_ttl(conn, touched, now)
                        touched = []
            if plan.writes:
                self._refresh(force=True)
            if touched:
                with self._write() as conn:
                    self._refresh_ttl(conn, touched, time.time())
        return results

    # ------------------------------------------------------------------ reads

    def _item(self, row: Sequence[Any], score: float | None = None) -> SearchItem:
        _, prefix, key, value, created, updated, _ = row
        return SearchItem(
            namespace=tuple(prefix.split(".")),
            key=key,
            value=json.loads(value),
            created_at=datetime.fromisoformat(created),
            updated_at=datetime.fromisoformat(updated),
            score=score,
        )

    def _should_refresh(self, flag: bool) -> bool:
        if self.ttl_config is not None and not self.ttl_config.get("refresh_on_read", True):
            return False
        return bool(flag)

    def _get(
        self, conn: sqlite3.Connection, op: GetOp, now: float, touched: list[int]
    ) -> Item | None:
        row = conn.execute(
            f"SELECT {_ITEM_COLUMNS} FROM langmem_items WHERE prefix = ? AND key = ?"
            " AND (expires_at IS NULL OR expires_at > ?)",
            (".".join(op.namespace), str(op.key), now),
        ).fetchone()
        if row is None:
            return None
        if row[6] is not None and self._should_refresh(op.refresh_ttl):
            touched.append(row[0])
        found = self._item(row)
        return Item(
            value=found.value,
            key=found.key,
            namespace=found.namespace,
            created_at=found.created_at,
            updated_at=found.updated_at,
        )

    def _filtered_rows(
        self, conn: sqlite3.Connection, op: SearchOp, now: float
    ) -> list[Sequence[Any]]:
        where, params = _prefix_clause(tuple(op.namespace_prefix))
        extra, extra_params = _filters.sql_prefilter(op.filter)
        sql = (
            f"SELECT {_ITEM_COLUMNS} FROM langmem_items WHERE {where}"
            " AND (expires_at IS NULL OR expires_at > ?)"
        )
        params.append(now)
        if extra:
            sql += f" AND {extra}"
            params.extend(extra_params)
        sql += " ORDER BY updated_at DESC, id DESC"
        rows = conn.execute(sql, params).fetchall()
        if op.filter:
            rows = [r for r in rows if _filters.matches(json.loads(r[3]), op.filter)]
        return rows

    def _search(
        self,
        conn: sqlite3.Connection,
        op: SearchOp,
        now: float,
        queries: dict[str, NDArray[np.float32]],
        touched: list[int],
    ) -> list[SearchItem]:
        limit, offset = max(int(op.limit), 0), max(int(op.offset), 0)
        pairs: list[tuple[Sequence[Any], float | None]]
        if not op.query or self._vectors is None or op.query not in queries:
            rows = self._filtered_rows(conn, op, now)[offset : offset + limit]
            pairs = [(row, None) for row in rows]
        else:
            pairs = list(self._ranked(conn, op, now, queries[op.query], limit, offset))
        if self._should_refresh(op.refresh_ttl):
            touched.extend(row[0] for row, _ in pairs if row[6] is not None)
        return [self._item(row, score) for row, score in pairs]

    def _ranked(
        self,
        conn: sqlite3.Connection,
        op: SearchOp,
        now: float,
        query: NDArray[np.float32],
        limit: int,
        offset: int,
    ) -> list[tuple[Sequence[Any], float]]:
        vectors = self._vectors
        assert vectors is not None
        want = offset + limit
        if want == 0 or len(vectors) == 0:
            return []
        allowed = vectors.namespace_mask(tuple(op.namespace_prefix))
        if op.filter:
            passing = np.array([r[0] for r in self._filtered_rows(conn, op, now)], dtype=np.int64)
            allowed = allowed & np.isin(vectors.item_ids[: vectors.size], passing)
        ranked = _search.rank(
            conn,
            vectors,
            query,
            op.query or "",
            allowed,
            want,
            lexical=self.hybrid and self._fts,
            counts=self._document_counts,
        )
        hits: list[tuple[Sequence[Any], float]] = []
        position = 0
        step = max(want, 16)
        while position < len(ranked) and len(hits) < want:
            window = ranked[position : position + step]
            position += step
            by_id = {
                row[0]: row
                for row in conn.execute(
                    f"SELECT {_ITEM_COLUMNS} FROM langmem_items"
                    f" WHERE id IN ({','.join('?' * len(window))})"
                    " AND (expires_at IS NULL OR expires_at > ?)",
                    [item for _, item in window] + [now],
                )
            }
            for score, item in window:
                row = by_id.get(item)
                if row is not None and len(hits) < want:
                    hits.append((row, float(score)))
        return hits[offset:want]

    def _list_namespaces(
        self, conn: sqlite3.Connection, op: ListNamespacesOp, now: float
    ) -> list[tuple[str, ...]]:
        namespaces = {
            tuple(prefix.split("."))
            for (prefix,) in conn.execute(
                "SELECT DISTINCT prefix FROM langmem_items"
                " WHERE expires_at IS NULL OR expires_at > ?",
                (now,),
            )
        }
        conditions = op.match_conditions or ()
        kept = [ns for ns in namespaces if all(_namespace_matches(ns, c) for c in conditions)]
        if op.max_depth is not None:
            kept = list({ns[: op.max_depth] for ns in kept})
        kept.sort()
        return kept[op.offset : op.offset + op.limit]

    # ------------------------------------------------------------------ writes

    def _apply_writes(
        self,
        conn: sqlite3.Connection,
        writes: list[_Write],
        blobs: dict[bytes, bytes],
        now: float,
    ) -> None:
        stamp = datetime.fromtimestamp(now, tz=timezone.utc).isoformat()
        for write in writes:
            op = write.op
            key = str(op.key)
            if op.value is None:
                conn.execute(
                    "DELETE FROM langmem_items WHERE prefix = ? AND key = ?", (write.prefix, key)
                )
                continue
            ttl = op.ttl
            expires = now + float(ttl) * 60.0 if ttl is not None else None
            conn.execute(
                "INSERT INTO langmem_items"
                " (prefix, key, value, created_at, updated_at, expires_at, ttl_minutes)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (prefix, key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at, expires_at = excluded.expires_at,"
                " ttl_minutes = excluded.ttl_minutes",
                (
                    write.prefix,
                    key,
                    json.dumps(dict(op.value), ensure_ascii=False, separators=(",", ":")),
                    stamp,
                    stamp,
                    expires,
                    ttl,
                ),
            )
            item_id = conn.execute(
                "SELECT id FROM langmem_items WHERE prefix = ? AND key = ?", (write.prefix, key)
            ).fetchone()[0]
            if self.index_config is None:
                continue
            wanted = {(name, digest): text for name, text, digest in write.texts}
            stale = []
            for vector_id, name, digest in conn.execute(
                "SELECT id, field_name, text_hash FROM langmem_vectors WHERE item_id = ?",
                (item_id,),
            ).fetchall():
                if wanted.pop((name, digest), None) is None:
                    stale.append((vector_id,))
            if stale:
                conn.executemany("DELETE FROM langmem_vectors WHERE id = ?", stale)
            if wanted:
                conn.executemany(
                    "INSERT INTO langmem_vectors"
                    " (item_id, field_name, text, text_hash, embedding) VALUES (?, ?, ?, ?, ?)",
                    [
                        (item_id, name, text, digest, blobs[digest])
                        for (name, digest), text in wanted.items()
                    ],
                )
        self._writes += 1
        if self._writes % 256 == 0:
            conn.execute(
                "DELETE FROM langmem_changes"
                " WHERE seq < (SELECT MAX(seq) FROM langmem_changes) - ?",
                (_LOG_KEEP,),
            )

    def _refresh_ttl(self, conn: sqlite3.Connection, item_ids: list[int], now: float) -> None:
        for chunk in _chunks(sorted(set(item_ids))):
            conn.execute(
                "UPDATE langmem_items SET expires_at = ? + ttl_minutes * 60.0"
                f" WHERE id IN ({','.join('?' * len(chunk))}) AND ttl_minutes IS NOT NULL",
                [now, *chunk],
            )

    # ------------------------------------------------------------------ TTL sweeping

    def sweep_ttl(self) -> int:
        """Delete every expired item (and its vectors); returns how many were deleted."""
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM langmem_items WHERE expires_at IS NOT NULL AND expires_at <= ?",
                (time.time(),),
            )
            deleted = cursor.rowcount
        if deleted:
            self._refresh(force=True)
        return deleted

    async def asweep_ttl(self) -> int:
        """Async :meth:`sweep_ttl`."""
        return await asyncio.to_thread(self.sweep_ttl)

    def _maybe_start_sweeper(self) -> None:
        configured = self.ttl_config and self.ttl_config.get("sweep_interval_minutes")
        if configured and (self._sweeper is None or not self._sweeper.is_alive()):
            self.start_ttl_sweeper()

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> None:
        """Sweep expired items every ``sweep_interval_minutes`` (default: the TTL config's, else
        5) in a daemon thread, until :meth:`stop_ttl_sweeper` or :meth:`close`."""
        if self._sweeper is not None and self._sweeper.is_alive():
            return
        configured = (self.ttl_config or {}).get("sweep_interval_minutes")
        interval = float(sweep_interval_minutes or configured or 5) * 60.0
        self._sweeper_stop.clear()

        def loop() -> None:
            while not self._sweeper_stop.wait(interval):
                try:
                    self.sweep_ttl()
                except Exception:  # the next round retries; a sweep is best-effort
                    logger.exception("langmem: TTL sweep of %s failed", self.path)

        self._sweeper = threading.Thread(target=loop, name="langmem-ttl-sweeper", daemon=True)
        self._sweeper.start()

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; ``True`` when it has stopped."""
        self._sweeper_stop.set()
        thread = self._sweeper
        if thread is None:
            return True
        thread.join(timeout)
        stopped = not thread.is_alive()
        if stopped:
            self._sweeper = None
        return stopped

    def __repr__(self) -> str:
        model = self.index_config and embeddings_id(self.embeddings)
        return f"SqliteStore({self.path!r}, embeddings={model!r}, hybrid={self.hybrid})"
