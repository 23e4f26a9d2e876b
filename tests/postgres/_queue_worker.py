"""A worker or enqueuer process for test_queue_workers.py (run as a script)."""

from __future__ import annotations

import sys
import time

import psycopg

from langmem.stores import PostgresStore


def work(url: str, name: str, lease: float) -> None:
    store = PostgresStore.from_url(url, pool_size=2, setup=False)
    queue = store.task_queue()
    with psycopg.connect(url, autocommit=True) as log:
        while True:
            claimed = queue.claim(queue="q", owner=name, lease_seconds=lease)
            if not claimed:
                time.sleep(0.01)
                continue
            for task in claimed:
                log.execute(
                    "INSERT INTO started (task_id, worker) VALUES (%s, %s)", (task.id, name)
                )
                time.sleep(float(task.payload["seconds"]))
                if queue.complete(task.id, owner=name):
                    log.execute(
                        "INSERT INTO finished (task_id, worker) VALUES (%s, %s)", (task.id, name)
                    )


def enqueue(url: str, name: str, count: int) -> None:
    store = PostgresStore.from_url(url, pool_size=2, setup=False)
    queue = store.task_queue()
    for i in range(count):
        queue.enqueue(queue="q", thread_key=f"thread-{i % 6}", payload={"seconds": 0.05, "n": i})
        time.sleep(0.04)
    store.close()


if __name__ == "__main__":
    kind, url, name = sys.argv[1:4]
    if kind == "work":
        work(url, name, float(sys.argv[4]))
    else:
        enqueue(url, name, int(sys.argv[4]))
