"""`History.search(as_of=...)` finds a memory at every moment around a change: the old value
ended at the change's time, but the new one only counted from the store's updated_at, stamped
after embedding it, so a moment in between (0.5 ms on SQLite, the embedder's whole latency
with a remote one) found neither."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from langchain_core.embeddings import Embeddings

from langmem import History, create_memory_store_manager
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls

NS = ("memories", "ana")


class SlowEmbeddings(Embeddings):
    """A remote embedder: 0.3 s per batch of documents."""

    def __init__(self) -> None:
        self.inner = HashingEmbeddings(16)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        time.sleep(0.3)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def test_a_moment_during_the_change_finds_the_new_value(tmp_path: Path) -> None:
    index = {"dims": 16, "embed": SlowEmbeddings(), "fields": ["$"]}
    store = SqliteStore(tmp_path / "m.sqlite", index=index)  # type: ignore[arg-type]
    store.put(NS, "city", {"kind": "Memory", "content": {"content": "lives in Porto"}})
    model = ScriptedChatModel(
        responses=[
            ai_tool_calls(("update_memory", {"id": "m1", "content": "lives in Lisbon"})),
            "ok",
        ]
    )
    manager = create_memory_store_manager(model, namespace=("memories", "{user_id}"), store=store)
    manager.invoke(
        {"messages": [{"role": "user", "content": "I moved"}]}, {"configurable": {"user_id": "ana"}}
    )
    history = History(store)
    assert history.search(NS, "city", as_of=0) == []  # before anything: nothing (and indexes)
    (archived,) = store.search(("__langmem__", "archive", *NS))
    began, ended = (dt.datetime.fromisoformat(t).timestamp() for t in archived.key.split("@")[1:])
    written = store.get(NS, "city").updated_at.timestamp()  # type: ignore[union-attr]
    assert written - ended > 0.2  # the embedder's latency lies between the two
    for moment, expected in [
        ((began + ended) / 2, "lives in Porto"),
        (ended + 0.01, "lives in Lisbon"),
        ((ended + written) / 2, "lives in Lisbon"),
        (written + 0.01, "lives in Lisbon"),
    ]:
        found = history.search(NS, "city", as_of=moment)
        assert [i.value["content"]["content"] for i in found] == [expected], moment
    store.close()


def test_a_memory_recreated_after_its_deletion_is_not_current_in_between() -> None:
    from langgraph.store.memory import InMemoryStore

    store = InMemoryStore()
    history = History(store)
    history.put(NS, "k", {"content": "first"})
    history.delete(NS, "k", supersede=True)
    gone = time.time()
    time.sleep(0.05)
    history.put(NS, "k", {"content": "second"})
    assert history.search(NS, None, as_of=gone + 0.01) == []
