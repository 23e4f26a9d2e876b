"""An undo that matches no recorded change says so (a UserWarning naming the id and the likely
cause) instead of returning an empty report that reads like success; a run id given to a graph
as configurable['run_id'] is recorded and undoes the run."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import pytest
from langchain.agents import create_agent
from langgraph.store.memory import InMemoryStore

from langmem import History, create_manage_memory_tool
from langmem.testing import ScriptedChatModel, ai_tool_calls


@dataclass
class Ctx:
    user_id: str


def _agent(store: InMemoryStore, *replies: object) -> object:
    model = ScriptedChatModel(responses=[*replies, "done"])  # type: ignore[list-item]
    tool = create_manage_memory_tool(("memories", "{user_id}"))
    return create_agent(model, tools=[tool], context_schema=Ctx, store=store)


def test_an_unknown_run_id_warns_and_changes_nothing() -> None:
    store = InMemoryStore()
    history = History(store)
    with pytest.warns(UserWarning, match=r"no recorded change with run_id='nope'.*configurable"):
        report = history.undo_run("nope")
    assert report["restored"] == [] and report["conflicts"] == []
    with pytest.warns(UserWarning, match=r"thread_id='t-9'"):
        asyncio.run(history.aundo_thread("t-9"))


def test_a_run_id_passed_as_configurable_undoes_the_agents_turn() -> None:
    store = InMemoryStore()
    setup = _agent(store, ai_tool_calls(("manage_memory", {"content": "likes tea"})))
    setup.invoke({"messages": [("user", "hi")]}, context=Ctx("ana"))  # type: ignore[attr-defined]
    (item,) = store.search(("memories", "ana"))
    run = str(uuid.uuid4())
    poison = _agent(
        store,
        ai_tool_calls(("manage_memory", {"action": "update", "id": item.key, "content": "x"})),
    )
    poison.invoke(  # type: ignore[attr-defined]
        {"messages": [("user", "poison")]}, {"configurable": {"run_id": run}}, context=Ctx("ana")
    )
    report = History(store).undo_run(run)
    assert [r["key"] for r in report["restored"]] == [item.key]
    assert store.get(("memories", "ana"), item.key).value == {"content": "likes tea"}  # type: ignore[union-attr]
