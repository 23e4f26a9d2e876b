"""The task queue contract, on every backend: debounce, claim/lease, finish, operate."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from langmem.stores import SqliteStore
from langmem.tasks import (
    MemoryTaskQueue,
    SqliteTaskQueue,
    TaskQueue,
    TaskStatus,
    task_queue_for,
)

Q = "reflection"


@pytest.fixture(params=["memory", "sqlite"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TaskQueue]:
    made: TaskQueue = (
        MemoryTaskQueue() if request.param == "memory" else SqliteTaskQueue(tmp_path / "q.sqlite")
    )
    yield made
    made.close()


def _add(queue: TaskQueue, thread: str, n: int, *, now: float = 0.0, due: float | None = None):
    return queue.enqueue(queue=Q, thread_key=thread, payload={"n": n}, due_at=due, now=now)


def test_newer_pending_task_replaces_the_older_one(queue: TaskQueue) -> None:
    first = _add(queue, "t1", 1)
    other = _add(queue, "t2", 2)
    second = _add(queue, "t1", 3, now=1)
    assert second.replaced == (first.task.id,)
    assert other.replaced == ()
    old = queue.get(first.task.id)
    assert old is not None and old.status is TaskStatus.REPLACED
    assert old.replaced_by == second.task.id and old.finished_at == 1
    claimed = queue.claim(queue=Q, owner="w", lease_seconds=10, limit=10, now=2)
    assert sorted(task.payload["n"] for task in claimed) == [2, 3]


def test_claim_waits_for_the_due_time(queue: TaskQueue) -> None:
    _add(queue, "t", 1, now=0, due=5)
    assert queue.claim(queue=Q, owner="w", lease_seconds=10, now=4.9) == []
    assert queue.next_due(queue=Q) == 5
    (task,) = queue.claim(queue=Q, owner="w", lease_seconds=10, now=5)
    assert task.status is TaskStatus.RUNNING and task.attempts == 1 and task.owner == "w"
    assert task.lease_expires_at == 15
    assert queue.claim(queue="other", owner="w", lease_seconds=10, now=5) == []


def test_a_running_task_is_not_replaced_and_its_thread_waits(queue: TaskQueue) -> None:
    _add(queue, "t", 1)
    (running,) = queue.claim(queue=Q, owner="w", lease_seconds=10, now=1)
    newer = _add(queue, "t", 2, now=2)
    assert newer.replaced == ()
    assert queue.claim(queue=Q, owner="w2", lease_seconds=10, now=3) == []
    assert queue.complete(running.id, owner="w", now=4)
    (task,) = queue.claim(queue=Q, owner="w2", lease_seconds=10, now=4)
    assert task.id == newer.task.id


def test_an_expired_lease_is_claimed_again_and_only_the_holder_finishes(queue: TaskQueue) -> None:
    _add(queue, "t", 1)
    (task,) = queue.claim(queue=Q, owner="dead", lease_seconds=10, now=1)
    assert queue.claim(queue=Q, owner="w", lease_seconds=10, now=10.9) == []
    (again,) = queue.claim(queue=Q, owner="w", lease_seconds=10, now=11)
    assert again.id == task.id and again.attempts == 2 and again.owner == "w"
    assert not queue.complete(task.id, owner="dead")
    assert not queue.extend_lease(task.id, owner="dead", lease_seconds=10)
    assert queue.fail(task.id, owner="dead", error="x", retry_at=0) is None
    assert queue.extend_lease(task.id, owner="w", lease_seconds=100, now=12)
    assert queue.claim(queue=Q, owner="x", lease_seconds=10, now=50) == []
    assert queue.complete(task.id, owner="w")
    done = queue.get(task.id)
    assert done is not None and done.status is TaskStatus.DONE and done.owner is None


def test_a_task_that_kills_its_workers_ends_failed(queue: TaskQueue) -> None:
    queue.enqueue(queue=Q, thread_key="t", payload=1, max_attempts=2, now=0)
    queue.claim(queue=Q, owner="a", lease_seconds=1, now=0)
    queue.claim(queue=Q, owner="b", lease_seconds=1, now=2)
    assert queue.claim(queue=Q, owner="c", lease_seconds=1, now=4) == []
    (failure,) = queue.stats(queue=Q).failures
    assert failure.attempts == 2 and "lease expired" in (failure.error or "")


def test_fail_retries_with_backoff_then_fails_and_retry_reruns(queue: TaskQueue) -> None:
    task = queue.enqueue(queue=Q, thread_key="t", payload=1, max_attempts=2, now=0).task
    queue.claim(queue=Q, owner="w", lease_seconds=10, now=0)
    assert queue.fail(task.id, owner="w", error="boom 1", retry_at=3, now=1) is TaskStatus.PENDING
    assert queue.stats().last_errors == ("boom 1",)
    assert queue.claim(queue=Q, owner="w", lease_seconds=10, now=2) == []
    queue.claim(queue=Q, owner="w", lease_seconds=10, now=3)
    assert queue.fail(task.id, owner="w", error="boom 2", retry_at=9, now=4) is TaskStatus.FAILED
    stats = queue.stats()
    assert (stats.failed, stats.pending, stats.running) == (1, 0, 0)
    assert stats.failures[0].task_id == task.id and stats.failures[0].error == "boom 2"
    assert queue.retry(task.id, now=5) is TaskStatus.PENDING
    (again,) = queue.claim(queue=Q, owner="w", lease_seconds=10, now=5)
    assert again.attempts == 1
    assert queue.retry(task.id) is None  # running: not retryable


def test_a_failing_task_gives_way_to_a_newer_one(queue: TaskQueue) -> None:
    task = _add(queue, "t", 1).task
    queue.claim(queue=Q, owner="w", lease_seconds=10, now=0)
    newer = _add(queue, "t", 2, now=1).task
    assert queue.fail(task.id, owner="w", error="e", retry_at=2, now=1) is TaskStatus.REPLACED
    old = queue.get(task.id)
    assert old is not None and old.replaced_by == newer.id and old.error == "e"


def test_release_cancel_list_purge(queue: TaskQueue) -> None:
    a = _add(queue, "a", 1).task
    b = _add(queue, "b", 2).task
    queue.claim(queue=Q, owner="w", lease_seconds=10, limit=2, now=0)
    assert queue.release(owner="w", task_ids=[a.id], now=1) == 1
    released = queue.get(a.id)
    assert released is not None and released.status is TaskStatus.PENDING
    assert released.attempts == 0
    assert queue.cancel(a.id)
    assert not queue.cancel(b.id)  # running
    assert [t.id for t in queue.list(status="cancelled")] == [a.id]
    assert [t.id for t in queue.list(thread_key="b")] == [b.id]
    assert queue.complete(b.id, owner="w", now=2)
    assert queue.retry(a.id, now=3) is TaskStatus.PENDING
    assert queue.purge(older_than=2.5) == 1
    assert queue.get(b.id) is None and queue.get(a.id) is not None
    with pytest.raises(ValueError, match="max_attempts"):
        queue.enqueue(queue=Q, thread_key="t", payload=1, max_attempts=0)


def test_ten_thousand_random_interleavings_never_run_twice_or_lose_one(queue: TaskQueue) -> None:
    """Random enqueue/claim/complete/fail/expire steps on a fake clock; every task ends in
    exactly one of run-once or replaced, and the newest task of each thread always runs."""
    rng = random.Random(10)
    now = 0.0
    runs: dict[str, int] = {}
    holding: list[tuple[str, str]] = []
    newest: dict[str, str] = {}
    for step in range(10_000):
        now += rng.random()
        action = rng.random()
        if action < 0.5:
            thread = f"t{rng.randrange(20)}"
            due = now + rng.choice((0.0, 0.5, 3.0))
            newest[thread] = _add(queue, thread, step, now=now, due=due).task.id
        elif action < 0.75:
            owner = f"w{rng.randrange(3)}"
            for task in queue.claim(queue=Q, owner=owner, lease_seconds=5, limit=3, now=now):
                holding.append((task.id, owner))
        elif holding:
            task_id, owner = holding.pop(rng.randrange(len(holding)))
            roll = rng.random()
            if roll < 0.8 and queue.complete(task_id, owner=owner, now=now):
                runs[task_id] = runs.get(task_id, 0) + 1
            elif roll < 0.9:
                queue.fail(task_id, owner=owner, error="flaky", retry_at=now + 1, now=now)
            # else: the worker "dies" holding the task; its lease expires
    while True:  # drain: workers keep claiming until nothing is left
        now += 10
        claimed = queue.claim(queue=Q, owner="drain", lease_seconds=5, limit=100, now=now)
        if not claimed and queue.next_due(queue=Q) is None:
            break
        for task in claimed:
            assert queue.complete(task.id, owner="drain", now=now)
            runs[task.id] = runs.get(task.id, 0) + 1
    tasks = queue.list(limit=100_000)
    assert len(tasks) > 4000
    assert all(count == 1 for count in runs.values())
    for task in tasks:
        if task.status is TaskStatus.DONE:
            assert runs.get(task.id) == 1
        else:
            assert task.id not in runs
            assert task.status in (TaskStatus.REPLACED, TaskStatus.FAILED)
    statuses = {task.id: task.status for task in tasks}
    assert all(
        statuses[task_id] in (TaskStatus.DONE, TaskStatus.FAILED) for task_id in newest.values()
    )


def test_two_connections_on_one_file_never_claim_the_same_task(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    queues = [SqliteTaskQueue(path) for _ in range(4)]
    for n in range(300):
        queues[0].enqueue(queue=Q, thread_key=f"t{n}", payload=n)
    taken: list[str] = []
    lock = threading.Lock()

    def work(q: SqliteTaskQueue, owner: str) -> None:
        while claimed := q.claim(queue=Q, owner=owner, lease_seconds=60, limit=2):
            for task in claimed:
                assert q.complete(task.id, owner=owner)
            with lock:
                taken.extend(task.id for task in claimed)

    threads = [threading.Thread(target=work, args=(q, f"w{i}")) for i, q in enumerate(queues)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 300 == len(set(taken))
    assert queues[1].stats().done == 300
    for q in queues:
        q.close()


def test_the_store_gives_its_queue(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    queue = task_queue_for(store)
    assert isinstance(queue, SqliteTaskQueue) and queue.durable
    queue.enqueue(queue=Q, thread_key="t", payload={"a": [1, "x"]})
    queue.close()
    again = SqliteTaskQueue(tmp_path / "s.sqlite")
    assert [t.payload for t in again.list()] == [{"a": [1, "x"]}]
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "langmem_tasks" in names
    assert not task_queue_for(SqliteStore(":memory:")).durable
    assert not task_queue_for(None).durable
    store.close()
