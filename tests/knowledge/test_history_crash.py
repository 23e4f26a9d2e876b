"""A change and its history record commit together: SIGKILL mid-change leaves both or neither."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from langmem import History
from langmem.stores import SqliteStore

WORKER = str(Path(__file__).with_name("_history_crash_worker.py"))
NS = ("memories", "u")

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")


def spawn(path: Path, pause_at: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, str(path), str(pause_at)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def consistent(path: Path) -> tuple[dict[str, Any], list[Any]]:
    """Check that every memory equals the value its last record says; return both."""
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with SqliteStore(path) as store:
        live = {i.key: i.value for i in store.search(NS, limit=10_000)}
        records = History(store).changes(NS)
    last: dict[str, Any] = {}
    for record in records:
        if record["target"] == "live":
            last[record["key"]] = record["value"]
    assert {k: v for k, v in last.items() if v is not None} == live
    return live, records


def test_sigkill_between_a_change_and_its_record(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    worker = spawn(path, 7)  # write batch 7 is an update (create, update, delete, create, ...)
    assert worker.stdout is not None
    seen = []
    for line in worker.stdout:
        seen.append(line.strip())
        if line.strip() == "MID" or len(seen) > 50:
            break
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    assert seen[-2:] == ["DONE 6", "MID"], worker.stderr.read()[-2000:] if worker.stderr else ""
    live, records = consistent(path)
    assert len(records) == 7  # the 8th change left no record ...
    assert list(live.values()) == [{"content": "fact 6"}]  # ... and the memory is unchanged


def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    for round, delay in enumerate((0.9, 1.3, 1.7)):
        path = tmp_path / f"random-{round}.db"
        worker = spawn(path, -1)
        assert worker.stdout is not None
        started = time.monotonic()
        first = worker.stdout.readline()  # the first change is done: the store is in use
        assert first.startswith("DONE"), worker.stderr.read()[-2000:] if worker.stderr else ""
        time.sleep(max(0.0, delay - (time.monotonic() - started)))
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        _, records = consistent(path)
        assert records, "the worker made changes before it was killed"
