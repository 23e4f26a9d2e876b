"""Setting up a :class:`~langmem.stores.PostgresStore`'s database when it opens.

A writable database: LangGraph's tables, then langmem's schema steps (``_pg_schema``, each run
once per database) under the migrations' advisory lock, so several processes may start at
once; then the word counts of texts older langmem processes wrote without them, and the index
claimed or checked (``_pg_identity``). A read-only one (``_pg_read_only``): nothing written,
its tables checked to be there and current.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from langmem.stores import _pg_connect, _pg_identity, _pg_read_only, _pg_untexted
from langmem.stores._pg_schema import STORE_STEPS, VECTOR_STEPS, count_uncounted, vector_dims

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore


def setup(store: PostgresStore, tables: Callable[[], None]) -> None:
    """:meth:`PostgresStore.setup <langmem.stores.PostgresStore.setup>`; ``tables``:
    LangGraph's own set-up of its tables."""
    import psycopg

    with store._transaction() as cur:
        ro = _pg_read_only.reason(cur)
    if ro is not None:
        with store._transaction() as cur:
            _pg_read_only.open_checked(store, cur, ro)
        store._read_only, store._read_only_known = ro, True
        store._checks = store._identity is not None
        return
    store._read_only, store._read_only_known = None, True
    with _pg_connect.migration_lock(store._conninfo, store.url):
        try:
            tables()
            with store._cursor() as cur:
                _pg_connect.run_migrations(cur, "langmem_store_migrations", STORE_STEPS)
                if store.index_config and store._identity is not None:
                    _pg_connect.run_migrations(cur, "langmem_vector_migrations", VECTOR_STEPS)
                    count_uncounted(cur)  # texts older writers left without word counts
                    with cur.connection.transaction():  # rows LangGraph's store wrote
                        store.word_counts.forget(_pg_untexted.fill(store, cur))
                    where = _pg_connect.redact(store.url)
                    _pg_identity.claim(cur, store._identity, where, vector_dims(cur))
                    store._checks = True
        except psycopg.Error as exc:
            raise _pg_connect.explain_failure(store.url, exc) from None
