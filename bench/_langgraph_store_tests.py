"""Run LangGraph's own store tests against langmem's ``SqliteStore`` and ``PostgresStore``.

Nothing of LangGraph's is stored in this repository: the test files are extracted at run time
from a local git copy of github.com/langchain-ai/langgraph (no network) into a temporary folder
outside the repo, and run there with this repo's Python, so ``langmem`` is ours. Only how the
store is built changes: each test file's one import of the store class is pointed at a shim
written here (``SHIM``), whose ``from_conn_string`` (or ``InMemoryStore(...)``) builds
langmem's store, and PostgreSQL's server address is the loopback test server's.

Suites (``--suite``):

- ``sqlite``: ``libs/checkpoint/tests/test_store.py`` (``InMemoryStore`` -> ``SqliteStore``
  in memory) and ``libs/checkpoint-sqlite/tests/test_store.py`` + ``test_async_store.py``
  (``SqliteStore``/``AsyncSqliteStore`` -> ``SqliteStore``): the 118 tests of docs/compat.md;
  ``libs/checkpoint-sqlite/tests/test_ttl.py`` is counted apart.
- ``postgres``: ``libs/checkpoint-postgres/tests/test_store.py`` (sync) and
  ``test_async_store.py`` (``PostgresStore``/``AsyncPostgresStore`` -> ``PostgresStore``) on
  the server of ``scripts/pg-test-server.sh`` (started and stopped here unless
  ``LANGMEM_TEST_PG_URL`` names one). The async file is run twice: ``as before`` (the shim's
  ``setup()`` is awaitable, as session 6 ran it), and ``bridged``, where the shim also lets
  the tests' fixture and TTL tests use LangGraph's private ``async with store._cursor()`` (an
  async face on the same pooled connection) and ``await store.start_ttl_sweeper()`` /
  ``stop_ttl_sweeper()``, so the tests behind that fixture run at all.

``--cosine`` builds the stores with ``hybrid=False`` (plain cosine ranking). ``--baseline``
runs the same files against LangGraph's own stores (no shim), to tell failures of this machine
(say, a missing extension) from ours.

Every failure is looked up in ``EXPECTED`` (the differences docs/compat.md names, with the
reason); any other is printed as UNEXPECTED, and the exit status is 1.

Run (not part of ``make test``): ``make langgraph-store-tests [SUITE=...]`` or
``.venv/bin/python bench/_langgraph_store_tests.py
[--suite sqlite|postgres|all] [--cosine] [--baseline] [checkout]`` (default checkout:
``$LANGMEM_LANGGRAPH_REPO`` or ``/work/.mirror/langchain-ai+langgraph/repo``). Needs
``pytest-mock`` (in the ``dev`` extra).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CHECKOUT = "/work/.mirror/langchain-ai+langgraph/repo"

# (library folder, files under tests/, {import line: shim import line})
SQLITE = [
    (
        "libs/checkpoint",
        ["__init__.py", "embed_test_utils.py", "test_store.py"],
        {
            "from langgraph.store.memory import InMemoryStore": (
                "from _langmem_shim import InMemoryStore"
            )
        },
    ),
    (
        "libs/checkpoint-sqlite",
        ["__init__.py", "test_store.py", "test_async_store.py", "test_ttl.py"],
        {
            "from langgraph.store.sqlite import SqliteStore": (
                "from _langmem_shim import SqliteStore"
            ),
            "from langgraph.store.sqlite import AsyncSqliteStore": (
                "from _langmem_shim import AsyncSqliteStore"
            ),
            "from langgraph.store.sqlite.aio import AsyncSqliteStore": (
                "from _langmem_shim import AsyncSqliteStore"
            ),
        },
    ),
]
POSTGRES = [
    (
        "libs/checkpoint-postgres",
        [
            "__init__.py",
            "conftest.py",
            "embed_test_utils.py",
            "test_store.py",
            "test_async_store.py",
        ],
        {
            "from langgraph.store.postgres import PostgresStore": (
                "from _langmem_shim import PostgresStore"
            ),
            "from langgraph.store.postgres import AsyncPostgresStore": (
                "from _langmem_shim import AsyncPostgresStore"
            ),
        },
    ),
]

SHIM = '''
"""Build langmem's stores where LangGraph's tests build theirs (written by
bench/_langgraph_store_tests.py; only construction differs)."""
import asyncio
import os
from contextlib import asynccontextmanager, contextmanager

from langmem.stores import SqliteStore as _Sqlite

HYBRID = os.environ.get("LANGMEM_COMPAT_COSINE") != "1"
BRIDGED = os.environ.get("LANGMEM_COMPAT_BRIDGED") == "1"


class _Done:
    """A result usable as it is or awaited (LangGraph's async stores make these coroutines)."""

    def __init__(self, value):
        self.value = value

    def __await__(self):
        return self.value
        yield

    def __bool__(self):
        return bool(self.value)


class InMemoryStore(_Sqlite):
    def __init__(self, *, index=None, ttl=None):
        super().__init__(":memory:", index=index, ttl=ttl, hybrid=HYBRID)


class SqliteStore(_Sqlite):
    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string, *, index=None, ttl=None, **_):
        store = cls(conn_string, index=index, ttl=ttl, hybrid=HYBRID)
        try:
            yield store
        finally:
            store.close()

    def setup(self):  # langmem's store is set up when it is opened
        pass


