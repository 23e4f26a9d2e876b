"""Reliability of the SQLite store across processes: concurrent writers, SIGKILL, visibility."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore

WORKER = str(Path(__file__).with_name("_reliability_worker.py"))
INDEX = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}


def spawn(*args: str, stdin: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, WORKER, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE if stdin else None,
        text=True,
    )


def test_two_processes_writing_mixed_batches_never_fail(tmp_path: Path) -> None:
    path = str(tmp_path / "busy.sqlite")
    SqliteStore(path, index=INDEX).close()  # schema in place before the race
    workers = [spawn("mixed", path, name, "200", stdin=True) for name in ("alpha", "beta")]
    for worker in workers:  # both open their stores, then start at the same moment
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-3000:]
        reports.append(json.loads(out.strip().splitlines()[-1]))
    assert [r["failures"] for r in reports] == [[], []]
    (a_start, a_end), (b_start, b_end) = (r["span"] for r in reports)
    assert a_start < b_end and b_start < a_end, "the two writers must overlap in time"
    store = SqliteStore(path, index=INDEX)
    for name in ("alpha", "beta"):
        keys = {item.key for item in store.search((name,), limit=1000)}
        # 200 puts, minus the 40 deleted by every fifth batch
        assert len(keys) == 160, (name, len(keys))
    assert len(store.search(("shared",), limit=100)) == 20
    check = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0]
    assert check == "ok"


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")
def test_sigkill_mid_batch_leaves_an_intact_database(tmp_path: Path) -> None:
    path = str(tmp_path / "crash.sqlite")
    worker = spawn("crash", path, "3")
    assert worker.stdout is not None
    seen = []
    for line in worker.stdout:
        seen.append(line.strip())
        if line.strip() == "MID":
            break
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)
    assert seen == ["COMMITTED 0", "COMMITTED 1", "COMMITTED 2", "MID"]

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    keys = {key for (key,) in conn.execute("SELECT key FROM langmem_items")}
    assert {k.split("-")[0] for k in keys} == {"b0", "b1", "b2"}, "batch 3 is all-or-nothing"
    assert len(keys) == 150, "every earlier batch is complete"
    vectors = conn.execute("SELECT COUNT(*) FROM langmem_vectors").fetchone()[0]
    assert vectors == 150
    conn.close()

    store = SqliteStore(path, index=INDEX)
    hits = store.search(("crash",), query="batch 2 item 7", limit=1)
    assert [h.key for h in hits] == ["b2-7"]
    store.put(("crash",), "after", {"text": "written after the crash"})
    assert store.get(("crash",), "after") is not None


def test_a_search_in_another_process_sees_a_put_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "live.sqlite")
    writer = SqliteStore(path, index=INDEX)
    writer.put(("live",), "old", {"text": "an old note about the garden"})
    reader = spawn("searcher", path, stdin=True)
    assert reader.stdin is not None and reader.stdout is not None
    try:
        assert reader.stdout.readline().strip() == "READY"

        def ask(query: str) -> list[str]:
            assert reader.stdin is not None and reader.stdout is not None
            reader.stdin.write(query + "\n")
            reader.stdin.flush()
            return list(json.loads(reader.stdout.readline()))

        assert ask("quantum harpsichord recital") == []
        writer.put(("live",), "new", {"text": "quantum harpsichord recital"})
        assert ask("quantum harpsichord recital") == ["new"]
        writer.put(("live",), "new", {"text": "changed to something else entirely"})
        assert ask("quantum harpsichord recital") == []
        writer.delete(("live",), "new")
        assert ask("changed to something else entirely") == []
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
