"""Connecting to PostgreSQL: URLs, the connection pool, clear errors, migrations under a lock.

Every pooled connection starts with the pgvector settings that make namespaced search return
full results (``hnsw.iterative_scan = relaxed_order``, ``hnsw.ef_search``), and is checked
before use, so a server restart costs the next call a reconnect, not an error.
"""

from __future__ import annotations

import logging
import random
import select
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from langmem.errors import MissingDependencyError, StoreConnectionError

logger = logging.getLogger("langmem.stores")

LANGMEM_PARAMS = frozenset(
    {"embed", "dims", "fields", "hybrid", "ef_search", "exact_max", "pool_size", "setup"}
)
"""URL query parameters langmem reads itself (the rest go to libpq, e.g. ``sslmode``)."""
DEFAULT_EF_SEARCH = 100
CONNECT_TIMEOUT = 10
MIGRATION_WAIT = 300.0
SPARE_WAIT = 0.001
"""Seconds a search waits for a second pooled connection before it runs on one."""
RETRIES = 4
"""Times a transaction that was rolled back by a deadlock or a serialization failure is run
again before the error is raised (:func:`retried`)."""
RETRIED_STATES = frozenset({"40001", "40P01"})
"""SQLSTATEs of a serialization failure and a deadlock: the transaction was rolled back."""
_LOCK_KEY = 0x6C616E676D656D  # "langmem": the advisory lock that serialises migrations


_T = TypeVar("_T")


