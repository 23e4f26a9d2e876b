"""ReflectionExecutor on a PostgresStore: durable on the database, debounced, the memory written."""

from __future__ import annotations

from langmem import ReflectionExecutor, create_memory_store_manager
from langmem.reflection import LocalReflectionExecutor
from langmem.stores import PostgresStore
from tests.reflection._support import index, tea_model

CONVO = [{"role": "user", "content": "I drink green tea now."}]


def test_reflection_executor_runs_durably_on_postgres(pg_database: str) -> None:
    store = PostgresStore.from_url(pg_database, index=index())  # type: ignore[arg-type]
    try:
        manager = create_memory_store_manager(tea_model(), namespace=("memories", "u"))
        with ReflectionExecutor(manager, store=store) as executor:
            assert isinstance(executor, LocalReflectionExecutor) and executor.durable
            first = executor.submit({"messages": CONVO}, thread_id="t", after_seconds=0.5)  # type: ignore[arg-type]
            second = executor.submit({"messages": CONVO}, thread_id="t", after_seconds=0.5)  # type: ignore[arg-type]
            assert first.cancelled()
            second.result(timeout=30)
        stats = store.task_queue().stats()
        assert (stats.done, stats.replaced) == (1, 1)
        memories = store.search(("memories", "u"), query="tea")
        assert memories and "tea" in str(memories[0].value).lower()
    finally:
        store.close()


def test_an_error_text_postgres_cannot_hold_fails_the_task_not_the_worker(
    pg_database: str,
) -> None:
    import pytest
    from langchain_core.runnables import RunnableLambda

    def reflect(payload: dict[str, object]) -> object:
        if payload["n"] == "bad":
            raise ValueError("a NUL \x00 and half an emoji \ud83d")
        return payload["n"]

    store = PostgresStore.from_url(pg_database, index=index())  # type: ignore[arg-type]
    try:
        executor = LocalReflectionExecutor.with_options(
            RunnableLambda(reflect), store, workers=1, max_attempts=1
        )
        with pytest.raises(ValueError):
            executor.submit({"n": "bad"}, thread_id="a").result(timeout=30)
        # before: storing the error raised in the only worker thread, so this never ran
        assert executor.submit({"n": "ok"}, thread_id="b").result(timeout=30) == "ok"
        executor.shutdown(wait=True)
        error = executor.stats().failures[0].error
        assert error == "ValueError: a NUL \\x00 and half an emoji \\ud83d"
    finally:
        store.close()
