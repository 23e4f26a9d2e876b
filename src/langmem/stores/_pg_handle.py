"""The PostgreSQL store's handle on its database: read-only databases, TTL sweeps, transactions.

:class:`DatabaseHandle` is the base of :class:`~langmem.stores.PostgresStore` that knows whether
its database takes writes (``_pg_read_only`` says why not; a handle that opened it read-only
refuses writes and starts no TTL sweeper), reads without LangGraph's TTL refresh and leaves
expired items out unless the TTL config says ``omit_expired=False``, and runs transactions on
pooled connections (``_pg_transaction``), each checking that the database's vectors are this
handle's index's (``_pg_identity``) before it reads or writes them.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from langgraph.store.base import GetOp
from langgraph.store.postgres import PostgresStore as _LangGraphPostgresStore

from langmem.stores import (
    _pg_connect,
    _pg_identity,
    _pg_queries,
    _pg_read_only,
    _pg_transaction,
    _ttl,
)
from langmem.stores._pg_schema import COVER_INDEX, cover_limit, vector_dims

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore

__all__ = ["DatabaseHandle"]


class DatabaseHandle(_LangGraphPostgresStore):
    """A store handle's database: whether it takes writes, and the transactions run on it."""

    url: str
    _identity: _pg_identity.Identity | None  # the index this handle's vectors must be
    _checks: bool | None  # whether the database has langmem_index_check
    _cover: int | None  # the covering index's limit, once looked up
    _read_only: _pg_read_only.ReadOnly | None  # why writes are refused (``None``: they are not)
    _read_only_known: bool  # setup() ran, or _read_only_now() asked the server

    @property
    def _as_store(self) -> PostgresStore:
        """This handle, as the store that the ``_pg_*`` helpers take (every handle is one)."""
        return cast("PostgresStore", self)

    async def asweep_ttl(self) -> int:
        """Async :meth:`sweep_ttl` (as on :class:`~langmem.stores.SqliteStore`): deletes every
        expired item; returns how many were deleted."""
        import asyncio

        return await asyncio.to_thread(self.sweep_ttl)

    def _get_batch_GET_ops_queries(self, get_ops: Sequence[tuple[int, GetOp]]) -> list[Any]:
        """LangGraph's get queries without its TTL refresh (see :func:`_pg_queries.get_queries`)."""
        return _pg_queries.get_queries(get_ops, self._omit_expired)

    def _refuse_writes(self) -> None:
        """Raise the read-only error when this handle opened a read-only database."""
        found = self._read_only_now()
        if found is not None:
            raise found.error(_pg_connect.redact(self.url))

    def _read_only_now(self) -> _pg_read_only.ReadOnly | None:
        """Why this handle's database takes no writes (``None``: it takes them). Known from
        :meth:`setup`; a handle opened without it (``setup=False``) asks the server once, at
        its first use, so it too reads without refreshing TTLs and refuses writes clearly."""
        if not self._read_only_known:
            with self._transaction() as cur:
                self._read_only = _pg_read_only.reason(cur)
            self._read_only_known = True
        return self._read_only

    def sweep_ttl(self) -> int:
        """Delete expired items (see LangGraph's ``PostgresStore.sweep_ttl``); a read-only
        database raises :class:`~langmem.errors.StoreFileError`."""
        self._refuse_writes()
        return int(super().sweep_ttl())

    def start_ttl_sweeper(
        self, sweep_interval_minutes: int | None = None
    ) -> concurrent.futures.Future[None]:
        """As LangGraph's; on a read-only database no sweeper starts (nothing can be deleted):
        the future returned is already done. An interval outside the sweep range (negative,
        NaN, infinite, shorter than 0.01 s) raises :class:`ConfigurationError` and starts
        nothing, as on :class:`~langmem.stores.SqliteStore`."""
        if sweep_interval_minutes:
            _ttl.check_sweep_interval(sweep_interval_minutes)
        if self._read_only_now() is not None:
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return done
        return super().start_ttl_sweeper(sweep_interval_minutes)

    @property
    def read_only(self) -> bool:
        """Whether the database takes no writes on this store's connections: ``True`` on a hot
        standby, or with ``default_transaction_read_only`` on (for the user or the database,
        or ``?options=-c%20default_transaction_read_only%3Don`` in the URL); ``False`` for an
        ordinary database. Asked of the server at each call (a standby may be promoted). As on
        :class:`~langmem.stores.SqliteStore`, a read-only store still reads and searches.
        ``True`` too for a handle that opened the database read-only (also a user that may not
        write its tables): its writes raise :class:`~langmem.errors.StoreFileError`, and it stays
        read-only for its life (after a standby is promoted, open a new store to write)."""
        if self._read_only_now() is not None:
            return True
        with self._transaction() as cur:
            cur.execute("SHOW transaction_read_only")
            row = cur.fetchone()
        return bool(row) and str(row["transaction_read_only"]).lower() == "on"

    @property
    def _omit_expired(self) -> bool:
        """Whether reads leave out expired items not yet swept: as on the embedded store, yes
        unless the TTL config says ``omit_expired=False`` (read at every call: the config may
        be changed on a live store)."""
        return _ttl.omits_expired(self.ttl_config)

    @contextmanager
    def _transaction(self, *, pipeline: bool = False) -> Iterator[Any]:
        """A cursor in one transaction on a pooled connection, the server's errors named
        (:func:`langmem.stores._pg_transaction.transaction`). With ``pipeline``, statements
        are sent without waiting for the previous one's result (psycopg's pipeline mode): a
        search's first statements travel together, with the ``BEGIN``."""
        with _pg_transaction.transaction(self._as_store, pipeline=pipeline) as cur:
            yield cur

    def _check_index(self, cur: Any, *, writes: bool) -> None:
        """Send the check that the database's vectors are this handle's index's (see
        :mod:`langmem.stores._pg_identity`): a write checks under the re-embed lock, a search
        without it. It fails on the database's side, raised when results are read."""
        if self._identity is None:
            return
        if self._checks is None:  # a handle opened without setup(): look once
            found = cur.connection.execute(
                "SELECT to_regprocedure('langmem_index_check(text,boolean)') IS NOT NULL AS ok"
            ).fetchone()
            self._checks = bool(found and found["ok"])
        if self._checks:
            _pg_identity.check(cur, self._identity, writes=writes)

    @contextmanager
    def _spare(self) -> Iterator[Any | None]:
        """A second pooled connection in pipeline mode, when one is free at once (else
        ``None``: the caller sends everything on its own connection).

        A search sends its vector query here and its word queries on its own connection, so
        the server runs both at once (one backend each) while the client decodes the first
        answer; waiting for a connection would cost more than it saves, so none is awaited.
        """
        with _pg_transaction.spare(self._as_store) as conn:
            yield conn

    def cover(self, cur: Any) -> int:
        """:func:`cover_limit` when the covering index exists (looked up once), else 0."""
        if self._cover is None:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (COVER_INDEX,))
            found = bool(cur.fetchone()["found"])
            self._cover = cover_limit(vector_dims(cur)) if found else 0
        return self._cover
