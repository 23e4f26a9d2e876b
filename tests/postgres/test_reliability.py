"""PostgresStore under load and faults: 4 writer/searcher processes, a client killed mid-batch,
a server restart between calls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.stores import PostgresStore

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
WORKER = HERE / "_load_worker.py"
SCRIPT = ROOT / "scripts" / "pg-test-server.sh"
INDEX = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture()
def store(pg_database: str) -> PostgresStore:
    made = PostgresStore.from_url(pg_database, index=INDEX, pool_size=4)  # type: ignore[arg-type]
    yield made  # type: ignore[misc]
    made.close()


def test_four_processes_write_and_search_without_errors_or_lost_writes(
    store: PostgresStore,
) -> None:
    rounds = 60
    procs = [_spawn("mixed", store.url, f"p{i}", str(rounds)) for i in range(4)]
    outputs = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in outputs]
    assert [out.strip().splitlines()[-1] for out, _ in outputs] == ["errors=0"] * 4, outputs
    for i in range(4):
        keys = {item.key for item in store.search((f"p{i}",), limit=1000)}
        assert keys == {f"k{n}" for n in range(rounds)}


def test_a_client_killed_mid_batch_leaves_no_partial_batch(store: PostgresStore) -> None:
    proc = _spawn("batches", store.url, "killed")
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first batch committed: the next one is under way
    assert first.startswith("committed"), proc.stderr.read() if proc.stderr else first
    with psycopg.connect(store.url, autocommit=True) as watch:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # kill while the next batch's transaction is open
            open_writes = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
                " AND query ILIKE 'INSERT INTO store%%'"
            ).fetchone()
            if open_writes and open_writes[0]:
                break
            time.sleep(0.002)
        else:
            pytest.fail("the client never opened its second batch's transaction")
        proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    committed = {
        line.split()[-1] for line in [first, *out.splitlines()] if line.startswith("committed")
    }
    with psycopg.connect(store.url) as db:
        rows = db.execute(
            "SELECT prefix, count(*), (SELECT count(*) FROM store_vectors v"
            " WHERE v.prefix = s.prefix) FROM store s GROUP BY prefix"
        ).fetchall()
    sizes = {prefix.split(".")[1]: (items, vectors) for prefix, items, vectors in rows}
    assert sizes and len(sizes) == len(committed), (sizes, committed)
    assert all(v == (1000, 1000) for v in sizes.values()), sizes  # all or nothing
    assert committed <= set(sizes)  # a batch reported committed is there


def test_the_pool_reconnects_after_a_server_restart(store: PostgresStore) -> None:
    store.put(("r",), "before", {"text": "written before the restart"})
    restarted = subprocess.run([str(SCRIPT), "restart"], capture_output=True, text=True)
    assert restarted.returncode == 0, restarted.stderr
    store.put(("r",), "after", {"text": "written after the restart"})  # the next call works
    hits = store.search(("r",), query="written after the restart", limit=2)
    assert hits and hits[0].key == "after"
    assert store.get(("r",), "before") is not None
