"""Debounce under load: many submitter threads, many thread ids, workers running meanwhile.

Every submission ends exactly one way: its reflector ran once (future has the result) or a
newer submission of its thread replaced it before it started (future cancelled, never ran).
Following ``replaced_by`` from any replaced task always reaches a task that ran.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda
from langgraph.store.memory import InMemoryStore

from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from langmem.tasks import TaskStatus


def _hammer(executor: LocalReflectionExecutor, runs: Counter[int], *, senders: int, each: int):
    futures: dict[int, Future[Any]] = {}
    lock = threading.Lock()

    def send(sender: int) -> None:
        rng = random.Random(sender)
        for i in range(each):
            n = sender * each + i
            thread = f"t{rng.randrange(40)}"
            delay = rng.choice((0, 0, 0.001, 0.005))
            future = executor.submit({"n": n}, thread_id=thread, after_seconds=delay)  # type: ignore[arg-type]
            with lock:
                futures[n] = future

    threads = [threading.Thread(target=send, args=(s,)) for s in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    executor.shutdown(wait=True)
    return futures


def _check(executor: LocalReflectionExecutor, runs: Counter[int], futures: dict[int, Future[Any]]):
    assert all(count == 1 for count in runs.values()), "a task ran twice"
    for n, future in futures.items():
        assert future.done()
        if future.cancelled():
            assert n not in runs, f"task {n} was cancelled and ran"
        else:
            assert runs[n] == 1, f"task {n} neither ran nor was replaced"
            # run by this executor: its output; by another one on the same file: None
            assert future.result() in (n, None)
    tasks = {task.id: task for task in executor.queue.list(limit=1_000_000)}
    assert len(tasks) == len(futures)
    for task in tasks.values():
        assert task.status in (TaskStatus.DONE, TaskStatus.REPLACED)
        end = task
        while end.status is TaskStatus.REPLACED:
            assert end.replaced_by is not None
            end = tasks[end.replaced_by]
            assert end.thread_key == task.thread_key
        assert end.status is TaskStatus.DONE
    stats = executor.stats()
    assert stats.done == len(runs) and stats.done + stats.replaced == len(futures)


def _recording() -> tuple[RunnableLambda[Any, Any], Counter[int]]:
    runs: Counter[int] = Counter()
    lock = threading.Lock()

    def reflect(payload: dict[str, Any]) -> int:
        with lock:
            runs[payload["n"]] += 1
        return int(payload["n"])

    return RunnableLambda(reflect), runs


def test_ten_thousand_concurrent_submits_in_memory() -> None:
    reflector, runs = _recording()
    executor = LocalReflectionExecutor.with_options(
        reflector, InMemoryStore(), workers=3, poll_seconds=0.01
    )
    futures = _hammer(executor, runs, senders=8, each=1250)
    assert len(futures) == 10_000
    _check(executor, runs, futures)
    assert all(f.result() == n for n, f in futures.items() if not f.cancelled())
    assert 0 < len(runs) < 10_000  # both outcomes really happened


@pytest.mark.parametrize("processes_share_the_file", [False, True])
def test_concurrent_submits_on_the_durable_queue(
    tmp_path: Path, processes_share_the_file: bool
) -> None:
    """Two executors on one SQLite file (as two processes would be) submit and run together."""
    path = tmp_path / "s.sqlite"
    reflector, runs = _recording()
    executor = LocalReflectionExecutor.with_options(
        reflector, SqliteStore(path), workers=2, poll_seconds=0.01
    )
    other = None
    if processes_share_the_file:
        other = LocalReflectionExecutor.with_options(
            reflector, SqliteStore(path), workers=2, poll_seconds=0.01
        )
    futures = _hammer(executor, runs, senders=4, each=300)
    if other is not None:
        other.shutdown(wait=True)
    _check(executor, runs, futures)
