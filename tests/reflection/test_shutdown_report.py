"""ShutdownReport.running lists only tasks still running, not ones whose future has settled."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableLambda

from langmem.reflection import LocalReflectionExecutor, ShutdownReport
from langmem.stores import SqliteStore
from tests.reflection._support import index


def test_a_task_whose_result_is_in_is_not_reported_running(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "m.sqlite", index=index())  # type: ignore[arg-type]
    executor = LocalReflectionExecutor.with_options(
        RunnableLambda(lambda payload: payload["n"]), store
    )
    reports: list[ShutdownReport] = []
    future = executor.submit({"n": 1}, thread_id="t")
    # the callback runs as soon as the result is set: a shutdown there is the earliest one a
    # caller waiting for the result can make
    future.add_done_callback(lambda _: reports.append(executor.shutdown(wait=False)))
    assert future.result(timeout=10) == 1
    deadline = time.monotonic() + 10
    while not reports and time.monotonic() < deadline:
        time.sleep(0.01)
    # before: the worker left the running set only after settling the future, so the finished
    # task was reported running
    assert [r.running for r in reports] == [()]


def test_a_running_task_is_still_reported(tmp_path: Path) -> None:
    import threading

    store = SqliteStore(tmp_path / "m.sqlite", index=index())  # type: ignore[arg-type]
    started, release = threading.Event(), threading.Event()

    def slow(payload: dict[str, Any]) -> Any:
        started.set()
        release.wait(10)
        return payload["n"]

    executor = LocalReflectionExecutor.with_options(RunnableLambda(slow), store)
    future = executor.submit({"n": 1}, thread_id="t")
    assert started.wait(10)
    report = executor.shutdown(wait=False)
    release.set()
    assert len(report.running) == 1 and future.result(timeout=10) == 1
