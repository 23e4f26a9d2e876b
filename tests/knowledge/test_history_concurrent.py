"""Concurrent recorded writes to one memory: each change records the value it actually replaced.

Every writer reads the memory, then writes it with its record. Writers that all read before any
of them wrote (forced here: the first read of each waits until every writer has read) used to
record "create" (or the same stale previous value) each, so undoing the last one deleted the
memory instead of restoring the value it replaced. Now the store checks, inside its write
transaction, that the memory is still what the writer read; when it is not, the writer's record
is rebuilt from what the store found and the write is sent again.

Checked on the embedded store (threads, asyncio tasks, two processes) and on PostgreSQL when a
test server is given; on other stores (LangGraph's InMemoryStore) within one process.
"""

from __future__ import annotations

import asyncio
import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore, GetOp, Item, SearchOp
from langgraph.store.memory import InMemoryStore

from langmem import (
    Guards,
    History,
    configure_trust,
    create_manage_memory_tool,
    create_memory_store_manager,
)
from langmem.errors import InvalidInputError, WriteConflictError
from langmem.knowledge._history import ChangeRecord
from langmem.stores import SqliteStore
from langmem.testing import ScriptedChatModel, ai_tool_calls

from .conftest import INDEX, PG_URL, _postgres_store

NS = ("memories", "race")
KEY = "k"
WRITERS = 6
WORKER = Path(__file__).with_name("_history_race_worker.py")


@pytest.fixture(params=["sqlite", "memory", *(["postgres"] if PG_URL else [])])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStore]:
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "m.db", index=INDEX) as sqlite:
            yield sqlite
    elif request.param == "memory":
        yield _Memory(index=INDEX)
    else:
        yield from _postgres_store()


class _Memory(InMemoryStore):
    """LangGraph's InMemoryStore, whose methods a test may replace (it has ``__slots__``)."""


def _reads_wait_for_each_other(store: BaseStore, writers: int, *, searches: bool = False) -> None:
    """Make each thread's first read of the memory (a get, or with ``searches`` a search)
    wait until ``writers`` threads have read it (so every writer reads before any writes: the
    race, every time)."""
    barrier = threading.Barrier(writers, timeout=30)
    seen = threading.local()
    batch = store.batch

    def reads(ops: list[Any]) -> bool:
        if searches:
            return all(isinstance(op, SearchOp) and op.namespace_prefix == NS for op in ops)
        return all(isinstance(op, GetOp) and op.key == KEY for op in ops)

    def gated(ops: Any) -> Any:
        ops = list(ops)
        result = batch(ops)
        if reads(ops) and not getattr(seen, "done", False):
            seen.done = True
            barrier.wait()
        return result

    store.batch = gated  # type: ignore[method-assign]


def _areads_wait_for_each_other(store: BaseStore, writers: int) -> None:
    """:func:`_reads_wait_for_each_other` for asyncio tasks (one event loop)."""
    state: dict[str, Any] = {"count": 0, "event": None, "done": set()}
    abatch = store.abatch

    async def gated(ops: Any) -> Any:
        ops = list(ops)
        result = await abatch(ops)
        task = asyncio.current_task()
        if all(isinstance(op, GetOp) and op.key == KEY for op in ops) and task not in state["done"]:
            state["done"].add(task)
            if state["event"] is None:
                state["event"] = asyncio.Event()
            state["count"] += 1
            if state["count"] == writers:
                state["event"].set()
            await asyncio.wait_for(state["event"].wait(), 30)
        return result

    store.abatch = gated  # type: ignore[method-assign]


def check_chain(records: list[ChangeRecord], final: Item | None) -> None:
    """One create, then updates, each recording as its previous value the value the change
    before it wrote; the memory holds the last one's value."""
    assert [r["op"] for r in records] == ["create"] + ["update"] * (len(records) - 1), records
    assert records[0]["previous"] is None
    for before, after in itertools.pairwise(records):
        assert after["previous"] == before["value"], (before, after)
    assert final is not None and final.value == records[-1]["value"]


