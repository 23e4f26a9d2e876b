"""Snapshots of the exact prompts and tool schemas the extraction runnables send.

Every token here is paid on every call, so changes must show up in review: a test fails when the
text changes. Regenerate after a deliberate change with
``LANGMEM_UPDATE_SNAPSHOTS=1 pytest tests/knowledge/test_extraction_snapshots.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from langgraph.func import entrypoint
from pydantic import BaseModel, Field

from langmem import (
    create_memory_manager,
    create_memory_searcher,
    create_memory_store_manager,
    create_thread_extractor,
)
from langmem.knowledge.extraction import Memory
from langmem.testing import RecordedRequest, ScriptedChatModel, ai_tool_calls
from tests.knowledge._support import CFG, CONVO, NS, RecordingStore

SNAPSHOTS = Path(__file__).with_name("snapshots")


def render(requests: list[RecordedRequest]) -> str:
    blocks = []
    for number, request in enumerate(requests, 1):
        lines = [f"=== request {number}: ~{request.approx_tokens()} tokens"]
        for message in request.messages:
            status = getattr(message, "status", "success")
            label = message.type if status == "success" else f"{message.type} ({status})"
            lines.append(f"--- {label}")
            if message.content:
                lines.append(str(message.content))
            for call in getattr(message, "tool_calls", None) or []:
                lines.append(f"[call {call['name']} {json.dumps(call['args'])}]")
        lines.append(f"--- tools (tool_choice={request.tool_choice!r})")
        lines.append(json.dumps(request.tools, indent=1))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def check(name: str, requests: list[RecordedRequest]) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    text = render(requests)
    if os.environ.get("LANGMEM_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"missing snapshot {path}: run with LANGMEM_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"{path.name} changed (see the module docstring)"


class Preference(BaseModel):
    """A preference the user stated or showed."""

    category: str = Field(description="e.g. food, tools, style")
    preference: str


class Person(BaseModel):
    name: str
    relation: str


def test_memory_manager_default_schema_with_deletes_and_steps() -> None:
    model = ScriptedChatModel(
        responses=[
            ai_tool_calls(
                ("Memory", {"content": "Drinks green tea, not coffee, since last month"}),
                ("delete_memory", {"id": "m2"}),
            ),
            ai_tool_calls(("done", {})),
        ]
    )
    manager = create_memory_manager(model, enable_deletes=True)
    manager.invoke(
        {
            "messages": CONVO,
            "existing": [
                ("a", Memory(content="Drinks two coffees every morning")),
                ("b", Memory(content="Dislikes tea")),
            ],
            "max_steps": 2,
        }
    )
    check("memory_manager_default", model.requests)


def test_memory_manager_several_schemas() -> None:
    model = ScriptedChatModel(responses=["Nothing to change."])
    manager = create_memory_manager(model, schemas=[Preference, Person])
    manager.invoke(
        {
            "messages": CONVO,
            "existing": [
                ("p", Preference(category="drinks", preference="coffee")),
                ("q", Person(name="Ana", relation="sister")),
            ],
            "max_steps": 1,
        }
    )
    check("memory_manager_schemas", model.requests)


def test_memory_manager_correction_round() -> None:
    model = ScriptedChatModel(
        responses=[
            ai_tool_calls(("update_memory", {"id": "m7", "patch": {"content": "x"}})),
            "Nothing else.",
        ]
    )
    create_memory_manager(model).invoke(
        {"messages": CONVO, "existing": ["Drinks coffee"], "max_steps": 1}
    )
    check("memory_manager_correction", model.requests[1:])


def test_store_manager_turn_with_query_model() -> None:
    store = RecordingStore()
    for key, fact in {"k1": "Drinks two coffees every morning", "k2": "Lives in Lisbon"}.items():
        store.inner.put(NS, key, {"kind": "Memory", "content": {"content": fact}})
    query_model = ScriptedChatModel(
        responses=[ai_tool_calls(("search_memory", {"queries": ["morning drinks"]}))]
    )
    model = ScriptedChatModel(responses=["Nothing to change."])
    manager = create_memory_store_manager(
        model, query_model=query_model, store=store, query_limit=1
    )
    manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
    check("store_manager_query", query_model.requests)
    check("store_manager_turn", model.requests)


def test_searcher_and_thread_extractor() -> None:
    model = ScriptedChatModel(responses=[ai_tool_calls(("search_memory", {"queries": ["tea"]}))])
    searcher = create_memory_searcher(model)
    store = RecordingStore()

    @entrypoint(store=store)
    def find(messages: list[Any]) -> list[Any]:
        return searcher.invoke({"messages": messages})

    find.invoke(CONVO, CFG)
    check("searcher", model.requests)

    model = ScriptedChatModel(
        responses=[ai_tool_calls(("SummarizeThread", {"title": "t", "summary": "s"}))]
    )
    create_thread_extractor(model).invoke({"messages": CONVO})  # type: ignore[arg-type]
    check("thread_extractor", model.requests)


@pytest.mark.parametrize("existing", [0, 10])
def test_request_size_grows_by_the_memory_text_only(existing: int) -> None:
    """Each existing memory costs its own text plus a few characters (``mNN: `` and newline)."""
    fact = "User fact {i}: enjoys long hikes on the trails near the lake."
    model = ScriptedChatModel(responses=["ok"])
    create_memory_manager(model).invoke(
        {
            "messages": CONVO,
            "existing": [(str(i), Memory(content=fact.format(i=i))) for i in range(existing)],
            "max_steps": 1,
        }
    )
    empty = ScriptedChatModel(responses=["ok"])
    create_memory_manager(empty).invoke({"messages": CONVO, "max_steps": 1})
    extra = len(model.requests[0].text()) - len(empty.requests[0].text())
    texts = sum(len(fact.format(i=i)) for i in range(existing))
    overhead = extra - texts
    assert overhead <= 7 * existing + (len("<memories>\n\n</memories>") - len("none"))
