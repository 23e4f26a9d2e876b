"""Concurrent "as of" searches on PostgreSQL all answer: each first moves the superseded facts
written since into the archive, so they moved the same rows at once and PostgreSQL picked some
of them as deadlock victims (DeadlockDetected reached the caller). The move is retried; what
the winner moved is no longer pending."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from langmem import History, create_memory_store_manager
from langmem.stores import PostgresStore
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls

NS = ("memories", "ana")


@pytest.fixture()
def store(pg_database: str) -> Iterator[PostgresStore]:
    index = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]}
    with PostgresStore.from_url(pg_database, index=index) as made:  # type: ignore[arg-type]
        made.setup()
        yield made


def test_concurrent_as_of_searches_all_answer(store: PostgresStore) -> None:
    store.put(NS, "k", {"kind": "Memory", "content": {"content": "value 0"}})
    for n in range(1, 15):  # 14 superseded values waiting to be moved
        update = ai_tool_calls(("update_memory", {"id": "m1", "content": f"value {n}"}))
        manager = create_memory_store_manager(
            ScriptedChatModel(responses=[update, "done"]),
            namespace=("memories", "{user_id}"),
            store=store,
        )
        manager.invoke(
            {"messages": [{"role": "user", "content": f"now {n}"}]},
            {"configurable": {"user_id": "ana"}},
        )
    history = History(store)

    async def searches() -> list[object]:
        now = time.time()
        calls = [history.asearch(NS, "value", as_of=now) for _ in range(10)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = asyncio.run(searches())
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert all([i.value["content"]["content"] for i in r] == ["value 14"] for r in results)  # type: ignore[attr-defined]
    archived = store.search(("__langmem__", "archive", *NS), limit=100)
    assert len(archived) == 14 and store.search(("__langmem__", "superseded", *NS)) == []
