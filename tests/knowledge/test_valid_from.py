"""When a superseded value became current (``valid_from``, in its archive key) follows one rule
in every writer, first attempt and retry alike: the value's own ``updated_at`` (the store
manager's, stamped as it makes the change, before the store stamps the item) when it is a time
no later than the item's, else the item's ``updated_at``."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from langmem import History, configure_trust, create_manage_memory_tool, create_memory_store_manager
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls

NS = ("memories",)


def _archived(store: Any) -> dict[str, tuple[str, str]]:
    """Each archived value's content -> (valid_from, invalid_from)."""
    History(store).search(NS, None, as_of=0)  # moves superseded values into the archive
    found = {}
    for item in store.search(("__langmem__", "archive", *NS), limit=100):
        _, since, until = item.key.rsplit("@", 2)
        found[str(item.value.get("content"))] = (since, until)
    return found


def _another_writer_first(monkeypatch: pytest.MonkeyPatch, act: Any, times: int = 1) -> None:
    """Before the next ``times`` checked writes to a SqliteStore, ``act()`` writes first."""
    real = SqliteStore.batch_expecting
    left, acting = [times], [False]

    def racing(self: SqliteStore, ops: Any, expect: Any) -> Any:
        if left[0] > 0 and not acting[0]:
            left[0] -= 1
            acting[0] = True
            try:
                act()
            finally:
                acting[0] = False
        return real(self, ops, expect)

    monkeypatch.setattr(SqliteStore, "batch_expecting", racing)


def test_a_retried_tool_update_dates_what_it_replaced_as_a_first_attempt_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore(tmp_path / "m.sqlite")
    tool = configure_trust(create_manage_memory_tool(NS, store=store), supersede=True)
    stamp = "2026-01-02T03:04:05+00:00"
    store.put(NS, "k", {"content": "first", "updated_at": stamp})
    # a first attempt: the replaced value dates from its own updated_at
    tool.invoke({"action": "update", "id": "k", "content": "second"})
    # a retry: another writer put "third" (its own updated_at) between the read and the write
    other = "2026-02-03T04:05:06+00:00"
    _another_writer_first(
        monkeypatch, lambda: store.put(NS, "k", {"content": "third", "updated_at": other})
    )
    assert tool.invoke({"action": "update", "id": "k", "content": "fourth"}) == "updated memory k"

    archived = _archived(store)
    assert archived["first"][0] == stamp
    assert archived["third"][0] == other
    assert store.get(NS, "k").value["content"] == "fourth"  # type: ignore[union-attr]
    store.close()


def test_a_retried_history_put_dates_what_it_replaced_as_a_first_attempt_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteStore(tmp_path / "m.sqlite")
    history = History(store)
    stamp = "2026-01-02T03:04:05+00:00"
    history.put(NS, "k", {"content": "first", "updated_at": stamp})
    history.delete(NS, "k", supersede=True)
    history.put(NS, "k", {"content": "second"})
    other = "2026-02-03T04:05:06+00:00"
    _another_writer_first(
        monkeypatch, lambda: store.put(NS, "k", {"content": "third", "updated_at": other})
    )
    history.delete(NS, "k", supersede=True)

    archived = _archived(store)
    assert archived["first"][0] == stamp
    assert archived["third"][0] == other
    store.close()


def test_a_value_whose_updated_at_is_not_a_time_is_dated_by_the_store(tmp_path: Path) -> None:
    """The tool took any ``updated_at`` text as the start: "as of" search then failed."""
    store = SqliteStore(tmp_path / "m.sqlite")
    tool = configure_trust(create_manage_memory_tool(NS, store=store), supersede=True)
    store.put(NS, "k", {"content": "first", "updated_at": "last week"})
    written = store.get(NS, "k").updated_at  # type: ignore[union-attr]
    tool.invoke({"action": "update", "id": "k", "content": "second"})

    assert _archived(store)["first"][0] == written.isoformat()
    found = History(store).search(NS, None, as_of=written.timestamp() + 0.000001)
    assert [i.value["content"] for i in found] == ["first"]
    store.close()


class SlowEmbeddings(Embeddings):
    """A remote embedder: 0.3 s per batch of documents."""

    def __init__(self) -> None:
        self.inner = HashingEmbeddings(16)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        time.sleep(0.3)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def test_a_superseded_value_is_current_from_the_change_that_made_it(tmp_path: Path) -> None:
    """The store manager's value counted only from the store's stamp, an embedding call after
    the change that made it current ended its predecessor: a moment in between found nothing."""
    index = {"dims": 16, "embed": SlowEmbeddings(), "fields": ["$"]}
    store = SqliteStore(tmp_path / "m.sqlite", index=index)  # type: ignore[arg-type]
    store.put(NS, "city", {"kind": "Memory", "content": {"content": "lives in Porto"}})
    model = ScriptedChatModel()
    for city in ("Lisbon", "Braga"):
        model.queue(ai_tool_calls(("update_memory", {"id": "m1", "content": f"lives in {city}"})))
    manager = create_memory_store_manager(model, namespace=NS, store=store)
    manager.invoke({"messages": [{"role": "user", "content": "city: I moved to Lisbon"}]})
    lisbon_written = store.get(NS, "city").updated_at.timestamp()  # type: ignore[union-attr]
    manager.invoke({"messages": [{"role": "user", "content": "city: and now to Braga"}]})

    archived = _archived(store)
    porto_ended = dt.datetime.fromisoformat(archived[str({"content": "lives in Porto"})][1])
    assert str({"content": "lives in Lisbon"}) in archived
    moment = (porto_ended.timestamp() + lisbon_written) / 2  # Lisbon embedded meanwhile
    assert lisbon_written - porto_ended.timestamp() > 0.2
    found = History(store).search(NS, "city", as_of=moment)
    assert [i.value["content"]["content"] for i in found] == ["lives in Lisbon"]
    store.close()
