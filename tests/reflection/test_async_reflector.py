"""A reflector written as a coroutine function (``async def``, or ``RunnableLambda`` of one)
runs: it failed every attempt with LangChain's "Cannot invoke a coroutine function
synchronously" TypeError, retried, and ended as failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.config import get_config

from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from tests.reflection._support import index


async def reflect(payload: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
    seen = get_config()["configurable"]  # the task's config reaches code inside the coroutine
    return {
        "n": payload["n"],
        "user": config["configurable"]["user_id"],
        "task": seen["langmem_task_id"],
    }


@pytest.mark.parametrize("wrap", [False, True], ids=["async-def", "RunnableLambda"])
def test_a_coroutine_reflector_runs_with_its_config(tmp_path: Path, wrap: bool) -> None:
    store = SqliteStore(tmp_path / "m.sqlite", index=index())  # type: ignore[arg-type]
    reflector: Any = RunnableLambda(reflect) if wrap else reflect
    executor = LocalReflectionExecutor.with_options(reflector, store, max_attempts=1)
    try:
        config = {"configurable": {"thread_id": "t", "user_id": "ana"}}
        future = executor.submit({"n": 7}, config, after_seconds=0)
        result = future.result(timeout=20)
        assert result["n"] == 7 and result["user"] == "ana" and result["task"]
        stats = executor.stats()
        assert (stats.done, stats.failed) == (1, 0)
    finally:
        executor.shutdown(wait=True)
        store.close()
