"""Read-only PostgreSQL on a hot standby: a streaming replica of the test server
(scripts/pg-standby.sh: pg_basebackup -R, its own loopback port) opens read-only; gets,
searches, ``explain``, listing and the CLI's reads give what the primary gives; writes raise
StoreFileError naming the database, "hot standby" and the fix, with nothing written.

The replica is started here (about 3 s) unless ``LANGMEM_TEST_PG_STANDBY_URL`` names one, and
stopped after the tests that started it."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator

import psycopg
import pytest
from langgraph.store.base import GetOp, PutOp

from langmem.errors import StoreFileError
from langmem.stores import PostgresStore
from langmem.tasks import MemoryTaskQueue
from tests.cli._support import run, seed_text
from tests.postgres.conftest import ROOT, _with_database
from tests.postgres.test_read_only import FACTS, NS, _index, _reads

SCRIPT = ROOT / "scripts" / "pg-standby.sh"


@pytest.fixture(scope="module")
def standby_server(pg_server: str) -> Iterator[str]:
    """The URL of a hot standby of the test server (its default database)."""
    given = os.environ.get("LANGMEM_TEST_PG_STANDBY_URL", "").strip()
    if given:
        yield given
        return
    started = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, check=False)
    if started.returncode != 0 or not started.stdout.strip():
        pytest.fail(
            f"Could not start a hot standby of the test server ({started.stderr.strip()}). "
            f"It is built from the server of scripts/pg-test-server.sh; with another server, set "
            "LANGMEM_TEST_PG_STANDBY_URL to a hot standby of it.",
            pytrace=False,
        )
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([str(SCRIPT), "stop"], check=False)


def _replayed(primary: str, standby: str) -> None:
    """Wait until the standby replayed everything the primary wrote so far.

    The insert position, not ``pg_current_wal_lsn()`` (the write position): the test server
    commits asynchronously (``synchronous_commit=off``), so the last commits can still be in
    the primary's WAL buffers, past the write position; the WAL writer sends them soon after.
    """
    with psycopg.connect(primary, autocommit=True) as conn:
        wanted = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
    deadline = time.monotonic() + 60
    with psycopg.connect(standby, autocommit=True) as conn:
        while not conn.execute(
            "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (wanted,)
        ).fetchone()[0]:  # type: ignore[index]
            assert time.monotonic() < deadline, "the standby did not catch up in 60 s"
            time.sleep(0.05)


@pytest.fixture()
def standby_database(pg_database: str, standby_server: str) -> str:
    """The URL of ``pg_database`` on the standby, once the database reached it."""
    name = pg_database.rsplit("/", 1)[1].split("?")[0]
    _replayed(pg_database, standby_server)
    return _with_database(standby_server, name)


def test_a_hot_standby_opens_read_only(pg_database: str, standby_database: str) -> None:
    with PostgresStore.from_url(
        pg_database, index=_index(), ttl={"refresh_on_read": True}
    ) as primary:
        for n, fact in enumerate(FACTS):
            primary.put(NS, f"k{n}", {"text": fact}, ttl=60)
        expected = _reads(primary)
    _replayed(pg_database, standby_database)
    for setup in (True, False):
        with PostgresStore.from_url(
            standby_database, index=_index(), ttl={"refresh_on_read": True}, setup=setup
        ) as store:
            assert store.read_only is True
            assert _reads(store) == expected
            assert store.batch([GetOp(NS, "k0", refresh_ttl=True)])[0] is not None
            assert asyncio.run(store.asearch(NS, query="dog"))[0].key == "k1"
            assert isinstance(store.task_queue(), MemoryTaskQueue)
            assert store.start_ttl_sweeper().done()
            for write in (
                lambda: store.put(NS, "new", {"text": "a new fact"}),
                lambda: store.batch([PutOp(NS, "k0", None)]),
                lambda: store.reembed(),
                store.sweep_ttl,
            ):
                with pytest.raises(StoreFileError) as raised:
                    write()
                message = str(raised.value)
                assert "is open read-only (the server is a hot standby" in message
                assert "Fix: connect to the primary server to write" in message
                assert "langmem-test" not in message  # no password
    _replayed(pg_database, standby_database)
    with psycopg.connect(standby_database) as conn:  # nothing written on the primary either
        assert conn.execute("SELECT count(*) FROM store").fetchone() == (len(FACTS),)


def test_the_cli_reads_a_hot_standby(pg_database: str, standby_database: str) -> None:
    primary = f"{pg_database}?embed=hashing"
    assert run("memories", "import", "-", "--store", primary, input=seed_text()).exit_code == 0
    _replayed(pg_database, standby_database)
    url = f"{standby_database}?embed=hashing"
    hit = run("memories", "search", "peanuts", "--limit", "1", "--store", url)
    assert hit.exit_code == 0, hit.stderr
    assert '"key":"a1"' in hit.stdout
    explained = run("memories", "search", "peanuts", "--explain", "--store", url)
    assert explained.exit_code == 0, explained.stderr
    assert run("memories", "export", "--store", url).stdout == seed_text()
    info = run("store", "info", "--store", url)
    assert info.exit_code == 0, info.stderr
    assert json.loads(info.stdout)["memories"] == 3
    refused = run("memories", "add", "a new fact", "-n", "memories/alice", "--store", url)
    assert refused.exit_code != 0
    assert "hot standby" in refused.stderr and "Traceback" not in refused.stderr
