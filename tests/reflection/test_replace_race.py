"""A newer submission that replaces a task at the moment its attempt fails: the failed attempt's
retry time was recorded after the task had been settled, so shutdown(wait=True) waited for it
forever (seen as a hang of the suite under load)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.memory import InMemoryStore

from langmem.reflection import LocalReflectionExecutor, TaskReplacedError
from langmem.stores import SqliteStore
from tests.reflection._support import Recorder, index


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_task_replaced_while_its_failure_is_recorded_does_not_block_shutdown(
    kind: str, tmp_path: Path
) -> None:
    store: Any = (
        InMemoryStore(index=index())  # type: ignore[arg-type]
        if kind == "memory"
        else SqliteStore(tmp_path / "q.sqlite", index=index())  # type: ignore[arg-type]
    )
    rec = Recorder(fail_times=1)
    executor = LocalReflectionExecutor.with_options(
        rec.runnable(), store, backoff_seconds=30.0, poll_seconds=0.05
    )
    newer: list[Any] = []
    real_fail = executor.queue.fail

    def fail_then_replace(task_id: str, **kwargs: Any) -> Any:
        status = real_fail(task_id, **kwargs)
        # the interleaving: the caller submits a newer task of the thread right after the
        # failure is stored and before the worker notes the retry time
        newer.append(executor.submit({"n": 2}, thread_id="t"))
        return status

    executor.queue.fail = fail_then_replace  # type: ignore[method-assign]
    first = executor.submit({"n": 1}, thread_id="t")
    with pytest.raises(TaskReplacedError):
        first.result(timeout=20)
    done = threading.Event()

    def drain() -> None:
        executor.shutdown(wait=True)
        done.set()

    threading.Thread(target=drain, daemon=True).start()
    assert done.wait(timeout=20), "shutdown(wait=True) did not return"
    assert newer[0].result(timeout=1) == 2 and rec.runs == {2: 1}
