"""The task queue contract on PostgreSQL (the same tests as every backend), and its store.

(The 10,000-interleavings test is left out here: 40 s on PostgreSQL; the multi-process test in
test_queue_workers.py covers concurrency on the real server.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from langmem.stores import PostgresStore
from langmem.tasks import TaskQueue, task_queue_for
from langmem.tasks._postgres import PostgresTaskQueue
from tests.tasks.test_queue import (  # the backend-neutral contract, run here on PostgreSQL
    test_a_failing_task_gives_way_to_a_newer_one,
    test_a_running_task_is_not_replaced_and_its_thread_waits,
    test_a_task_that_kills_its_workers_ends_failed,
    test_an_expired_lease_is_claimed_again_and_only_the_holder_finishes,
    test_claim_waits_for_the_due_time,
    test_fail_retries_with_backoff_then_fails_and_retry_reruns,
    test_newer_pending_task_replaces_the_older_one,
    test_release_cancel_list_purge,
)

__all__ = [
    "test_a_failing_task_gives_way_to_a_newer_one",
    "test_a_running_task_is_not_replaced_and_its_thread_waits",
    "test_a_task_that_kills_its_workers_ends_failed",
    "test_an_expired_lease_is_claimed_again_and_only_the_holder_finishes",
    "test_claim_waits_for_the_due_time",
    "test_fail_retries_with_backoff_then_fails_and_retry_reruns",
    "test_newer_pending_task_replaces_the_older_one",
    "test_release_cancel_list_purge",
]


@pytest.fixture()
def store(pg_database: str) -> Iterator[PostgresStore]:
    made = PostgresStore.from_url(pg_database, pool_size=4)
    yield made
    made.close()


@pytest.fixture()
def queue(store: PostgresStore) -> Iterator[TaskQueue]:
    made = store.task_queue()
    yield made
    made.close()


def test_the_store_gives_its_durable_queue(store: PostgresStore) -> None:
    queue = task_queue_for(store)
    assert isinstance(queue, PostgresTaskQueue) and queue.durable
    queue.enqueue(queue="q", thread_key="t", payload={"n": 1}, now=0)
    # another handle on the same database sees the task
    other = PostgresStore.from_url(store.url, pool_size=2)
    try:
        (task,) = other.task_queue().claim(queue="q", owner="w", lease_seconds=5, now=1)
        assert task.payload == {"n": 1}
    finally:
        other.close()