class AsyncSqliteStore(_Sqlite):
    @classmethod
    @asynccontextmanager
    async def from_conn_string(cls, conn_string, *, index=None, ttl=None, **_):
        store = cls(conn_string, index=index, ttl=ttl, hybrid=HYBRID)
        try:
            yield store
        finally:
            store.close()

    async def setup(self):
        pass

    if BRIDGED:  # LangGraph's AsyncSqliteStore makes these coroutines

        def sweep_ttl(self, *args, **kwargs):
            return _Done(_Sqlite.sweep_ttl(self, *args, **kwargs))

        def start_ttl_sweeper(self, *args, **kwargs):
            return _Done(_Sqlite.start_ttl_sweeper(self, *args, **kwargs))

        def stop_ttl_sweeper(self, *args, **kwargs):
            return _Done(_Sqlite.stop_ttl_sweeper(self, *args, **kwargs))


try:
    from langmem.stores import PostgresStore as _Pg
except ImportError:  # no postgres extra
    _Pg = object


def _open_pg(cls, conn_string, pool_config, index, ttl):
    size = (pool_config or {}).get("max_size", 10)
    store = cls.from_url(
        conn_string, index=index, ttl=ttl, hybrid=HYBRID, pool_size=size, setup=False
    )
    _Pg.setup(store)
    return store


class PostgresStore(_Pg):
    @classmethod
    @contextmanager
    def from_conn_string(cls, conn_string, *, pipeline=False, pool_config=None, index=None,
                         ttl=None):
        store = _open_pg(cls, conn_string, pool_config, index, ttl)
        try:
            yield store
        finally:
            store.close()


class _AsyncCursor:
    def __init__(self, cur):
        self._cur = cur

    async def execute(self, *args, **kwargs):
        self._cur.execute(*args, **kwargs)
        return self

    async def fetchone(self):
        return self._cur.fetchone()

    async def fetchall(self):
        return self._cur.fetchall()


class _Cursors:
    """``with`` gives langmem's own cursor; ``async with`` an async face on the same one."""

    def __init__(self, context):
        self._context = context

    def __enter__(self):
        return self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)

    async def __aenter__(self):
        return _AsyncCursor(self._context.__enter__())

    async def __aexit__(self, *exc):
        return self._context.__exit__(*exc)


class AsyncPostgresStore(_Pg):
    @classmethod
    @asynccontextmanager
    async def from_conn_string(cls, conn_string, *, pipeline=False, pool_config=None,
                               index=None, ttl=None):
        store = await asyncio.to_thread(_open_pg, cls, conn_string, pool_config, index, ttl)
        try:
            yield store
        finally:
            await asyncio.to_thread(store.close)

    async def setup(self):
        await asyncio.to_thread(_Pg.setup, self)

    if BRIDGED:

        def _cursor(self, *args, **kwargs):
            return _Cursors(_Pg._cursor(self, *args, **kwargs))

        def start_ttl_sweeper(self, *args, **kwargs):
            return _Done(_Pg.start_ttl_sweeper(self, *args, **kwargs))

        def stop_ttl_sweeper(self, *args, **kwargs):
            return _Done(_Pg.stop_ttl_sweeper(self, *args, **kwargs))