def retried(run: Callable[[], _T], url: str) -> _T:
    """``run()`` (one whole transaction), run again up to :data:`RETRIES` times after a short,
    growing random pause while the server rolls it back for a deadlock or a serialization
    failure (nothing of it was written, so running it again is safe); then its error.

    Batches lock the rows they write in one order (``_pg_writes.lock_rows``), so two batches
    do not deadlock each other; what is left (a TTL sweep deleting rows in its own order, a
    row created between two batches' locks) is retried here."""
    import psycopg

    for attempt in range(RETRIES + 1):
        try:
            return run()
        except psycopg.OperationalError as exc:
            if exc.sqlstate not in RETRIED_STATES or attempt == RETRIES:
                raise
            logger.info(
                "PostgreSQL store %s: %s; running the transaction again (%d of %d)",
                redact(url),
                type(exc).__name__,
                attempt + 1,
                RETRIES,
            )
            time.sleep(random.uniform(0.0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")  # the loop returns or raises


def require_psycopg() -> None:
    """Raise a clear error when the ``postgres`` extra is not installed."""
    try:
        import langgraph.store.postgres  # noqa: F401
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(
            f"PostgreSQL stores need the packages of langmem's 'postgres' extra ({exc.name} is "
            "missing): pip install 'langmem[postgres]'."
        ) from exc


@cache
def pipelines() -> bool:
    """Whether psycopg can use pipeline mode here (libpq 14 or newer); else statements go one
    at a time, with the same results."""
    import psycopg

    return bool(psycopg.Pipeline.is_supported())


def redact(url: str) -> str:
    """The URL with its password replaced by ``***`` (for messages and logs).

    Example:
        >>> redact("postgresql://ana:s3cret@db.example:5432/mem?sslmode=require")
        'postgresql://ana:***@db.example:5432/mem?sslmode=require'
    """
    parts = urlsplit(url)
    if parts.password is None:
        query = [(k, "***" if k == "password" else v) for k, v in parse_qsl(parts.query)]
        return urlunsplit(parts._replace(query=urlencode(query, safe="/:,*", quote_via=quote)))
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """``(libpq URL, langmem parameters)``: langmem's query parameters taken out of the URL."""
    parts = urlsplit(url)
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        (ours.__setitem__(key, value) if key in LANGMEM_PARAMS else theirs.append((key, value)))
    scheme = "postgresql" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    conninfo = urlunsplit(
        parts._replace(scheme=scheme, query=urlencode(theirs, safe="/:,", quote_via=quote))
    )
    return conninfo, ours


def session_options(ef_search: int) -> str:
    """libpq ``options``: settings every connection starts with."""
    return f"-c hnsw.iterative_scan=relaxed_order -c hnsw.ef_search={int(ef_search)}"


def explain_failure(url: str, exc: BaseException) -> StoreConnectionError:
    """A :class:`StoreConnectionError` naming the URL (no password), the cause and the fix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    lowered = str(exc).lower()
    shown = redact(url)
    if "password authentication failed" in lowered or (
        "role" in lowered and "does not exist" in lowered
    ):
        hint = "check the user name and password in the URL"
    elif "database" in lowered and "does not exist" in lowered:
        hint = "create the database (createdb) or fix its name in the URL"
    elif any(
        word in lowered
        for word in ("connection refused", "could not connect", "timeout", "translate host")
    ):
        hint = "start the server or fix the host and port in the URL"
    elif "vector" in lowered and ("extension" in lowered or "control file" in lowered):
        hint = (
            "install pgvector on the server (Debian: the postgresql-NN-pgvector package) and "
            "run CREATE EXTENSION vector as a superuser"
        )
    elif "read-only transaction" in lowered:
        hint = (
            "this database takes no writes here (a hot standby, or default_transaction_read_only "
            "on for the user, the database or the URL's options), and PostgresStore sets up and "
            "checks its tables when it opens: connect to the primary, or turn "
            "default_transaction_read_only off; to read a copy, `langmem memories export` it "
            "from the primary"
        )
    else:
        hint = "check that the server is a reachable PostgreSQL and the URL is right"
    return StoreConnectionError(f"PostgreSQL store {shown}: {text}. Fix: {hint}.")


def check_server(conninfo: str, url: str) -> None:
    """Connect once, directly, so an unusable server fails now with a clear message."""
    import psycopg

    try:
        with psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise explain_failure(url, exc) from None


def check_alive(conn: Any) -> None:
    """The pool's check before it lends ``conn``: raises when the connection is unusable.

    An idle connection has nothing to read; a server that restarted or ended the session has
    sent an error or closed the socket, which makes it readable. So a connection with nothing
    to read is lent as it is (no round trip per borrow), and only one with something pending
    is checked with a query (psycopg_pool's own check), which raises when it is broken.
    """
    from psycopg_pool import ConnectionPool

    try:
        pending = bool(select.select([conn.fileno()], [], [], 0)[0])
    except (OSError, ValueError):  # closed: fileno() fails
        pending = True
    if pending or conn.closed or conn.broken:
        ConnectionPool.check_connection(conn)


def make_pool(conninfo: str, *, ef_search: int, max_size: int) -> Any:
    """An open psycopg pool whose connections suit LangGraph's store (dict rows, autocommit)
    and send jsonb values that read back as they were (:func:`_configure`)."""
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    theirs = conninfo_to_dict(conninfo).get("options")  # the URL's own settings go after ours
    options = session_options(ef_search) + (f" {theirs}" if theirs else "")
    pool = ConnectionPool(
        conninfo,
        min_size=2,  # a search runs on two when it can (PostgresStore._spare)
        max_size=max(2, max_size),
        kwargs={
            "autocommit": True,
            "prepare_threshold": 0,
            "row_factory": dict_row,
            "options": options,
            "connect_timeout": CONNECT_TIMEOUT,
        },
        check=check_alive,
        configure=_configure,
        open=False,
        name="langmem",
    )
    pool.open(wait=True, timeout=CONNECT_TIMEOUT * 2)
    return pool


def _configure(conn: Any) -> None:
    """Each pooled connection sends jsonb as :mod:`langmem.stores._pg_json` writes it (large
    floats read back as floats, not integers)."""
    from psycopg.types.json import set_json_dumps

    from langmem.stores import _pg_json

    set_json_dumps(_pg_json.dumps, conn)


@contextmanager
def migration_lock(conninfo: str, url: str) -> Iterator[None]:
    """Hold the migrations' advisory lock, so processes set the schema up one at a time."""
    import psycopg

    try:
        conn = psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT, autocommit=True)
    except psycopg.Error as exc:
        raise explain_failure(url, exc) from None
    try:
        # try-and-sleep, not pg_advisory_lock(): a session waiting inside a statement holds a
        # snapshot, and the lock holder's CREATE INDEX CONCURRENTLY waits for every snapshot
        deadline = time.monotonic() + MIGRATION_WAIT
        while not _row(conn.execute("SELECT pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone())[0]:
            if time.monotonic() > deadline:
                raise StoreConnectionError(
                    f"PostgreSQL store {redact(url)}: another process kept the migration lock "
                    f"for {MIGRATION_WAIT:.0f} s. Fix: check for a stuck process setting up this "
                    "database (pg_stat_activity), then retry."
                )
            time.sleep(0.05)
        yield
    finally:
        try:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
        finally:
            conn.close()


def _row(row: Any) -> Sequence[Any]:
    if row is None:
        raise StoreConnectionError("PostgreSQL returned no row for a query that always has one")
    return cast(Sequence[Any], row)


def run_migrations(cur: Any, table: str, steps: Sequence[str | Callable[[Any], None]]) -> None:
    """Apply the steps after the last one recorded in ``table`` (append-only lists)."""
    cur.execute(f"CREATE TABLE IF NOT EXISTS {table} (v INTEGER PRIMARY KEY)")
    cur.execute(f"SELECT coalesce(max(v), -1) AS v FROM {table}")
    row = cur.fetchone()
    done = int(row["v"] if isinstance(row, dict) else row[0])
    for version in range(done + 1, len(steps)):
        step = steps[version]
        if callable(step):
            step(cur)
        else:
            cur.execute(step)
        cur.execute(f"INSERT INTO {table} (v) VALUES (%s)", (version,))
