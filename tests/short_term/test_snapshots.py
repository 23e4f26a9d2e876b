"""The exact text the summarizing model receives, and the summary message the agent receives.

Snapshots live in ``snapshots/``; after a deliberate prompt change, regenerate them with
``LANGMEM_UPDATE_SNAPSHOTS=1 pytest tests/short_term/test_snapshots.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from langmem.short_term import summarize_messages
from langmem.testing import ScriptedChatModel

SNAPSHOTS = Path(__file__).with_name("snapshots")


def render(messages: list[BaseMessage]) -> str:
    return "\n".join(f"--- {m.type} (id={m.id})\n{m.content}" for m in messages) + "\n"


def conversation() -> list[Any]:
    return [
        SystemMessage("You are a travel assistant.", id="sys"),
        HumanMessage("I am Ada. Find me a train from Lyon to Turin on May 3.", id="h1"),
        AIMessage(
            "",
            id="a1",
            tool_calls=[
                {"name": "trains", "args": {"from": "Lyon", "to": "Turin"}, "id": "call_1"},
                {"name": "prices", "args": {"route": "LYS-TRN"}, "id": "call_2"},
            ],
        ),
        ToolMessage("08:12 direct, 4h10; 14:40 one change", tool_call_id="call_1", id="t1"),
        ToolMessage("from 39 EUR", name="prices", tool_call_id="call_2", id="t2"),
        AIMessage("The 08:12 is direct and costs from 39 EUR.", id="a2"),
        HumanMessage([{"type": "text", "text": "Book it, window seat please."}], id="h2"),
        AIMessage("Booked: seat 41, window.", id="a3"),
        HumanMessage("Thanks! Anything to see in Turin?", id="h3"),
    ]


def check(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("LANGMEM_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; see the module docstring"


@pytest.fixture
def runs() -> tuple[ScriptedChatModel, Any, Any]:
    model = ScriptedChatModel(
        responses=["Ada booked the 08:12 Lyon-Turin train, seat 41.", "Ada asked about Turin."]
    )
    settings: dict[str, Any] = {"model": model, "max_tokens": 140, "max_summary_tokens": 30}
    first = summarize_messages(conversation(), running_summary=None, **settings)
    grown = [
        *conversation(),
        AIMessage("The Egyptian Museum and the Mole Antonelliana. " * 3, id="a4"),
        HumanMessage("Which one opens earlier?", id="h4"),
    ]
    second = summarize_messages(grown, running_summary=first.running_summary, **settings)
    return model, first, second


def test_first_summary_request(runs: Any) -> None:
    model, _, _ = runs
    check("initial_request.txt", render(model.requests[0].messages))


def test_extending_request(runs: Any) -> None:
    model, _, _ = runs
    assert model.calls == 2
    check("existing_request.txt", render(model.requests[1].messages))


def test_output_with_summary(runs: Any) -> None:
    _, first, second = runs
    check("output_first.txt", render(first.messages))
    check("output_second.txt", render(second.messages))
