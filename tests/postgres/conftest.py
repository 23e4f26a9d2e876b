"""A PostgreSQL + pgvector server for these tests; they fail (never skip) without one.

``make test`` starts a private loopback server (scripts/pg-test-server.sh) and passes its URL
in ``LANGMEM_TEST_PG_URL``. Run alone, the tests look for that server and explain how to start
it when there is none.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "pg-test-server.sh"


def _server_url() -> str:
    url = os.environ.get("LANGMEM_TEST_PG_URL", "").strip()
    if url:
        return url
    found = subprocess.run([str(SCRIPT), "url"], capture_output=True, text=True, check=False)
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    pytest.fail(
        "The PostgreSQL tests need a PostgreSQL 15 server with pgvector, and none is running. "
        f"Run `make test` (it starts one), or `{SCRIPT.relative_to(ROOT)} start` once (as root "
        "it installs postgresql-15 and builds pgvector; otherwise it says what to install), "
        "or set LANGMEM_TEST_PG_URL to a server where you may create databases.",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of the test server (its default database)."""
    return _server_url()


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")


@pytest.fixture()
def pg_database(pg_server: str) -> Iterator[str]:
    """The URL of a fresh, empty database (dropped afterwards)."""
    yield from _fresh_database(pg_server)


@pytest.fixture(scope="module")
def pg_module_database(pg_server: str) -> Iterator[str]:
    """As ``pg_database``, one per test module (for tests that leave it as they found it)."""
    yield from _fresh_database(pg_server)


def _fresh_database(pg_server: str) -> Iterator[str]:
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield _with_database(pg_server, name)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
