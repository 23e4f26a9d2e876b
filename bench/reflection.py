"""Background reflection: submit latency, durable queue throughput, crash safety, debounce.

Prints, for our executor on the embedded SQLite store (durable) and on InMemoryStore, and for
upstream langmem 0.0.30's local executor (in memory; run in its own env, same workload):

- ``submit`` latency p50/p95 (ms) while the workers run, and tasks per second from the first
  submit until every task is done (trivial reflector: this measures the executor, not a model);
- SIGKILL-and-restart runs (``--kill-runs``, default 100; half killed right after ``submit``,
  half mid-task after the memories were written): tasks lost and duplicated memories;
- concurrent submit/replace interleavings (``--interleavings``, default 10,000): double runs
  and lost runs.

Targets (issue 10): 0 lost in 100 SIGKILL restarts, 0 double runs in 10,000 interleavings,
submit p95 < 2 ms on the embedded store.

Run: ``.venv/bin/python bench/reflection.py [--tasks 2000] [--kill-runs 100] [--no-upstream]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _upstream import ratio, run_upstream  # noqa: E402

WORKER = HERE.parent / "tests" / "reflection" / "_crash_worker.py"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_ours(n: int, durable: bool, *, idle: bool = False) -> dict[str, Any]:
    from langchain_core.runnables import RunnableLambda
    from langgraph.store.memory import InMemoryStore

    from langmem.reflection import LocalReflectionExecutor
    from langmem.stores import SqliteStore

    done: list[Any] = []
    with tempfile.TemporaryDirectory() as folder:
        store: Any = SqliteStore(Path(folder) / "b.sqlite") if durable else InMemoryStore()
        executor = LocalReflectionExecutor(RunnableLambda(done.append), store)
        latencies = []
        start = time.perf_counter()
        futures = []
        for i in range(n):
            t0 = time.perf_counter()
            futures.append(
                executor.submit({"n": i}, thread_id=f"t{i}", after_seconds=3600 if idle else 0)
            )
            latencies.append((time.perf_counter() - t0) * 1000)
        if idle:  # latency only: the tasks are due in an hour
            executor.shutdown(wait=False)
            return {"latencies_ms": latencies, "tasks_per_s": float("nan"), "ran": 0}
        for future in futures:
            future.result(timeout=600)
        elapsed = time.perf_counter() - start
        executor.shutdown(wait=True)
        assert executor.durable is durable
    return {"latencies_ms": latencies, "tasks_per_s": n / elapsed, "ran": len(done)}


def kill_loop(runs: int) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    lost = duplicated = 0
    with tempfile.TemporaryDirectory() as folder:
        for n in range(runs):
            mode, line = ("submit", "submitted") if n % 2 == 0 else ("midtask", "written")
            path = str(Path(folder) / f"k{n}.sqlite")
            proc = subprocess.Popen(
                [sys.executable, str(WORKER), mode, path],
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            assert proc.stdout is not None
            seen = proc.stdout.readline().strip()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            assert seen == line, seen
            out = subprocess.run(
                [sys.executable, str(WORKER), "resume", path],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            lost += int(result["done"] != 1 or len(result["memories"]) == 0)
            duplicated += int(len(result["memories"]) > 1)
    return {"runs": runs, "lost": lost, "duplicated": duplicated}


def interleavings(total: int) -> dict[str, int]:
    from langchain_core.runnables import RunnableLambda
    from langgraph.store.memory import InMemoryStore

    from langmem.reflection import LocalReflectionExecutor

    runs: Counter[int] = Counter()
    lock = threading.Lock()

    def reflect(payload: dict[str, Any]) -> int:
        with lock:
            runs[payload["n"]] += 1
        return int(payload["n"])

    executor = LocalReflectionExecutor.with_options(
        RunnableLambda(reflect), InMemoryStore(), workers=3, poll_seconds=0.01
    )
    futures: dict[int, Any] = {}
    senders = 8

    def send(sender: int) -> None:
        rng = random.Random(sender)
        for i in range(total // senders):
            n = sender * total + i
            delay = rng.choice((0, 0, 0.001, 0.005))
            futures[n] = executor.submit(
                {"n": n}, thread_id=f"t{rng.randrange(40)}", after_seconds=delay
            )

    threads = [threading.Thread(target=send, args=(s,)) for s in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    executor.shutdown(wait=True)
    double = sum(1 for count in runs.values() if count > 1)
    lost = sum(1 for n, f in futures.items() if not f.cancelled() and runs[n] != 1)
    cancelled_ran = sum(1 for n, f in futures.items() if f.cancelled() and n in runs)
    return {
        "submits": len(futures),
        "ran": len(runs),
        "replaced": sum(f.cancelled() for f in futures.values()),
        "double_runs": double + cancelled_ran,
        "lost": lost,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--kill-runs", type=int, default=100)
    parser.add_argument("--interleavings", type=int, default=10_000)
    parser.add_argument("--no-upstream", action="store_true")
    args = parser.parse_args()

    rows = {
        "ours, embedded SQLite (durable)": run_ours(args.tasks, durable=True),
        "ours, InMemoryStore": run_ours(args.tasks, durable=False),
        "ours, SQLite, workers idle": run_ours(args.tasks, durable=True, idle=True),
    }
    if not args.no_upstream:
        rows["upstream 0.0.30, InMemoryStore"] = run_upstream(
            HERE / "reflection_upstream.py", str(args.tasks)
        )
    print(f"submit latency and throughput, {args.tasks} tasks (trivial reflector)")
    print(f"{'executor':34} {'p50 ms':>8} {'p95 ms':>8} {'tasks/s':>9} {'ran':>6}")
    for name, row in rows.items():  # tasks/s is nan for the idle row (latency only)
        lat = row["latencies_ms"]
        print(
            f"{name:34} {statistics.median(lat):8.3f} {_pct(lat, 0.95):8.3f}"
            f" {row['tasks_per_s']:9.0f} {row['ran']:6d}"
        )
    upstream = rows.get("upstream 0.0.30, InMemoryStore")
    if upstream is not None:
        for name in list(rows)[:2]:
            ours_p95 = _pct(rows[name]["latencies_ms"], 0.95)
            theirs_p95 = _pct(upstream["latencies_ms"], 0.95)
            print(
                f"  {name} / upstream: p95 {ratio(ours_p95, theirs_p95)}"
                f", tasks/s {ratio(rows[name]['tasks_per_s'], upstream['tasks_per_s'])}"
            )
    durable_p95 = _pct(rows["ours, embedded SQLite (durable)"]["latencies_ms"], 0.95)
    idle_p95 = _pct(rows["ours, SQLite, workers idle"]["latencies_ms"], 0.95)

    inter = interleavings(args.interleavings)
    print(f"\ninterleavings: {inter}")
    kills = kill_loop(args.kill_runs) if args.kill_runs else {"runs": 0, "lost": 0, "duplicated": 0}
    print(f"SIGKILL and restart: {kills}")

    print("\ntargets")
    print(
        f"  submit p95 on the embedded store < 2 ms: {durable_p95:.3f} ms while the workers"
        f" run flat out, {idle_p95:.3f} ms with idle workers",
        "ok" if max(durable_p95, idle_p95) < 2 else "MISSED",
    )
    print(
        f"  0 double runs in {inter['submits']} interleavings:"
        f" {inter['double_runs']} double, {inter['lost']} lost",
        "ok" if inter["double_runs"] == inter["lost"] == 0 else "MISSED",
    )
    print(
        f"  0 lost in {kills['runs']} SIGKILL restarts:"
        f" {kills['lost']} lost, {kills['duplicated']} duplicated",
        "ok" if kills["lost"] == kills["duplicated"] == 0 else "MISSED",
    )


if __name__ == "__main__":
    main()
