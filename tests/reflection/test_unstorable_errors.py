"""A failed attempt whose error the queue cannot store as it is, or a queue that fails to record
an outcome, must not end the worker thread (nothing ran any more and shutdown hung)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda
from langgraph.store.memory import InMemoryStore

from langmem._background._workers import MAX_ERROR_CHARS
from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from langmem.tasks import MemoryTaskQueue
from tests.reflection._support import index


def _reflector(message: str) -> RunnableLambda[Any, Any]:
    def reflect(payload: dict[str, Any]) -> Any:
        if payload["n"] == "bad":
            raise ValueError(message)
        return payload["n"]

    return RunnableLambda(reflect)


@pytest.mark.parametrize(
    ("message", "kept"),
    [
        ("model said \ud83d (half an emoji)", "model said \\ud83d (half an emoji)"),
        ("a NUL \x00 inside", "a NUL \\x00 inside"),
    ],
)
def test_an_error_text_utf8_cannot_hold_is_stored_escaped(
    tmp_path: Path, message: str, kept: str
) -> None:
    store = SqliteStore(tmp_path / "m.sqlite", index=index())  # type: ignore[arg-type]
    executor = LocalReflectionExecutor.with_options(
        _reflector(message), store, workers=1, max_attempts=1
    )
    with pytest.raises(ValueError):
        executor.submit({"n": "bad"}, thread_id="a").result(timeout=10)
    # before: storing the error raised UnicodeEncodeError in the only worker thread
    assert executor.submit({"n": "ok"}, thread_id="b").result(timeout=10) == "ok"
    executor.shutdown(wait=True)
    assert executor.stats().failures[0].error == f"ValueError: {kept}"


def test_a_huge_error_is_cut_to_a_bounded_length(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "m.sqlite", index=index())  # type: ignore[arg-type]
    executor = LocalReflectionExecutor.with_options(
        _reflector("x" * 3_000_000), store, max_attempts=1
    )
    with pytest.raises(ValueError):
        executor.submit({"n": "bad"}, thread_id="a").result(timeout=10)
    executor.shutdown(wait=True)
    error = executor.stats().failures[0].error or ""
    assert len(error) < MAX_ERROR_CHARS + 100
    assert error.endswith(
        f"[... {3_000_000 + len('ValueError: ') - MAX_ERROR_CHARS} more characters]"
    )


class _CompleteFailsOnce(MemoryTaskQueue):
    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def complete(self, task_id: str, *, owner: str, now: float | None = None) -> bool:
        if not self.failed:
            self.failed = True
            raise RuntimeError("disk I/O error")
        return super().complete(task_id, owner=owner, now=now)


def test_a_queue_failing_to_record_an_outcome_settles_the_future_and_goes_on() -> None:
    executor = LocalReflectionExecutor.with_options(
        _reflector("unused"), InMemoryStore(), task_queue=_CompleteFailsOnce(), workers=1
    )
    with pytest.raises(RuntimeError, match="disk I/O error"):
        executor.submit({"n": 1}, thread_id="a").result(timeout=10)
    assert executor.submit({"n": 2}, thread_id="b").result(timeout=10) == 2
    report = executor.shutdown(wait=True)
    assert report.running == ()
