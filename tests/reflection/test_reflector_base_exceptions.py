"""A reflector raising a BaseException that is not an Exception fails its task, not the worker."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda
from langgraph.store.memory import InMemoryStore

from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from tests.reflection._support import index


def _cancelled() -> None:
    raise asyncio.CancelledError()


def _exits() -> None:
    sys.exit(3)


@pytest.mark.parametrize("durable", [False, True])
@pytest.mark.parametrize(
    ("raise_it", "kind"), [(_cancelled, asyncio.CancelledError), (_exits, SystemExit)]
)
def test_the_task_fails_and_the_single_worker_goes_on(
    tmp_path: Path, durable: bool, raise_it: Any, kind: type[BaseException]
) -> None:
    store: Any = (
        SqliteStore(tmp_path / "m.sqlite", index=index())
        if durable
        else InMemoryStore(index=index())  # type: ignore[arg-type]
    )

    def reflect(payload: dict[str, Any]) -> Any:
        if payload["n"] == "bad":
            raise_it()
        return payload["n"]

    executor = LocalReflectionExecutor.with_options(
        RunnableLambda(reflect), store, workers=1, max_attempts=1, poll_seconds=0.05
    )
    bad = executor.submit({"n": "bad"}, thread_id="a")
    with pytest.raises(kind):
        bad.result(timeout=10)
    # before: the exception ended the only worker thread, so this never ran
    assert executor.submit({"n": "ok"}, thread_id="b").result(timeout=10) == "ok"
    executor.shutdown(wait=True)
    stats = executor.stats()
    assert (stats.done, stats.failed, stats.running) == (1, 1, 0)
    assert kind.__name__ in (stats.failures[0].error or "")
