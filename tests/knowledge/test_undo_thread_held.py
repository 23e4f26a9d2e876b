"""`undo_thread` drops the thread's held deletions, as docs/security.md says undo does: only
`undo_run` did, so after undoing a poisoned thread its held mass deletion still waited for
someone to confirm it (and the report said nothing was discarded)."""

from __future__ import annotations

import time

import pytest
from langgraph.store.memory import InMemoryStore

from langmem import History, create_manage_memory_tool

NS = ("memories", "ana")


def _config(run: str, thread: str) -> dict[str, dict[str, str]]:
    return {"configurable": {"user_id": "ana", "run_id": run, "thread_id": thread}}


def test_undo_thread_drops_its_held_deletions() -> None:
    store = InMemoryStore()
    tool = create_manage_memory_tool(("memories", "{user_id}"), store=store)
    ids = [
        tool.invoke({"content": f"fact {n}"}, _config("setup", "t0")).split()[-1] for n in "abcde"
    ]
    later = time.time()
    for key in ids:  # a poisoned turn: the first deletions applied, the rest held
        tool.invoke({"action": "delete", "id": key}, _config("bad", "t-bad"))
    history = History(store)
    held = sorted(item.value["key"] for item in history.held(NS))
    assert held and len(held) < len(ids)
    report = history.undo_thread("t-bad", since=later)
    assert sorted(d["key"] for d in report["discarded"]) == held
    assert {d["what"] for d in report["discarded"]} == {"held"}
    assert history.held(NS) == []
    assert sorted(i.value["content"] for i in store.search(NS)) == [f"fact {n}" for n in "abcde"]


def test_held_deletions_before_since_are_kept() -> None:
    store = InMemoryStore()
    tool = create_manage_memory_tool(("memories", "{user_id}"), store=store)
    ids = [
        tool.invoke({"content": f"fact {n}"}, _config("setup", "t0")).split()[-1] for n in "abcde"
    ]
    for key in ids:
        tool.invoke({"action": "delete", "id": key}, _config("bad", "t-bad"))
    with pytest.warns(UserWarning, match="nothing was undone"):
        report = History(store).undo_thread("t-bad", since=time.time() + 60)
    assert report["discarded"] == [] and len(History(store).held(NS)) == 3
