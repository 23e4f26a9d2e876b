"""LangChain's message shorthands, ("user", "hi") pairs and plain strings, are valid everywhere a
conversation is accepted (extraction, store manager, thread extractor, prompt optimizers)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from langmem import (
    create_memory_manager,
    create_memory_store_manager,
    create_prompt_optimizer,
    create_thread_extractor,
)
from langmem.errors import InvalidInputError
from langmem.stores import open_store
from langmem.testing import ScriptedChatModel, ai_tool_calls

SHORTHAND: list[Any] = [("user", "My dog is called Rex."), ("assistant", "Noted!"), "And a cat."]


def _last_request_text(model: ScriptedChatModel) -> str:
    return model.requests[-1].text()


def test_memory_manager_reads_pairs_and_strings_as_messages() -> None:
    model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "dog Rex"}))])
    model.default = "done"
    memories = create_memory_manager(model).invoke({"messages": SHORTHAND})
    assert [m.content.content for m in memories] == ["dog Rex"]  # type: ignore[union-attr]
    text = _last_request_text(model)
    assert "user: My dog is called Rex." in text
    assert "assistant: Noted!" in text
    assert "user: And a cat." in text


async def test_memory_manager_async_reads_the_same_request() -> None:
    sync_model, async_model = ScriptedChatModel(default="done"), ScriptedChatModel(default="done")
    create_memory_manager(sync_model).invoke({"messages": SHORTHAND})
    await create_memory_manager(async_model).ainvoke({"messages": SHORTHAND})
    assert _last_request_text(sync_model) == _last_request_text(async_model)


def test_store_manager_and_thread_extractor_accept_shorthands() -> None:
    store = open_store("memory://")
    model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "has a cat"}))])
    model.default = "done"
    manager = create_memory_store_manager(model, store=store, namespace=("m", "{user}"))
    written = manager.invoke({"messages": SHORTHAND}, {"configurable": {"user": "ana"}})
    assert [item["value"]["content"]["content"] for item in written] == ["has a cat"]
    assert "user: And a cat." in _last_request_text(model)

    summarizer = ScriptedChatModel(
        default=ai_tool_calls(("SummarizeThread", {"title": "pets", "summary": "Rex, a cat"}))
    )
    summary = create_thread_extractor(summarizer).invoke({"messages": SHORTHAND})
    assert summary.summary == "Rex, a cat"  # type: ignore[attr-defined]
    assert "assistant: Noted!" in _last_request_text(summarizer)


def test_prompt_optimizer_accepts_shorthand_messages_in_trajectories() -> None:
    model = ScriptedChatModel(
        default=ai_tool_calls(
            ("submit_prompt", {"changed": True, "new_prompt": "You help {user}, warmly."})
        )
    )
    better = create_prompt_optimizer(model, kind="prompt_memory").invoke(
        {"trajectories": [(SHORTHAND, {"score": 0})], "prompt": "You help {user}."}
    )
    assert better == "You help {user}, warmly."
    assert "My dog is called Rex." in _last_request_text(model)


def test_unknown_role_in_a_pair_names_the_message_and_the_roles() -> None:
    with pytest.raises(InvalidInputError, match=r"\('wizard', 'hi'\).*role 'user'"):
        create_memory_manager(ScriptedChatModel(default="done")).invoke(
            {"messages": [("wizard", "hi")]}
        )


@pytest.mark.parametrize("existing", ["likes tea", {"content": "likes tea"}])
def test_existing_must_be_a_list_not_one_memory(existing: Any) -> None:
    model = ScriptedChatModel(default="done")
    with pytest.raises(InvalidInputError, match="not a list of memories"):
        create_memory_manager(model).invoke(
            {"messages": [HumanMessage("hi")], "existing": existing}
        )
    assert model.requests == []  # refused before any model call
