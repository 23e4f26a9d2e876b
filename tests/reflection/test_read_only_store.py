"""A memory store manager or ReflectionExecutor given a read-only store file fails at once,
clearly, before any model call, with the file unchanged (and nothing waits or hangs)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage

from langmem import ReflectionExecutor, create_memory_store_manager
from langmem.errors import StoreFileError
from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from langmem.tasks import MemoryTaskQueue
from langmem.testing import HashingEmbeddings, ScriptedChatModel

CONVERSATION = {"messages": [{"role": "user", "content": "I like coffee"}]}


def _reply() -> AIMessage:
    call = {"name": "Memory", "args": {"content": "likes coffee"}, "id": "c1"}
    return AIMessage(content="", tool_calls=[call])


@pytest.fixture()
def read_only(tmp_path: Path) -> SqliteStore:
    path = tmp_path / "memories.sqlite"
    with SqliteStore(path, index={"embed": HashingEmbeddings(dims=64), "dims": 64}) as store:
        store.put(("memories",), "1", {"content": "likes tea"})
    return SqliteStore(path, read_only=True)


def _digest(store: SqliteStore) -> str:
    return hashlib.sha256(Path(store.path).read_bytes()).hexdigest()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_store_manager_refuses_before_calling_its_model(
    read_only: SqliteStore, mode: str
) -> None:
    model = ScriptedChatModel(default=_reply())
    manager = create_memory_store_manager(model, namespace=("memories",), store=read_only)
    before = _digest(read_only)
    with pytest.raises(StoreFileError) as caught:
        if mode == "sync":
            manager.invoke(CONVERSATION)
        else:
            asyncio.run(manager.ainvoke(CONVERSATION))
    message = str(caught.value)
    assert message.startswith("The memory store manager did not call its model")
    assert "read-only" in message and "Fix: open it without read_only=True" in message
    assert model.calls == 0
    assert _digest(read_only) == before
    assert [item.key for item in read_only.search(("memories",))] == ["1"]


def test_a_reflection_executor_on_a_read_only_store_is_refused_when_made(
    read_only: SqliteStore,
) -> None:
    model = ScriptedChatModel(default=_reply())
    manager = create_memory_store_manager(model, namespace=("memories",), store=read_only)
    for made in (
        lambda: ReflectionExecutor(manager),  # the manager's own store
        lambda: ReflectionExecutor(manager, store=read_only),
    ):
        with pytest.raises(StoreFileError) as caught:
            made()
        message = str(caught.value)
        assert repr(read_only.path) in message and "open read-only" in message
        assert "task_queue=SqliteTaskQueue(path)" in message
    assert model.calls == 0


def test_a_reflector_writing_elsewhere_may_keep_its_tasks_in_a_queue_it_gives(
    read_only: SqliteStore,
) -> None:
    seen: list[int] = []
    with LocalReflectionExecutor.with_options(
        lambda payload: seen.append(payload["n"]), read_only, task_queue=MemoryTaskQueue()
    ) as executor:
        executor.submit({"n": 1}, thread_id="t").result(timeout=10)
    assert seen == [1]
