"""Read-only PostgreSQL databases: a hot standby, ``default_transaction_read_only`` on (for the
user, the database or the URL's options), or a user that may read the store's tables but not
write them (no ``INSERT`` privilege on ``store``).

Such a database cannot be set up, so :meth:`PostgresStore.setup` opens it without writing when
its tables are there and current (LangGraph's and langmem's migrations all applied, the index
recorded and this handle's): reads, searches, ``explain`` and listing work; reads do not refresh
TTLs, no sweeper starts, the task queue is in memory; every write raises
:class:`~langmem.errors.StoreFileError` (as a read-only store file does) naming the database,
why it is read-only and the fix, before anything is embedded. Missing or outdated tables are
refused at open, naming the fix (open it once where it can be written).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langgraph.store.base import GetOp, SearchOp

from langmem.errors import StoreConnectionError, StoreFileError
from langmem.stores import _pg_identity

if TYPE_CHECKING:
    from langmem.stores._postgres import PostgresStore

_STATE = (
    "SELECT current_setting('transaction_read_only') = 'on' AS read_only,"
    " pg_is_in_recovery() AS standby, current_user AS who,"
    " CASE WHEN to_regclass('store') IS NULL THEN false"
    " ELSE NOT has_table_privilege(to_regclass('store'), 'INSERT') END AS cannot_insert"
)


@dataclass(frozen=True)
class ReadOnly:
    """Why a PostgreSQL database is open for reading only, and how to write to it."""

    reason: str
    fix: str

    def error(self, where: str) -> StoreFileError:
        """The error for a write to the database ``where`` (its URL without the password)."""
        return StoreFileError(
            f"The PostgreSQL store {where} is open read-only ({self.reason}): nothing was "
            f"written and nothing in it changed. Fix: {self.fix}."
        )


def reason(cur: Any) -> ReadOnly | None:
    """Why the database on ``cur``'s connection takes no writes from this user, or ``None``."""
    cur.execute(_STATE)
    row = cur.fetchone()
    if row["standby"]:
        return ReadOnly(
            "the server is a hot standby, a read-only replica",
            "connect to the primary server to write",
        )
    if row["read_only"]:
        return ReadOnly(
            "default_transaction_read_only is on for this user, this database or the URL's options",
            "turn default_transaction_read_only off (ALTER DATABASE/ROLE ... SET "
            "default_transaction_read_only = off, or leave it out of the URL's options) to write",
        )
    if row["cannot_insert"]:
        return ReadOnly(
            f"the user {row['who']!r} may read its tables but not write them",
            "connect as a user that may write them (GRANT INSERT, UPDATE, DELETE ON ALL TABLES "
            "IN SCHEMA public TO that user, and USAGE on the sequences)",
        )
    return None


READ_ONLY_TRANSACTION = "25006"
INSUFFICIENT_PRIVILEGE = "42501"


def refused(exc: Exception, where: str) -> StoreFileError | None:
    """The read-only error for the server's refusal ``exc`` of a write (a read-only transaction,
    or a privilege the user lacks) on the database ``where``; ``None`` for other errors.

    A handle learns at open (or at first use, opened with ``setup=False``) that its database is
    read-only; one that changed since (a ``default_transaction_read_only`` set for new sessions
    whose connections a pool opened later, a privilege revoked) meets the server's refusal
    instead, named as clearly."""
    state = getattr(exc, "sqlstate", None)
    said = (getattr(getattr(exc, "diag", None), "message_primary", None) or str(exc)).strip()
    if state == READ_ONLY_TRANSACTION:
        found = ReadOnly(
            f"the server refused the write: {said}",
            "connect to the primary, or turn default_transaction_read_only off, to write; "
            "reopen the store after such a change",
        )
    elif state == INSUFFICIENT_PRIVILEGE:  # a read may meet it too: not "open read-only"
        return StoreFileError(
            f"The PostgreSQL store {where} refused this user ({said}): nothing was written "
            "and nothing in it changed. Fix: connect as a user that may read and write the "
            "store's tables (GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
            "public TO that user, and USAGE on the sequences)."
        )
    else:
        return None
    return found.error(where)


def migration_steps(store: PostgresStore) -> list[tuple[str, int]]:
    """Each migration table a set-up database has, with how many steps its last recorded one
    shows at least (LangGraph skips, and does not record, vector steps whose condition does
    not hold for the index)."""
    from langmem.stores._pg_schema import STORE_STEPS, VECTOR_STEPS

    steps = [
        ("store_migrations", len(store.MIGRATIONS)),
        ("langmem_store_migrations", len(STORE_STEPS)),
    ]
    if store.index_config and store._identity is not None:
        applied = [
            v
            for v, migration in enumerate(store.VECTOR_MIGRATIONS)
            if not migration.condition or migration.condition(store)
        ]
        steps.append(("vector_migrations", max(applied, default=-1) + 1))
        steps.append(("langmem_vector_migrations", len(VECTOR_STEPS)))
    return steps


def open_checked(store: PostgresStore, cur: Any, ro: ReadOnly) -> None:
    """Check, without writing, that the read-only database's tables are there and current:
    Raises
    :class:`StoreConnectionError` naming what is missing and the fix; an index other than the
    recorded one is an :class:`~langmem.errors.IndexMismatchError`, as on a writable database."""
    from langmem.stores import _pg_connect

    where = _pg_connect.redact(store.url)
    behind: list[str] = []
    for table, count in migration_steps(store):
        cur.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (table,))
        if not cur.fetchone()["found"]:
            behind.append(f"{table} is missing")
            continue
        cur.execute(f"SELECT coalesce(max(v), -1) AS v FROM {table}")
        done = int(cur.fetchone()["v"]) + 1
        if done < count:
            behind.append(f"{table} has {done} of the {count} steps this langmem needs")
    if store._identity is not None and not behind:
        found, _ = _pg_identity.recorded(cur)
        if found is None:
            behind.append("no index is recorded (langmem_index is empty)")
        elif found != store._identity:
            raise _pg_identity.mismatch(where, found, store._identity)
    if behind:
        state = "are not set up" if all("missing" in b for b in behind) else "are out of date"
        raise StoreConnectionError(
            f"PostgreSQL store {where}: it is read-only ({ro.reason}) and its tables {state} "
            f"for this version of langmem ({'; '.join(behind)}), which cannot be done here. "
            "Fix: open it once where it can be written (PostgresStore.from_url with the same "
            "index, on the primary or as a user that may create and alter its tables), then "
            "open it read-only again."
        )


def without_refresh(
    grouped: dict[type, list[tuple[int, Any]]],
) -> dict[type, list[tuple[int, Any]]]:
    """A batch's grouped ops with every read's ``refresh_ttl`` off (a read-only database's TTLs
    cannot be restarted)."""
    out = dict(grouped)
    for kind in (GetOp, SearchOp):
        if kind in out:
            out[kind] = [(i, op._replace(refresh_ttl=False)) for i, op in out[kind]]
    return out
