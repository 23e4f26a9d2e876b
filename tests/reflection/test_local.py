"""LocalReflectionExecutor: futures, debounce, due times, shutdown, failures, search."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from langgraph.store.memory import InMemoryStore

from langmem import ReflectionExecutor, create_memory_store_manager
from langmem.errors import (
    ConfigurationError,
    ExecutorClosedError,
    InvalidInputError,
    LangMemError,
)
from langmem.reflection import (
    LocalReflectionExecutor,
    TaskReplacedError,
)
from langmem.stores import SqliteStore
from tests.reflection._support import USER, Recorder, index, tea_model


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "memory":
        yield InMemoryStore(index=index())  # type: ignore[arg-type]
    else:
        made = SqliteStore(tmp_path / "m.sqlite", index=index())  # type: ignore[arg-type]
        yield made
        made.close()


def test_submit_returns_a_future_with_the_reflector_output(store) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    with ReflectionExecutor(rec.runnable(), store=store) as executor:
        assert isinstance(executor, LocalReflectionExecutor)
        assert executor.durable is isinstance(store, SqliteStore)
        future = executor.submit({"n": 1}, {"configurable": {"thread_id": "t"}})
        assert future.result(timeout=10) == 1
    assert rec.runs == {1: 1}
    configurable = rec.configs[0]["configurable"]
    assert configurable["thread_id"] == "t" and len(configurable["langmem_task_id"]) == 32


def test_newer_submission_replaces_a_pending_one_per_thread(store) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    executor = ReflectionExecutor(rec.runnable(), store=store)
    a1 = executor.submit({"n": "a1"}, thread_id="a", after_seconds=0.5)  # type: ignore[arg-type]
    b1 = executor.submit({"n": "b1"}, thread_id="b", after_seconds=0.5)  # type: ignore[arg-type]
    a2 = executor.submit({"n": "a2"}, {"configurable": {"thread_id": "a"}}, after_seconds=0.5)  # type: ignore[arg-type]
    loose = [executor.submit({"n": f"x{i}"}, after_seconds=0.5) for i in range(3)]  # type: ignore[arg-type]
    assert a1.cancelled()
    report = executor.shutdown(wait=True)
    assert report.cancelled == () and report.kept == ()
    assert not b1.cancelled() and b1.result() == "b1" and a2.result() == "a2"
    assert [f.result() for f in loose] == ["x0", "x1", "x2"]  # no thread id: never replaced
    assert rec.runs == {"a2": 1, "b1": 1, "x0": 1, "x1": 1, "x2": 1}
    stats = executor.stats()
    assert (stats.done, stats.replaced, stats.pending, stats.running) == (5, 1, 0, 0)


def test_shutdown_wait_honours_after_seconds(store) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    executor = ReflectionExecutor(rec.runnable(), store=store)
    start = time.monotonic()
    future = executor.submit({"n": 1}, thread_id="t", after_seconds=1)  # type: ignore[arg-type]
    assert not rec.started.wait(0.5)  # not before it is due
    executor.shutdown(wait=True)
    assert time.monotonic() - start >= 1.0
    assert future.result() == 1
    with pytest.raises(ExecutorClosedError, match="after shutdown") as refused:
        executor.submit({"n": 2})
    # a LangMemError like every error langmem raises, and still the RuntimeError it was
    assert isinstance(refused.value, LangMemError) and isinstance(refused.value, RuntimeError)
    assert "new ReflectionExecutor" in str(refused.value)


def test_shutdown_without_wait_keeps_durable_work_and_cancels_memory_work(store) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    executor = ReflectionExecutor(rec.runnable(), store=store)
    future = executor.submit({"n": 1}, thread_id="t", after_seconds=30)  # type: ignore[arg-type]
    report = executor.shutdown(wait=False)
    assert future.cancelled() and rec.runs == {}
    if isinstance(store, SqliteStore):
        assert report.durable and len(report.kept) == 1 and report.cancelled == ()
        assert executor.stats().pending == 1
        again = LocalReflectionExecutor.with_options(rec.runnable(), store, poll_seconds=0.05)
        (task,) = again.queue.list(status="pending")
        again.queue.retry  # noqa: B018 - the same queue API the CLI uses
        assert task.id == report.kept[0] and task.payload == {"n": 1}
        again.shutdown(wait=False)
    else:
        assert not report.durable and len(report.cancelled) == 1 and report.kept == ()


def test_cancel_futures_cancels_what_has_not_started(store) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    executor = ReflectionExecutor(rec.runnable(), store=store)
    futures = [executor.submit({"n": i}, thread_id=str(i), after_seconds=5) for i in range(3)]  # type: ignore[arg-type]
    report = executor.shutdown(wait=True, cancel_futures=True)
    assert len(report.cancelled) == 3 and all(f.cancelled() for f in futures)
    assert rec.runs == {}


def test_a_caller_cancelling_a_future_cancels_its_task(store) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder()
    executor = ReflectionExecutor(rec.runnable(), store=store)
    future = executor.submit({"n": 1}, thread_id="t", after_seconds=0.3)  # type: ignore[arg-type]
    assert future.cancel()
    executor.shutdown(wait=True)
    assert rec.runs == {} and executor.stats().cancelled == 1


def test_failures_are_retried_then_failed_then_rerun(store) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder(fail_times=2)
    executor = LocalReflectionExecutor.with_options(
        rec.runnable(), store, max_attempts=2, backoff_seconds=0.05, poll_seconds=0.05
    )
    failing = executor.submit({"n": "bad"}, thread_id="t1")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="model unavailable"):
        failing.result(timeout=10)
    stats = executor.stats()
    assert stats.failed == 1 and stats.failures[0].attempts == 2
    assert "RuntimeError: model unavailable" in (stats.failures[0].error or "")
    # other threads are not blocked by the failed one
    assert executor.submit({"n": "ok"}, thread_id="t2").result(timeout=10) == "ok"  # type: ignore[arg-type]
    assert executor.retry() == 1
    deadline = time.monotonic() + 10
    while executor.stats().done < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    executor.shutdown(wait=True)
    assert rec.runs == {"ok": 1, "bad": 1} and executor.stats().failed == 0


def test_a_retrying_task_gives_way_to_a_newer_submission(store) -> None:  # type: ignore[no-untyped-def]
    rec = Recorder(fail_times=1)
    executor = LocalReflectionExecutor.with_options(
        rec.runnable(), store, backoff_seconds=5.0, poll_seconds=0.05
    )
    first = executor.submit({"n": 1}, thread_id="t")  # type: ignore[arg-type]
    deadline = time.monotonic() + 10
    while executor.stats().last_errors == () and time.monotonic() < deadline:
        time.sleep(0.01)
    second = executor.submit({"n": 2}, thread_id="t")  # type: ignore[arg-type]
    assert second.result(timeout=10) == 2
    with pytest.raises(TaskReplacedError):
        first.result(timeout=10)
    executor.shutdown()
    assert rec.runs == {2: 1}


def test_configuration_errors_are_not_retried(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", index=index())  # type: ignore[arg-type]
    manager = create_memory_store_manager(tea_model(), store=store)
    with ReflectionExecutor(manager, store=store) as executor:
        future = executor.submit({"messages": [{"role": "user", "content": "hi"}]}, thread_id="t")  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="langgraph_user_id"):
            future.result(timeout=10)
        assert executor.stats().failures[0].attempts == 1


def test_bad_arguments_are_explained(tmp_path: Path) -> None:
    rec = Recorder()
    store = SqliteStore(tmp_path / "s.sqlite")
    with ReflectionExecutor(rec.runnable(), store=store) as executor:
        with pytest.raises(InvalidInputError, match="after_seconds"):
            executor.submit({"n": 1}, after_seconds=-1)
        with pytest.raises(InvalidInputError, match="thread_id"):
            executor.submit({"n": 1}, thread_id=[1])  # type: ignore[arg-type]
        with pytest.raises(InvalidInputError, match=r"payload\['x'\]"):
            executor.submit({"x": object()})
    with pytest.raises(ConfigurationError, match="runnable"):
        ReflectionExecutor(42, store=store)  # type: ignore[arg-type]
    # a plain function is fine: it is wrapped as a runnable
    with ReflectionExecutor(lambda payload: payload["n"] + 1, store=store) as plain:  # type: ignore[arg-type]
        assert plain.submit({"n": 1}).result(timeout=10) == 2
    with pytest.raises(ConfigurationError, match="namespace"):
        ReflectionExecutor("graph-name")
    with pytest.raises(ConfigurationError, match="durable=True"):
        LocalReflectionExecutor.with_options(rec.runnable(), InMemoryStore(), durable=True)
    with pytest.raises(ConfigurationError, match="max_attempts"):
        LocalReflectionExecutor.with_options(rec.runnable(), InMemoryStore(), max_attempts=0)


def test_memories_land_and_search_finds_them_sync_and_async(store) -> None:  # type: ignore[no-untyped-def]
    manager = create_memory_store_manager(tea_model(), store=store)
    with ReflectionExecutor(manager, store=store) as executor:
        convo = {"messages": [{"role": "user", "content": "I drink green tea"}]}
        executor.submit(convo, USER).result(timeout=30)
        hits = executor.search("tea", namespace=("memories", "u1"))
        ahits = asyncio.run(executor.asearch("tea", namespace=("memories", "u1")))
        assert [h["key"] for h in hits] == [h["key"] for h in ahits] and len(hits) == 1
        assert hits[0]["value"]["content"] == {"content": "Drinks green tea"}
        assert hits[0]["namespace"] == ["memories", "u1"] and hits[0]["score"] is not None
        # without a namespace: the manager's template, filled up to its first placeholder
        assert [h["key"] for h in executor.search()] == [hits[0]["key"]]
