"""A node run again after ``interrupt()`` is the same step even when the resume carries a new
run id (LangGraph Platform gives each invocation its own; so may a caller, per invoke): its
repeated deletion answers as the first run did and is held once."""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore
from langgraph.types import Command, interrupt

from langmem import History, create_manage_memory_tool

NS = ("memories",)


def _config(run: str) -> Any:
    return {"configurable": {"thread_id": "t1"}, "metadata": {"run_id": run}}


class State(TypedDict):
    out: list[str]


def _graph(node: Any, store: BaseStore) -> Any:
    graph = StateGraph(State)
    graph.add_node("forget", node)
    graph.add_edge(START, "forget")
    graph.add_edge("forget", END)
    return graph.compile(checkpointer=InMemorySaver(), store=store)


def _ops(store: BaseStore) -> list[str]:
    return [change["op"] for change in History(store).changes(NS)]


def test_a_delete_repeated_under_a_new_run_id_answers_as_the_first_run(
    any_store: BaseStore,
) -> None:
    manage = create_manage_memory_tool(NS, store=any_store)
    key = manage.invoke({"content": "Prefers coffee"}).split()[-1]
    answers: list[str] = []

    def forget(state: State) -> dict[str, Any]:
        answers.append(manage.invoke({"action": "delete", "id": key}))
        interrupt("sure?")
        return {"out": answers[-1:]}

    app = _graph(forget, any_store)
    app.invoke({"out": []}, _config("run-1"))
    final = app.invoke(Command(resume="yes"), _config("run-2"))

    assert answers == [f"Deleted memory {key}"] * 2
    assert final["out"] == [f"Deleted memory {key}"]
    assert _ops(any_store) == ["create", "delete"]
    # a call outside that step does not take that deletion for its own
    again = manage.invoke({"action": "delete", "id": key})
    assert again.startswith(f"No memory with id {key} exists here")


def test_a_held_delete_repeated_under_a_new_run_id_is_held_once(any_store: BaseStore) -> None:
    manage = create_manage_memory_tool(NS, store=any_store)
    keys = [manage.invoke({"content": f"fact {n}"}).split()[-1] for n in range(10)]
    answers: list[str] = []

    def forget(state: State) -> dict[str, Any]:
        answers[:] = [manage.invoke({"action": "delete", "id": key}) for key in keys[:4]]
        interrupt("sure?")
        return {"out": answers}

    app = _graph(forget, any_store)
    app.invoke({"out": []}, _config("run-1"))
    first = list(answers)
    app.invoke(Command(resume="yes"), _config("run-2"))

    assert answers == first
    assert first[:3] == [f"Deleted memory {key}" for key in keys[:3]]
    assert first[3].startswith(f"Deletion of memory {keys[3]} was NOT applied: it is held ")
    assert [h.value["key"] for h in History(any_store).held(NS)] == [keys[3]]
    assert _ops(any_store) == ["create"] * 10 + ["delete"] * 4


async def test_an_async_delete_repeated_under_a_new_run_id_answers_as_the_first_run(
    any_store: BaseStore,
) -> None:
    manage = create_manage_memory_tool(NS, store=any_store)
    key = (await manage.ainvoke({"content": "Prefers coffee"})).split()[-1]

    async def forget(state: State) -> dict[str, Any]:
        answer = await manage.ainvoke({"action": "delete", "id": key})
        interrupt("sure?")
        return {"out": [answer]}

    app = _graph(forget, any_store)
    await app.ainvoke({"out": []}, _config("run-1"))
    final = await app.ainvoke(Command(resume="yes"), _config("run-2"))

    assert final["out"] == [f"Deleted memory {key}"]
    assert _ops(any_store) == ["create", "delete"]
