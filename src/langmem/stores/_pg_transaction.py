"""Transactions of :class:`~langmem.stores.PostgresStore`: a cursor on a pooled connection, the
server's errors named, and the second connection a search may borrow.

- :func:`transaction`: one transaction on a pooled connection (optionally in pipeline mode). A
  deadlock or serialization failure is raised as psycopg's own error (the transaction was
  rolled back: ``_pg_connect.retried`` runs it again); other connection failures as
  :class:`~langmem.errors.StoreConnectionError`; a write the server refuses as read-only as
  :class:`~langmem.errors.StoreFileError` (``_pg_read_only.refused``); vectors of another index
  (a re-embed committed mid-transaction) as :class:`~langmem.errors.IndexMismatchError`.
- :func:`spare`: a second pooled connection when one is free at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, cast

from langmem.stores import _pg_connect, _pg_identity, _pg_read_only

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore


@contextmanager
def transaction(store: PostgresStore, *, pipeline: bool = False) -> Iterator[Any]:
    """:meth:`PostgresStore._transaction <langmem.stores.PostgresStore._transaction>`."""
    import psycopg
    from psycopg.rows import dict_row

    try:
        pool = cast(Any, store.conn)
        with pool.connection() as conn:
            try:
                with (
                    conn.pipeline() if pipeline and _pg_connect.pipelines() else nullcontext(),
                    conn.transaction(),
                    conn.cursor(binary=True, row_factory=dict_row) as cur,
                ):
                    yield cur
            except psycopg.errors.DataException as exc:  # pgvector refused other dims: resized?
                found = resized(store, conn, exc)  # asked here: no other connection awaited
                if found is None:
                    raise
                where = _pg_connect.redact(store.url)
                assert store._identity is not None  # found only for a handle with an index
                raise _pg_identity.mismatch(where, found, store._identity, changed=True) from None
    except psycopg.OperationalError as exc:
        if (exc.sqlstate or "").startswith("40"):  # a deadlock, a serialization failure:
            raise  # the transaction was rolled back (nothing written); run it again
        raise _pg_connect.explain_failure(store.url, exc) from exc
    except psycopg.Error as exc:
        refused = _pg_read_only.refused(exc, _pg_connect.redact(store.url))
        if refused is not None:  # the database became read-only after this handle looked
            raise refused from exc
        if store._identity is None or exc.sqlstate != _pg_identity.SQLSTATE:
            raise
        found = _pg_identity.Identity.parse(exc.diag.message_primary or "")
        if found is None:
            raise
        where = _pg_connect.redact(store.url)
        raise _pg_identity.mismatch(where, found, store._identity, changed=True) from None


def resized(store: PostgresStore, conn: Any, exc: Exception) -> _pg_identity.Identity | None:
    """After pgvector refused to compare vectors of two dims (``exc``): the identity the
    database records now when a re-embed changed it (committed after the search's own
    check, before its statement that read vectors), else ``None``. Asked on ``conn``, the
    failed transaction's connection (rolled back, usable), not on another pooled one, which
    a busy pool would make it wait for."""
    import psycopg
    from psycopg.rows import dict_row

    if store._identity is None or "dimensions" not in str(exc):
        return None
    try:
        found, _ = _pg_identity.recorded(conn.cursor(row_factory=dict_row))
    except psycopg.Error:
        return None
    return found if found is not None and found != store._identity else None


@contextmanager
def spare(store: PostgresStore) -> Iterator[Any | None]:
    """:meth:`PostgresStore._spare <langmem.stores.PostgresStore._spare>`."""
    from psycopg_pool import PoolTimeout

    pool = cast(Any, store.conn)
    free = getattr(pool, "get_stats", None)
    if not _pg_connect.pipelines() or free is None or free().get("pool_available", 0) < 1:
        yield None
        return
    try:
        conn = pool.getconn(timeout=_pg_connect.SPARE_WAIT)
    except PoolTimeout:
        yield None
        return
    try:
        with conn.pipeline():  # statements up to the pipeline's end: one transaction
            yield conn
    finally:
        pool.putconn(conn)
