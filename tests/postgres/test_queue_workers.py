"""Four worker processes on one PostgreSQL queue, killed at random: no task runs twice, none is
lost, and the per-thread debounce holds while two processes enqueue at once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from langmem.stores import PostgresStore
from langmem.tasks import TaskStatus

WORKER = Path(__file__).with_name("_queue_worker.py")
ROOT = Path(__file__).resolve().parents[2]
LEASE = 1.0


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(WORKER), *args], env=env, stderr=subprocess.PIPE)


def test_four_workers_with_sigkills_never_run_a_task_twice(pg_database: str) -> None:
    store = PostgresStore.from_url(pg_database, pool_size=2)
    queue = store.task_queue()
    with psycopg.connect(pg_database, autocommit=True) as db:
        db.execute("CREATE TABLE started (task_id text, worker text, at timestamptz DEFAULT now())")
        db.execute("CREATE TABLE finished (task_id text, worker text)")
    rng = random.Random(13)
    serial = 0

    def worker() -> tuple[str, subprocess.Popen[bytes]]:
        nonlocal serial
        serial += 1
        name = f"w{serial}"
        return name, _spawn("work", pg_database, name, str(LEASE))

    workers = dict(worker() for _ in range(4))
    enqueuers = [_spawn("enqueue", pg_database, f"e{i}", "80") for i in range(2)]
    killed: set[str] = set()
    try:
        deadline = time.monotonic() + 60
        while any(p.poll() is None for p in enqueuers) and time.monotonic() < deadline:
            time.sleep(1.0)
            victim = rng.choice(sorted(workers))
            workers[victim].send_signal(signal.SIGKILL)
            workers[victim].wait()
            killed.add(victim)
            del workers[victim]
            workers.update([worker()])
        assert [p.wait(timeout=60) for p in enqueuers] == [0, 0], [
            p.stderr.read().decode() for p in enqueuers if p.stderr
        ]
        # let the survivors drain the queue (killed workers' leases expire meanwhile)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stats = queue.stats(queue="q")
            if stats.pending + stats.running == 0:
                break
            time.sleep(0.2)
    finally:
        for process in workers.values():
            process.send_signal(signal.SIGKILL)
            process.wait()
    alive_errors = [p.stderr.read().decode() for p in workers.values() if p.stderr]
    assert not any("Traceback" in e for e in alive_errors), alive_errors
    tasks = queue.list(queue="q", limit=10_000)
    assert len(tasks) == 160
    statuses = {t.status for t in tasks}
    assert statuses <= {TaskStatus.DONE, TaskStatus.REPLACED, TaskStatus.FAILED}, statuses
    with psycopg.connect(pg_database) as db:
        finished = db.execute("SELECT task_id, count(*) FROM finished GROUP BY task_id").fetchall()
        starts = db.execute(
            "SELECT task_id, array_agg(worker ORDER BY at) FROM started GROUP BY task_id"
        ).fetchall()
    assert all(n == 1 for _, n in finished), "a task completed twice"
    done = {t.id for t in tasks if t.status is TaskStatus.DONE}
    # a completion record can only be lost when its worker was killed right after complete()
    assert {task_id for task_id, _ in finished} <= done
    twice = [(task_id, runners) for task_id, runners in starts if len(runners) > 1]
    # a task starts again only after the worker running it was killed (its lease expired)
    assert all(set(runners[:-1]) <= killed for _, runners in twice), twice
    # a task fails here only by running out of attempts, every one of them in a killed worker
    runs = dict(starts)
    failed = [t.id for t in tasks if t.status is TaskStatus.FAILED]
    assert all(set(runs.get(task_id, [])) <= killed for task_id in failed), failed
    assert not {t.id for t in tasks if t.status is TaskStatus.REPLACED} & {
        task_id for task_id, _ in starts
    }, "a replaced task was run"
    store.close()
    print(f"killed {len(killed)} workers; {len(done)} done, {len(twice)} restarted after a kill")
