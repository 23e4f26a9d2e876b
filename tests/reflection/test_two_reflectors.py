"""Two executors of different reflectors on one store (a semantic and an episodic manager on the
default store, as upstream code builds them) run their own tasks only. Before, both used the
queue "reflection": each ran the other's tasks, and the second submission for a conversation
cancelled the first executor's pending task, so one manager never ran."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda

from langmem import ReflectionExecutor, create_memory_store_manager
from langmem.errors import ConfigurationError
from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings, ScriptedChatModel

RUNS: list[tuple[str, str]] = []
LOCK = threading.Lock()


def semantic(payload: dict[str, Any]) -> str:
    with LOCK:
        RUNS.append(("semantic", payload["for"]))
    return "semantic"


def episodic(payload: dict[str, Any]) -> str:
    with LOCK:
        RUNS.append(("episodic", payload["for"]))
    return "episodic"


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    RUNS.clear()
    return SqliteStore(tmp_path / "m.sqlite", index={"dims": 16, "embed": HashingEmbeddings(16)})


def _wait(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_both_run_their_own_task_for_one_conversation(store: SqliteStore) -> None:
    one = ReflectionExecutor(RunnableLambda(semantic), store=store)
    two = ReflectionExecutor(RunnableLambda(episodic), store=store)
    config = {"configurable": {"thread_id": "conv-1"}}
    first = one.submit({"for": "semantic"}, config, after_seconds=0.2)
    second = two.submit({"for": "episodic"}, config, after_seconds=0.2)
    assert first.result(timeout=30) == "semantic" and second.result(timeout=30) == "episodic"
    assert sorted(RUNS) == [("episodic", "episodic"), ("semantic", "semantic")]
    one.shutdown(wait=True)
    two.shutdown(wait=True)


def test_neither_runs_the_other_s_tasks(store: SqliteStore) -> None:
    one = LocalReflectionExecutor.with_options(RunnableLambda(semantic), store, workers=2)
    two = LocalReflectionExecutor.with_options(RunnableLambda(episodic), store, workers=2)
    futures = []
    for n in range(8):
        futures.append(one.submit({"for": "semantic"}, thread_id=f"s{n}"))
        futures.append(two.submit({"for": "episodic"}, thread_id=f"e{n}"))
    for future in futures:
        future.result(timeout=30)
    assert len(RUNS) == 16 and all(ran == wanted for ran, wanted in RUNS)
    one.shutdown(wait=True)
    two.shutdown(wait=True)


def test_the_next_executor_of_the_same_reflector_runs_what_was_left(store: SqliteStore) -> None:
    first = ReflectionExecutor(RunnableLambda(semantic), store=store)
    first.submit({"for": "semantic"}, thread_id="t", after_seconds=0.3)
    assert first.shutdown(wait=False).kept  # stays queued, as in a process that died
    other = LocalReflectionExecutor.with_options(RunnableLambda(episodic), store, poll_seconds=0.05)
    time.sleep(0.8)
    assert RUNS == []  # another reflector's executor leaves it alone
    again = LocalReflectionExecutor.with_options(RunnableLambda(semantic), store, poll_seconds=0.05)
    _wait(lambda: bool(RUNS))
    assert RUNS == [("semantic", "semantic")]
    for executor in (other, again):
        executor.shutdown(wait=True)


def test_managers_of_different_namespaces_get_different_queues(store: SqliteStore) -> None:
    model = ScriptedChatModel(default="nothing to note")

    def manager(namespace: tuple[str, ...]) -> Any:
        return create_memory_store_manager(model, namespace=namespace, store=store)

    names = {
        ns: ReflectionExecutor(manager(ns), store=store)
        for ns in [("semantic", "{langgraph_user_id}"), ("episodes", "{langgraph_user_id}")]
    }
    queues = {ns: ex.options.queue for ns, ex in names.items()}
    assert len(set(queues.values())) == 2
    assert all(str(q).startswith("reflection-") for q in queues.values())
    rebuilt = ReflectionExecutor(manager(("semantic", "{langgraph_user_id}")), store=store)
    assert rebuilt.options.queue == queues[("semantic", "{langgraph_user_id}")]  # a restart
    for executor in [*names.values(), rebuilt]:
        executor.shutdown(wait=True)


def test_a_named_queue_is_kept_and_a_blank_one_refused(store: SqliteStore) -> None:
    named = LocalReflectionExecutor.with_options(RunnableLambda(semantic), store, queue="mine")
    assert named.options.queue == "mine"
    named.shutdown(wait=True)
    with pytest.raises(ConfigurationError, match="queue=' '"):
        LocalReflectionExecutor.with_options(RunnableLambda(semantic), store, queue=" ")


def test_tasks_left_in_the_old_default_queue_are_reported_and_can_be_drained(
    store: SqliteStore,
) -> None:
    # what an earlier langmem left queued: its default queue was the fixed "reflection"
    old = LocalReflectionExecutor.with_options(RunnableLambda(semantic), store, queue="reflection")
    old.submit({"for": "semantic"}, thread_id="t", after_seconds=0.3)
    assert old.shutdown(wait=False).kept
    with pytest.warns(UserWarning, match=r"1 in 'reflection'") as caught:
        upgraded = ReflectionExecutor(RunnableLambda(semantic), store=store)
    assert "queue='reflection'" in str(caught[0].message)
    upgraded.shutdown(wait=True)
    assert RUNS == []  # the default queue does not claim them ...
    drain = LocalReflectionExecutor.with_options(
        RunnableLambda(semantic), store, queue="reflection"
    )
    _wait(lambda: RUNS == [("semantic", "semantic")])
    drain.shutdown(wait=True)
    assert RUNS == [("semantic", "semantic")]  # ... the named queue does
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is left: no warning any more
        ReflectionExecutor(RunnableLambda(semantic), store=store).shutdown(wait=True)


def test_tasks_of_the_same_reflector_under_an_older_digest_are_reported(
    store: SqliteStore,
) -> None:
    mine = ReflectionExecutor(RunnableLambda(semantic), store=store)
    name = mine.queue_name
    mine.shutdown(wait=True)
    moved = name.rsplit("-", 1)[0] + "-0000000000"  # the reflector's code moved since
    old = LocalReflectionExecutor.with_options(RunnableLambda(semantic), store, queue=moved)
    old.submit({"for": "semantic"}, thread_id="t", after_seconds=5)
    assert old.shutdown(wait=False).kept
    with pytest.warns(UserWarning, match=f"1 in '{moved}'"):
        ReflectionExecutor(RunnableLambda(semantic), store=store).shutdown(wait=True)
    with warnings.catch_warnings():  # another reflector's queue is none of its business
        warnings.simplefilter("error")
        ReflectionExecutor(RunnableLambda(episodic), store=store).shutdown(wait=True)