def undo_each(store: BaseStore, records: list[ChangeRecord]) -> None:
    """Undo the runs newest first: each undo puts back the value its change replaced."""
    history = History(store)
    for record in reversed(records):
        report = history.undo_run(str(record["run_id"]))
        assert report["conflicts"] == []
        current = store.get(NS, KEY)
        assert (None if current is None else current.value) == record["previous"]


def race(
    store: BaseStore,
    write: Callable[[int], object],
    *,
    searches: bool = False,
    writers: int = WRITERS,
    threads: int | None = None,
) -> None:
    """``write(n)`` in ``threads`` threads (default: ``writers``), whose ``writers`` first
    reads wait for each other; then the store's reads as they were."""
    _reads_wait_for_each_other(store, writers, searches=searches)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            write(n)
        except BaseException as exc:  # reported below
            errors.append(exc)

    started = [threading.Thread(target=run, args=(n,)) for n in range(threads or writers)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(60)
    store.batch = type(store).batch.__get__(store)  # type: ignore[method-assign]
    assert errors == []


def check_records(store: BaseStore, count: int) -> None:
    records = History(store).history(NS, KEY)
    assert len(records) == count
    check_chain(records, store.get(NS, KEY))
    undo_each(store, records)


def test_threads_record_what_they_replaced(store: BaseStore) -> None:
    store.put(("other",), "warm", {"content": "-"})  # opens tables, starts pools
    history = History(store)
    race(store, lambda n: history.put(NS, KEY, {"content": f"value {n}"}))
    check_records(store, WRITERS)
    assert store.get(NS, KEY) is None


def test_tasks_record_what_they_replaced(store: BaseStore) -> None:
    store.put(("other",), "warm", {"content": "-"})
    history = History(store)

    async def main() -> None:
        _areads_wait_for_each_other(store, WRITERS)
        await asyncio.gather(
            *(history.aput(NS, KEY, {"content": f"value {n}"}) for n in range(WRITERS))
        )

    asyncio.run(main())
    store.abatch = type(store).abatch.__get__(store)  # type: ignore[method-assign]
    check_records(store, WRITERS)


def test_tool_updates_record_what_they_replaced(store: BaseStore) -> None:
    """The manage tool's update path."""
    tool = configure_trust(create_manage_memory_tool(NS, store=store), guards=Guards.off())
    History(store).put(NS, KEY, {"content": "value start"})
    race(store, lambda n: tool.invoke({"action": "update", "id": KEY, "content": f"value {n}"}))
    check_records(store, WRITERS + 1)


def test_store_manager_updates_record_what_they_replaced(store: BaseStore) -> None:
    """The memory store manager's write path: turns that all read the memory before any of
    them writes it."""
    History(store).put(NS, KEY, {"kind": "Memory", "content": {"content": "value start"}})

    def turn(n: int) -> None:
        update = ai_tool_calls(("update_memory", {"id": "m1", "content": f"value {n}"}))
        manager = create_memory_store_manager(
            ScriptedChatModel(responses=[update, "done"]), namespace=NS, store=store
        )
        manager.invoke({"messages": [{"role": "user", "content": f"now {n}"}]})

    race(store, turn, searches=True)
    check_records(store, WRITERS + 1)


def test_parallel_tool_calls_of_one_agent_reply(store: BaseStore) -> None:
    """As users meet it: an agent (LangChain's ``create_agent``) whose model updates one memory
    twice in one reply; LangGraph runs the two tool calls at once. The turn's records chain, and
    undoing the turn restores the memory as it was before it."""
    from langchain.agents import create_agent

    History(store).put(NS, KEY, {"content": "value start"})
    reply = ai_tool_calls(
        ("manage_memory", {"action": "update", "id": KEY, "content": "value a"}),
        ("manage_memory", {"action": "update", "id": KEY, "content": "value b"}),
    )
    tool = configure_trust(create_manage_memory_tool(NS), guards=Guards.off())
    agent = create_agent(ScriptedChatModel(responses=[reply, "done"]), tools=[tool], store=store)
    run = "turn-1"
    config: Any = {"configurable": {"run_id": run}}
    # one agent turn: its two tool calls are the two writers whose reads wait for each other
    race(
        store, lambda _: agent.invoke({"messages": [("user", "go")]}, config), writers=2, threads=1
    )
    records = History(store).history(NS, KEY)
    assert len(records) == 3
    check_chain(records, store.get(NS, KEY))
    History(store).undo_run(run)
    assert store.get(NS, KEY).value == {"content": "value start"}  # type: ignore[union-attr]


def test_two_processes_record_what_they_replaced(tmp_path: Path) -> None:
    """Two processes writing one memory of one SQLite file, each pausing between its read and
    its write (so their writes interleave)."""
    path = tmp_path / "m.db"
    SqliteStore(path, index=INDEX).close()
    writes = 8
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(path), name, str(writes)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
    with SqliteStore(path, index=INDEX) as store:
        records = History(store).history(NS, KEY)
        assert len(records) == 2 * writes
        check_chain(records, store.get(NS, KEY))
        undo_each(store, records)


def test_tool_patches_of_different_fields_both_stay(store: BaseStore) -> None:
    """Two structured updates (patches of different fields) whose reads both come before
    either write: the second one's value is computed again from what the first one left, so
    neither field's change is lost (it kept the stale value of the other field: Bergen went
    back to Oslo)."""
    tool = configure_trust(create_manage_memory_tool(NS, store=store), guards=Guards.off())
    start = {"kind": "Profile", "content": {"name": "Al", "city": "Oslo"}}
    History(store).put(NS, KEY, start)
    patches = ['{"name": "Alice"}', '{"city": "Bergen"}']  # JSON text, as models send it
    race(
        store,
        lambda n: tool.invoke({"action": "update", "id": KEY, "content": patches[n]}),
        writers=2,
    )
    final = store.get(NS, KEY)
    assert final is not None
    assert final.value["content"] == {"name": "Alice", "city": "Bergen"}
    check_records(store, 3)


def test_sync_and_async_writers_exclude_each_other() -> None:
    """On a store that cannot check in its own transaction (InMemoryStore), a sync writer
    (a thread) and an async one (a task) of one memory take the same lock: the one that
    checks second sees the other's write (each used a lock of its own kind, so both checks
    passed before either wrote, and both recorded "create")."""
    store = _Memory(index=INDEX)
    history = History(store)
    barrier = threading.Barrier(2, timeout=30)
    first = threading.local()
    batch, abatch = store.batch, store.abatch

    def kind(ops: list[Any]) -> str:
        if ops and all(isinstance(op, GetOp) and op.key == KEY for op in ops):
            return "probe" if ops[0].refresh_ttl is False else "read"
        return "other"

    def gated(ops: Any) -> Any:
        ops = list(ops)
        result = batch(ops)
        if kind(ops) == "read" and not getattr(first, "done", False):
            first.done = True
            barrier.wait()  # both writers read before either writes
        if kind(ops) == "probe":
            time.sleep(0.2)  # checked, not written yet: the other writer's window
        return result

    async def agated(ops: Any) -> Any:
        ops = list(ops)
        result = await abatch(ops)
        if kind(ops) == "read" and not getattr(first, "done", False):
            first.done = True
            await asyncio.to_thread(barrier.wait)
        if kind(ops) == "probe":
            await asyncio.sleep(0.2)
        return result

    store.batch, store.abatch = gated, agated  # type: ignore[method-assign]
    errors: list[BaseException] = []

    def run(write: Callable[[], object]) -> None:
        try:
            write()
        except BaseException as exc:  # reported below
            errors.append(exc)

    writers = [
        threading.Thread(target=run, args=(lambda: history.put(NS, KEY, {"content": "s"}),)),
        threading.Thread(
            target=run, args=(lambda: asyncio.run(history.aput(NS, KEY, {"content": "a"})),)
        ),
    ]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    store.batch, store.abatch = batch, abatch  # type: ignore[method-assign]
    assert errors == []
    check_records(store, 2)


def _outcomes(store: BaseStore, act: Callable[[], Any], writers: int = 2) -> list[Any]:
    """What ``act()`` returned or raised in each of ``writers`` threads whose reads of the
    memory wait for each other."""
    outcomes: list[Any] = []

    def write(_: int) -> None:
        try:
            outcomes.append(act())
        except Exception as exc:  # the outcome checked
            outcomes.append(exc)

    race(store, write, writers=writers)
    return outcomes


def test_concurrent_releases_one_wins_the_other_is_told(store: BaseStore) -> None:
    """Two releases of one quarantined memory at once: one releases it, the other is told it
    was released meanwhile (both succeeded; the second wrote a record of a no-op)."""
    history = History(store)
    store.put(("__langmem__", "quarantine", *NS), KEY, {"content": "x", "quarantine": {}})
    outcomes = _outcomes(store, lambda: history.release(NS, KEY))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1, outcomes
    assert isinstance(errors[0], InvalidInputError)
    assert "was released or discarded by another caller meanwhile" in str(errors[0])
    assert [r["op"] for r in history.history(NS, KEY)] == ["release"]
    assert store.get(NS, KEY).value == {"content": "x"}  # type: ignore[union-attr]
    assert history.quarantined(NS) == []


def test_concurrent_confirms_of_a_held_deletion(store: BaseStore) -> None:
    history = History(store)
    history.put(NS, KEY, {"content": "x"})
    tool = configure_trust(create_manage_memory_tool(NS, store=store), guards=Guards(max_deletes=0))
    tool.invoke({"action": "delete", "id": KEY})
    (held,) = history.held(NS)
    outcomes = _outcomes(store, lambda: history.confirm(NS, held.key))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and "was confirmed or discarded by another" in str(errors[0])
    assert store.get(NS, KEY) is None
    assert [r["op"] for r in history.history(NS, KEY)] == ["create", "delete", "confirm"]


def test_concurrent_undos_of_one_run(store: BaseStore) -> None:
    """Two undos of one run at once: the memory is put back once; the second undo finds it
    already as it would leave it (it reported "changed again after the undone run")."""
    history = History(store)
    history.put(NS, KEY, {"content": "before"})
    run = history.put(NS, KEY, {"content": "after"})["run_id"]
    reports = _outcomes(store, lambda: history.undo_run(str(run)))
    assert all(isinstance(r, dict) and r["conflicts"] == [] for r in reports), reports
    assert sorted(len(r["restored"]) for r in reports) == [0, 1]
    assert store.get(NS, KEY).value == {"content": "before"}  # type: ignore[union-attr]
    assert [r["op"] for r in history.history(NS, KEY)] == ["create", "update", "undo"]


def test_a_memory_that_keeps_changing_is_named_after_every_attempt() -> None:
    class Busy(InMemoryStore):
        """Another writer always changed the memory first."""

        def batch_expecting(self, ops: Any, expect: Any) -> Any:
            raise WriteConflictError(
                "changed after it was read",
                found={(tuple(e.namespace), e.key): None for e in expect},
            )

    store = Busy()
    with pytest.raises(WriteConflictError) as failed:
        History(store).put(NS, KEY, {"content": "x"})
    assert str(failed.value).startswith(
        f"memory {KEY!r} in {NS!r} kept changing through 64 attempts to write this change"
    )
    assert store.get(NS, KEY) is None


def test_store_manager_update_keeps_a_field_another_writer_added(store: BaseStore) -> None:
    """The store manager's update is the memory as read with new content: when another writer
    changed the memory between the manager's read and its write (here: added a field), the
    value is built again from what that writer left (the field was dropped)."""
    start = {"kind": "Memory", "content": {"content": "value start"}}
    History(store).put(NS, KEY, start)
    batch = store.batch
    done: list[bool] = []

    def meanwhile(ops: Any) -> Any:
        ops = list(ops)
        result = batch(ops)
        if not done and any(isinstance(op, SearchOp) for op in ops):  # the manager's read
            done.append(True)
            History(store).put(NS, KEY, {**start, "tag": "pinned"})
        return result

    store.batch = meanwhile  # type: ignore[method-assign]
    update = ai_tool_calls(("update_memory", {"id": "m1", "content": "value new"}))
    manager = create_memory_store_manager(
        ScriptedChatModel(responses=[update, "done"]), namespace=NS, store=store
    )
    manager.invoke({"messages": [{"role": "user", "content": "now"}]})
    store.batch = batch  # type: ignore[method-assign]
    final = store.get(NS, KEY)
    assert final is not None and done
    assert final.value["tag"] == "pinned"
    assert final.value["content"] == {"content": "value new"}
    check_chain(History(store).history(NS, KEY), final)


def test_tool_update_of_a_memory_deleted_meanwhile_is_an_unknown_id(store: BaseStore) -> None:
    """The manage tool's update whose memory another writer deleted between the tool's read
    and its write: the agent is told the id is unknown (nothing recreated)."""
    History(store).put(NS, KEY, {"content": "value start"})
    tool = configure_trust(create_manage_memory_tool(NS, store=store), guards=Guards.off())
    batch = store.batch
    done: list[bool] = []

    def meanwhile(ops: Any) -> Any:
        ops = list(ops)
        result = batch(ops)
        read = [op for op in ops if isinstance(op, GetOp) and op.refresh_ttl is not False]
        if not done and read:
            done.append(True)
            History(store).delete(NS, KEY)
        return result

    store.batch = meanwhile  # type: ignore[method-assign]
    answer = tool.invoke({"action": "update", "id": KEY, "content": "value new"})
    store.batch = batch  # type: ignore[method-assign]
    assert answer.startswith(f"No memory with id {KEY} exists here, so it cannot be updated.")
    assert store.get(NS, KEY) is None
    assert [r["op"] for r in History(store).history(NS, KEY)] == ["create", "delete"]


def test_restore_to_a_deletion_that_another_writer_made_meanwhile(store: BaseStore) -> None:
    """A restore to a deleted state, whose memory another writer deletes between the restore's
    read and its write: nothing is left to write, and the restore answers with the memory's
    newest record (it raised, looking for a record it never wrote)."""
    history = History(store)
    history.put(NS, KEY, {"content": "value one"})
    deleted = history.delete(NS, KEY)
    assert deleted is not None
    history.put(NS, KEY, {"content": "value two"})
    batch = store.batch
    done: list[bool] = []

    def meanwhile(ops: Any) -> Any:
        ops = list(ops)
        result = batch(ops)
        read = [o for o in ops if isinstance(o, GetOp) and (o.namespace, o.key) == (NS, KEY)]
        if not done and read:
            done.append(True)
            History(store).delete(NS, KEY)
        return result

    store.batch = meanwhile  # type: ignore[method-assign]
    try:
        record = history.restore(NS, KEY, deleted["change_id"])
    finally:
        store.batch = batch  # type: ignore[method-assign]
    assert done and store.get(NS, KEY) is None
    ops = [r["op"] for r in history.history(NS, KEY)]
    assert ops == ["create", "delete", "create", "delete"]
    assert record == history.history(NS, KEY)[-1]


def test_must_exist_takes_only_none_or_a_bool(store: BaseStore) -> None:
    for wrong in ("yes", 1, 0):
        with pytest.raises(InvalidInputError, match=r"must_exist=.*fix: pass one of those"):
            History(store).put(NS, KEY, {"content": "x"}, must_exist=wrong)  # type: ignore[arg-type]
    assert store.get(NS, KEY) is None
