"""create_memory_store_manager checks phases and default_factory when it is built, not on the
first turn (where they failed with AttributeError / TypeError)."""

from __future__ import annotations

from typing import Any

import pytest

from langmem import create_memory_store_manager
from langmem.errors import ConfigurationError
from langmem.knowledge.extraction import MemoryPhase
from langmem.stores import open_store
from langmem.testing import ScriptedChatModel, ai_tool_calls

CONFIG: Any = {"configurable": {"langgraph_user_id": "ana", "thread_id": "t"}}


@pytest.mark.parametrize(
    ("phases", "named"),
    [
        ("merge", r"phases='merge' is not a list of phases"),
        ({"instructions": "merge"}, r"is not a list of phases"),
        (["merge"], r"phase 'merge' is not a MemoryPhase"),
        ([{"instruction": "merge"}], r"unknown: instruction"),
    ],
)
def test_phases_that_are_not_memory_phases_are_refused(phases: Any, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        create_memory_store_manager(ScriptedChatModel(default="done"), phases=phases)


def test_a_default_factory_that_is_not_callable_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"default_factory='profile' is not callable"):
        create_memory_store_manager(ScriptedChatModel(), default_factory="profile")  # type: ignore[arg-type]


def test_valid_phases_still_run_after_extraction() -> None:
    store = open_store("memory://?embed=hashing&dims=16")
    model = ScriptedChatModel(
        responses=[ai_tool_calls(("Memory", {"content": "likes tea"})), "done"], default="done"
    )
    manager = create_memory_store_manager(
        model,
        store=store,
        phases=[MemoryPhase(instructions="Merge duplicates.", enable_deletes=True)],
    )
    written = manager.invoke({"messages": [("user", "I like tea")]}, CONFIG)
    assert [item["value"]["content"]["content"] for item in written] == ["likes tea"]
    assert "Merge duplicates." in model.requests[-1].text()


def test_instructions_none_means_the_default_guidance() -> None:
    from langmem import create_memory_manager
    from langmem.knowledge import _prompts

    store = open_store("memory://?embed=hashing&dims=16")
    for make in (
        lambda m: create_memory_manager(m, instructions=None),
        lambda m: create_memory_store_manager(
            m, instructions=None, store=store, namespace=("m",), phases=[{"instructions": None}]
        ),
    ):
        model = ScriptedChatModel(default=ai_tool_calls(("Memory", {"content": "likes tea"})))
        make(model).invoke({"messages": [{"role": "user", "content": "I like tea"}]})
        for request in model.requests:
            system = str(request.messages[0].content)
            # before: the model was sent the text "None" as its instructions
            assert not system.startswith("None")
        first = str(model.requests[0].messages[0].content)
        assert first.startswith(_prompts.EXTRACTION_INSTRUCTIONS)


@pytest.mark.parametrize("instructions", [5, ["remember names"]])
def test_instructions_that_are_not_text_are_refused(instructions: Any) -> None:
    from langmem import create_memory_manager

    with pytest.raises(ConfigurationError, match=r"instructions=.* is not text"):
        create_memory_manager(ScriptedChatModel(), instructions=instructions)
    with pytest.raises(ConfigurationError, match=r"instructions=.* is not text"):
        create_memory_store_manager(ScriptedChatModel(), instructions=instructions)
    with pytest.raises(ConfigurationError, match=r"MemoryPhase instructions=.* is not text"):
        create_memory_store_manager(ScriptedChatModel(), phases=[{"instructions": instructions}])