'''

# Failures that are deliberate differences (docs/compat.md), by test name without parameters;
# "name[-x]" holds only for the cases whose parameters end in "-x"; "@scope" only in that suite
# ("sqlite", "postgres") or library ("checkpoint"), "postgres-sync" in the sync file only.
EXPECTED: dict[str, str] = {
    # LangGraph-private attributes
    "test_vector_store_initialization@sqlite": "store.conn (LangGraph-private attribute)",
    "test_nonnull_migrations@sqlite": "SqliteStore.MIGRATIONS (LangGraph-private attribute)",
    "test_abatch_uses_single_pool_checkout": (
        "counts checkouts through LangGraph's private _ainternal.get_connection"
    ),
    # one class for sync and async
    "test_no_running_loop": "sync calls inside the event loop work (one class for both)",
    # filter keys are data
    "test_sql_injection_vulnerability": "a filter key is data: matches nothing, no ValueError",
    # query search lists only items with vectors
    "test_embed_with_path@checkpoint": "query search returns only items with vectors",
    # scores are langmem's hybrid score
    "test_scores": "score is langmem's hybrid score in [0, 1], not the raw similarity",
    # a string match path is refused
    "test_batch_list_namespaces_ops@postgres-sync": (
        "MatchCondition path given as a string: refused (StoreNamespaceError)"
    ),
    # reads refresh TTLs as TTLConfig says (refresh_on_read defaults to True); LangGraph's
    # SqliteStore leaves expires_at as it was on get, which the test relies on
    "test_ttl_override_default": "get refreshes the TTL (refresh_on_read defaults to True)",
    # expired items left out by default
    "test_omit_expired_disabled_preserves_expired_rows[-default]": (
        "expired items are omitted unless TTLConfig(omit_expired=False)"
    ),
}


def _expected(suite: str, test: str) -> str | None:
    name = test.split("::")[-1]
    base = name.split("[")[0]
    params = name[len(base) :]
    lib = "checkpoint" if "libs/checkpoint/" in test or test.startswith("checkpoint/") else ""
    for key, why in EXPECTED.items():
        key_test, _, scope = key.partition("@")
        key_base, _, key_param = key_test.partition("[")
        if key_base != base or (key_param and not params.endswith(key_param)):
            continue
        if (
            scope
            and scope not in (suite, lib)
            and not (scope == "postgres-sync" and suite == "postgres" and "test_store.py" in test)
        ):
            continue
        if scope == "sqlite" and lib == "checkpoint":
            continue
        return why
    return None


def extract(
    checkout: Path,
    root: Path,
    lib: str,
    files: list[str],
    imports: dict[str, str],
    *,
    shim: bool,
    pg_url: str | None,
) -> Path:
    """Copy ``lib``'s test files into ``root/lib`` with the store import pointed at the shim."""
    git_dir = checkout / ".git" if (checkout / ".git").exists() else checkout
    target = root / lib
    (target / "tests").mkdir(parents=True)
    for name in files:
        text = subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"HEAD:{lib}/tests/{name}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        if shim:
            for theirs, ours in imports.items():
                text = re.sub(rf"^{re.escape(theirs)}$", ours, text, flags=re.M)
        if name == "conftest.py" and pg_url:
            text = _point_at(text, pg_url)
        (target / "tests" / name).write_text(text)
    return target


def _point_at(conftest: str, url: str) -> str:
    """The server address: LangGraph's tests use localhost:5441; ours is the loopback server."""
    base = url.rsplit("/", 1)[0]
    conftest = re.sub(
        r'^DEFAULT_POSTGRES_URI = ".*"$', f'DEFAULT_POSTGRES_URI = "{base}/"', conftest, flags=re.M
    )
    return re.sub(
        r'^DEFAULT_URI = ".*"$',
        f'DEFAULT_URI = "{base}/postgres?sslmode=disable"',
        conftest,
        flags=re.M,
    )


def run(folder: Path, shim_dir: Path, files: list[str], env: dict[str, str]) -> dict[str, str]:
    """Run pytest on ``files`` in ``folder``: {test id: 'passed' or the first error line}."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rA",
            "--tb=line",
            "-o",
            "asyncio_mode=auto",
            "-o",
            "addopts=",
            "-W",
            "ignore::DeprecationWarning",
            *[f"tests/{f}" for f in files],
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "COLUMNS": "400",
            **env,
            "PYTHONPATH": f"{folder}{os.pathsep}{shim_dir}",
        },
    ).stdout
    outcome: dict[str, str] = {}
    for line in out.splitlines():
        found = re.match(r"(PASSED|FAILED|ERROR) (\S+)(?: - (.*))?$", line)
        if found:
            outcome[found.group(2)] = (
                "passed"
                if found.group(1) == "PASSED"
                else (f"{found.group(1)}: {found.group(3) or ''}")
            )
    if not outcome:
        print(out[-3000:])
    return outcome


def report(title: str, suite: str, outcome: dict[str, str], *, baseline: bool) -> int:
    passed = sum(v == "passed" for v in outcome.values())
    print(f"{title}: {passed} passed of {len(outcome)}")
    unexpected = 0
    for test, result in sorted(outcome.items()):
        if result == "passed":
            continue
        why = None if baseline else _expected(suite, test)
        unexpected += why is None and not baseline
        print(f"  {why or ('FAILS' if baseline else 'UNEXPECTED')}: {test}")
        if why is None:
            print(f"      {result[:300]}")
    print()
    return unexpected


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "checkout", nargs="?", default=os.environ.get("LANGMEM_LANGGRAPH_REPO", DEFAULT_CHECKOUT)
    )
    parser.add_argument("--suite", choices=["sqlite", "postgres", "all"], default="all")
    parser.add_argument("--cosine", action="store_true", help="hybrid=False")
    parser.add_argument("--baseline", action="store_true", help="LangGraph's own stores")
    args = parser.parse_args()
    checkout = Path(args.checkout)
    if not checkout.exists():
        sys.exit(f"no langgraph checkout at {checkout}: git clone the langgraph repository there")
    commit = subprocess.run(
        [
            "git",
            f"--git-dir={checkout / '.git' if (checkout / '.git').exists() else checkout}",
            "rev-parse",
            "--short",
            "HEAD",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    against = (
        "LangGraph's own stores"
        if args.baseline
        else (f"langmem {ours} ({'cosine' if args.cosine else 'default hybrid'} ranking)")
    )
    print(f"LangGraph's store tests at {commit}, against {against}\n")
    env = {"LANGMEM_COMPAT_COSINE": "1" if args.cosine else "0"}
    unexpected = 0
    started = False
    with tempfile.TemporaryDirectory(prefix="langgraph-store-tests-") as tmp:
        root = Path(tmp)
        (root / "_langmem_shim.py").write_text(SHIM)
        if args.suite in ("sqlite", "all"):
            results: dict[str, str] = {}
            ttl: dict[str, str] = {}
            for lib, files, imports in SQLITE:
                folder = extract(
                    checkout, root, lib, files, imports, shim=not args.baseline, pg_url=None
                )
                tests = [f for f in files if f.startswith("test_") and f != "test_ttl.py"]
                for test, result in run(folder, root, tests, env).items():
                    results[f"{lib.split('/')[-1]}/{test}"] = result
                if "test_ttl.py" in files:
                    ttl = run(folder, root, ["test_ttl.py"], env)
                    bridged_ttl = run(
                        folder, root, ["test_ttl.py"], {**env, "LANGMEM_COMPAT_BRIDGED": "1"}
                    )
            unexpected += report(
                "SQLite (checkpoint + checkpoint-sqlite store tests)",
                "sqlite",
                results,
                baseline=args.baseline,
            )
            # counted apart (not in session 6's 118); as is, then with the sweeper bridged
            report(
                "SQLite TTL tests (checkpoint-sqlite test_ttl.py), as is",
                "sqlite",
                ttl,
                baseline=True,
            )
            if not args.baseline:
                unexpected += report(
                    "SQLite TTL tests (checkpoint-sqlite test_ttl.py), bridged",
                    "sqlite",
                    bridged_ttl,
                    baseline=False,
                )
        if args.suite in ("postgres", "all"):
            url = os.environ.get("LANGMEM_TEST_PG_URL")
            if not url:
                url = subprocess.run(
                    [str(REPO / "scripts" / "pg-test-server.sh"), "start"],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
                started = True
            try:
                for lib, files, imports in POSTGRES:
                    folder = extract(
                        checkout, root, lib, files, imports, shim=not args.baseline, pg_url=url
                    )
                    sync = run(folder, root, ["test_store.py"], env)
                    unexpected += report(
                        "PostgreSQL sync (test_store.py)", "postgres", sync, baseline=args.baseline
                    )
                    plain = run(folder, root, ["test_async_store.py"], env)
                    unexpected += report(
                        "PostgreSQL async (test_async_store.py), as before",
                        "postgres-async-plain",
                        plain,
                        baseline=True,
                    )
                    if not args.baseline:
                        bridged = run(
                            folder,
                            root,
                            ["test_async_store.py"],
                            {**env, "LANGMEM_COMPAT_BRIDGED": "1"},
                        )
                        unexpected += report(
                            "PostgreSQL async (test_async_store.py), bridged",
                            "postgres",
                            bridged,
                            baseline=False,
                        )
            finally:
                if started:
                    subprocess.run(
                        [str(REPO / "scripts" / "pg-test-server.sh"), "stop"],
                        capture_output=True,
                        check=False,
                    )
    print(f"unexpected failures: {unexpected}")
    sys.exit(1 if unexpected else 0)


if __name__ == "__main__":
    main()
