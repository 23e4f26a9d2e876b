"""Upstream side of bench/reflection.py: runs in upstream langmem 0.0.30's own env.

Prints one JSON line: submit latencies (ms) and tasks per second of upstream's local executor
(in memory; it has no durable mode) with a trivial reflector, the same workload as ours.
"""

from __future__ import annotations

import json
import sys
import time

from langchain_core.runnables import RunnableLambda
from langgraph.store.memory import InMemoryStore

from langmem import ReflectionExecutor


def main(n: int) -> None:
    done = []
    reflector = RunnableLambda(done.append)
    reflector.namespace = ("memories",)  # type: ignore[attr-defined] - upstream requires one
    executor = ReflectionExecutor(reflector, store=InMemoryStore())
    latencies = []
    start = time.perf_counter()
    futures = []
    for i in range(n):
        config = {"configurable": {"thread_id": f"t{i}"}}
        t0 = time.perf_counter()
        futures.append(executor.submit({"n": i}, config, thread_id=f"t{i}"))
        latencies.append((time.perf_counter() - t0) * 1000)
    for future in futures:
        future.result(timeout=600)
    elapsed = time.perf_counter() - start
    executor.shutdown(wait=True)
    print(json.dumps({"latencies_ms": latencies, "tasks_per_s": n / elapsed, "ran": len(done)}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
