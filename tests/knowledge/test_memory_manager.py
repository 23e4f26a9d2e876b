"""create_memory_manager: inserts, patch updates, deletes, shapes of input, multi-step, retries."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel

from langmem import create_memory_manager
from langmem.errors import InvalidInputError, ModelOutputError
from langmem.knowledge.extraction import ExtractedMemory, Memory, MemoryManager, RemoveDoc
from langmem.testing import ScriptedChatModel, ai_tool_calls, tool_call
from tests.knowledge._support import CONVO, memory_lines, system_text, transcript, user_text


class Preference(BaseModel):
    """A user preference."""

    category: str
    preference: str
    context: str = ""


class Person(BaseModel):
    name: str
    relation: str


def run(model: ScriptedChatModel, existing: Any = None, **kwargs: Any) -> list[ExtractedMemory]:
    manager = create_memory_manager(model, **kwargs)
    state: dict[str, Any] = {"messages": CONVO}
    if existing is not None:
        state["existing"] = existing
    return manager.invoke(state)  # type: ignore[arg-type]


def is_uuid4(value: str) -> bool:
    return uuid.UUID(value).version == 4


class TestOperations:
    def test_insert_returns_new_memory_with_fresh_uuid(self) -> None:
        model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "Drinks tea"}))])
        out = run(model)
        assert len(out) == 1 and is_uuid4(out[0].id)
        assert out[0].content == Memory(content="Drinks tea")
        assert model.calls == 1
        # the conversation reached the model, compactly
        assert "user: I switched from coffee to green tea last month." in user_text(
            model.requests[0]
        )
        assert memory_lines(model.requests[0]) == []

    def test_update_is_a_patch_of_the_changed_fields(self) -> None:
        old = Preference(category="drink", preference="coffee", context="mornings")
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("update_memory", {"id": "m1", "patch": {"preference": "tea"}}))
            ]
        )
        out = run(model, [("pref-1", old)], schemas=[Preference])
        assert out == [
            ExtractedMemory(
                "pref-1", Preference(category="drink", preference="tea", context="mornings")
            )
        ]
        # the model saw a short id, never the caller's id
        assert memory_lines(model.requests[0]) == [
            'm1: {"category":"drink","preference":"coffee","context":"mornings"}'
        ]
        assert "pref-1" not in model.requests[0].text()

    def test_update_accepts_fields_next_to_the_id(self) -> None:
        model = ScriptedChatModel(
            responses=[ai_tool_calls(("update_memory", {"id": "m1", "content": "Drinks tea"}))]
        )
        out = run(model, [("a", Memory(content="Drinks coffee"))])
        assert out == [ExtractedMemory("a", Memory(content="Drinks tea"))]

    def test_delete_marks_removal_like_upstream(self) -> None:
        model = ScriptedChatModel(responses=[ai_tool_calls(("delete_memory", {"id": "m2"}))])
        existing = [("a", Memory(content="Drinks coffee")), ("b", Memory(content="Hates tea"))]
        out = run(model, existing, enable_deletes=True)
        assert out[0] == ExtractedMemory("a", Memory(content="Drinks coffee"))
        assert out[1].id == "b"
        assert isinstance(out[1].content, RemoveDoc)
        assert out[1].content.json_doc_id == "b"
        assert out[1].content.__repr_name__() == "RemoveDoc"

    def test_mixed_operations_in_one_reply(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(
                    ("Memory", {"content": "Drinks green tea since last month"}),
                    ("update_memory", {"id": "m1", "patch": {"content": "Used to drink coffee"}}),
                    ("delete_memory", {"id": "m2"}),
                )
            ]
        )
        existing = [("a", Memory(content="Drinks coffee")), ("b", Memory(content="Dislikes tea"))]
        out = run(model, existing, enable_deletes=True)
        assert [o.id for o in out[:2]] == ["a", "b"]
        assert out[0].content == Memory(content="Used to drink coffee")
        assert isinstance(out[1].content, RemoveDoc)
        assert out[2].content == Memory(content="Drinks green tea since last month")
        assert is_uuid4(out[2].id)
        assert model.calls == 1

    def test_plain_text_reply_changes_nothing_without_retry(self) -> None:
        model = ScriptedChatModel(responses=["Nothing new to remember."])
        existing = [("a", Memory(content="Drinks coffee"))]
        out = run(model, existing)
        assert out == [ExtractedMemory("a", Memory(content="Drinks coffee"))]
        assert model.calls == 1

    def test_deletes_are_off_by_default_and_not_offered(self) -> None:
        model = ScriptedChatModel(responses=["ok"])
        run(model, [("a", "x")])
        assert model.requests[0].tool_names == ["Memory", "update_memory"]
        assert "delete_memory" not in system_text(model.requests[0])

    def test_only_enabled_operations_are_offered(self) -> None:
        model = ScriptedChatModel(responses=["ok"])
        run(model, enable_inserts=False, enable_updates=False, enable_deletes=True)
        assert model.requests[0].tool_names == ["delete_memory"]
        with pytest.raises(ValueError, match="enable at least one"):
            create_memory_manager(model, enable_inserts=False, enable_updates=False)

    def test_delete_of_a_memory_inserted_in_the_same_run_drops_it(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("Memory", {"content": "temp"})),
                ai_tool_calls(("delete_memory", {"id": "m1"}), ("done", {})),
            ]
        )
        manager = create_memory_manager(model, enable_deletes=True)
        out = manager.invoke({"messages": CONVO, "max_steps": 3})
        assert out == []


class TestSchemas:
    def test_several_schemas_insert_each_kind(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(
                    ("Preference", {"category": "drink", "preference": "green tea"}),
                    ("Person", {"name": "Ana", "relation": "sister"}),
                )
            ]
        )
        out = run(
            model, [("p1", Person(name="Bo", relation="friend"))], schemas=[Preference, Person]
        )
        assert [type(o.content) for o in out] == [Person, Preference, Person]
        request = model.requests[0]
        assert request.tool_names == ["Preference", "Person", "update_memory"]
        # kinds are tagged once more than one kind is in play
        assert memory_lines(request) == ['m1 (Person): {"name":"Bo","relation":"friend"}']
        # the schema's docstring guides the model; titles are stripped to save tokens
        pref_tool = request.tools[0]["function"]
        assert pref_tool["description"] == "A user preference."
        assert "title" not in str(pref_tool["parameters"])

    def test_update_validates_against_the_memory_kind(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("update_memory", {"id": "m1", "patch": {"relation": None}})),
                ai_tool_calls(("update_memory", {"id": "m1", "patch": {"relation": "cousin"}})),
            ]
        )
        out = run(model, [("p1", Person(name="Bo", relation="friend"))], schemas=[Person])
        assert out == [ExtractedMemory("p1", Person(name="Bo", relation="cousin"))]
        feedback = model.requests[1].messages[-1]
        assert feedback.type == "tool" and "invalid Person" in str(feedback.content)

    def test_pydantic_instance_as_schema_and_bad_schema(self) -> None:
        manager = create_memory_manager(
            ScriptedChatModel(), schemas=[Person(name="a", relation="b")]
        )
        assert isinstance(manager, MemoryManager) and manager.schemas == (Person,)
        with pytest.raises(ValueError, match="not a pydantic model class"):
            create_memory_manager(ScriptedChatModel(), schemas=[dict])
        with pytest.raises(ValueError, match="reserved"):
            create_memory_manager(ScriptedChatModel(), schemas=[type("done", (BaseModel,), {})])


class TestExistingShapes:
    def test_every_upstream_shape_is_accepted(self) -> None:
        model = ScriptedChatModel(responses=["no change"])
        existing = [
            "plain string",
            ("id-2", Memory(content="pydantic in a pair")),
            ("id-3", "Memory", {"content": "triple with a dict"}),
            ExtractedMemory("id-4", Memory(content="extracted memory")),
            Memory(content="bare pydantic"),
            {"id": "id-6", "content": "dict with id"},
            ("id-7", {"note": "free-form dict"}),
            ("id-8", "text in a pair"),
        ]
        out = run(model, existing)
        assert [o.id for o in out][1:4] == ["id-2", "id-3", "id-4"]
        assert out[0].content == Memory(content="plain string") and is_uuid4(out[0].id)
        assert out[2].content == {"content": "triple with a dict"}  # unchanged: as given
        assert out[4].content == Memory(content="bare pydantic")
        assert out[5] == ExtractedMemory("id-6", "dict with id")
        assert out[6] == ExtractedMemory("id-7", {"note": "free-form dict"})
        assert memory_lines(model.requests[0]) == [
            "m1: plain string",
            "m2: pydantic in a pair",
            "m3: triple with a dict",
            "m4: extracted memory",
            "m5: bare pydantic",
            "m6: dict with id",
            'm7: {"note":"free-form dict"}',
            "m8: text in a pair",
        ]

    def test_updates_keep_the_callers_value_type(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(
                    ("update_memory", {"id": "m1", "patch": {"content": "new triple"}}),
                    ("update_memory", {"id": "m2", "patch": {"note": "changed"}}),
                    ("update_memory", {"id": "m3", "patch": {"content": "new text"}}),
                )
            ]
        )
        existing = [
            ("a", "Memory", {"content": "old triple"}),
            ("b", {"note": "free"}),
            ("c", "old text"),
        ]
        out = run(model, existing)
        assert out == [
            ExtractedMemory("a", Memory(content="new triple")),
            ExtractedMemory("b", {"note": "changed"}),
            ExtractedMemory("c", "new text"),
        ]

    def test_previous_output_with_removals_can_be_fed_back(self) -> None:
        model = ScriptedChatModel(responses=["ok"])
        previous = [
            ExtractedMemory("a", Memory(content="kept")),
            ExtractedMemory("b", RemoveDoc(json_doc_id="b")),
        ]
        assert run(model, previous) == [previous[0]]

    def test_langchain_messages_are_accepted(self) -> None:
        model = ScriptedChatModel(responses=["ok"])
        manager = create_memory_manager(model)
        manager.invoke(
            {"messages": [HumanMessage("I like jazz"), AIMessage("Noted")], "max_steps": 1}
        )
        assert "user: I like jazz\n\nassistant: Noted" in user_text(model.requests[0])

    @pytest.mark.parametrize(
        ("state", "match"),
        [
            ({"messages": "hello"}, "not a list of messages"),
            ({"existing": []}, "no 'messages'"),
            ({"messages": CONVO, "existing": [("a", 3)]}, "must be a pydantic model"),
            ({"messages": CONVO, "existing": [("a", "x"), ("a", "y")]}, "appears twice"),
            ({"messages": CONVO, "existing": [42]}, "unsupported shape"),
            ({"messages": CONVO, "max_steps": 0}, "max_steps=0"),
        ],
    )
    def test_bad_input_is_refused_before_any_model_call(
        self, state: dict[str, Any], match: str
    ) -> None:
        model = ScriptedChatModel()
        with pytest.raises(InvalidInputError, match=match):
            create_memory_manager(model).invoke(state)  # type: ignore[arg-type]
        assert model.calls == 0


class TestMultiStep:
    def test_steps_continue_until_done_and_accumulate(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("Memory", {"content": "Drinks green tea"})),
                ai_tool_calls(("update_memory", {"id": "m2", "patch": {"content": "Tea daily"}})),
                ai_tool_calls(("done", {})),
            ]
        )
        manager = create_memory_manager(model)
        out = manager.invoke(
            {"messages": CONVO, "existing": [("a", "Memory", {"content": "x"})], "max_steps": 5}
        )
        assert [o.content for o in out] == [{"content": "x"}, Memory(content="Tea daily")]
        assert model.calls == 3
        assert all(r.tool_names[-1] == "done" for r in model.requests)
        assert "up to 5 rounds" in system_text(model.requests[0])
        # the second round sees the first round's calls and their results with short ids
        assert transcript(model.requests[1])[-1] == ("tool", "saved as m2")

    def test_the_loop_always_ends_at_max_steps(self) -> None:
        model = ScriptedChatModel(
            default=lambda r: ai_tool_calls(("Memory", {"content": f"fact {len(r.messages)}"}))
        )
        manager = create_memory_manager(model)
        out = manager.invoke({"messages": CONVO, "max_steps": 3})
        assert model.calls == 3
        assert len(out) == 3

    def test_a_reply_without_calls_ends_early(self) -> None:
        model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "a"})), "done"])
        out = create_memory_manager(model).invoke({"messages": CONVO, "max_steps": 4})
        assert model.calls == 2 and len(out) == 1


class TestMalformedOutput:
    @pytest.mark.parametrize(
        ("bad", "problem"),
        [
            (
                AIMessage(
                    content="",
                    additional_kwargs={
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "Memory", "arguments": '{"content": '},
                            }
                        ]
                    },
                ),
                "not valid JSON",
            ),
            (ai_tool_calls(("remember", {"content": "tea"})), "there is no tool 'remember'"),
            (ai_tool_calls(("Memory", {"text": "tea"})), "invalid Memory"),
            (
                ai_tool_calls(("update_memory", {"id": "m7", "patch": {"content": "t"}})),
                "no memory",
            ),
            (ai_tool_calls(("update_memory", {"id": "m1", "patch": {"colour": "t"}})), "no field"),
            (ai_tool_calls(("update_memory", {"id": "m1", "patch": "tea"})), "patch must be"),
            (ai_tool_calls(("delete_memory", {"id": "m1"})), "there is no tool 'delete_memory'"),
        ],
    )
    def test_problem_is_fed_back_and_the_correction_applied(
        self, bad: AIMessage, problem: str
    ) -> None:
        model = ScriptedChatModel(
            responses=[bad, ai_tool_calls(("Memory", {"content": "Drinks tea"}))]
        )
        out = run(model, [("a", Memory(content="Drinks coffee"))])
        assert out == [
            ExtractedMemory("a", Memory(content="Drinks coffee")),
            ExtractedMemory(out[1].id, Memory(content="Drinks tea")),
        ]
        assert model.calls == 2
        retry = model.requests[1].messages
        assert retry[-2].type == "ai"
        assert retry[-1].type == "tool" and retry[-1].status == "error"
        assert problem in str(retry[-1].content)
        assert retry[-1].tool_call_id == (bad.tool_calls or bad.invalid_tool_calls)[0]["id"]

    def test_valid_calls_of_a_partly_bad_reply_are_kept(self) -> None:
        good, bad = tool_call("Memory", {"content": "ok"}), tool_call("Memory", {})
        model = ScriptedChatModel(
            responses=[
                AIMessage(content="", tool_calls=[good, bad]),
                ai_tool_calls(("Memory", {"content": "fixed"})),
            ]
        )
        out = run(model)
        assert [o.content.content for o in out] == ["ok", "fixed"]
        results = [m for m in model.requests[1].messages if m.type == "tool"]
        assert results[0].content == "saved as m1"

    def test_after_the_bounded_retries_a_typed_error_and_nothing_lost(self) -> None:
        bad = ai_tool_calls(("update_memory", {"id": "m9", "patch": {"content": "x"}}))
        model = ScriptedChatModel(default=bad)
        existing = [("a", Memory(content="Drinks coffee"))]
        with pytest.raises(ModelOutputError) as caught:
            run(model, existing)
        assert caught.value.attempts == 3 == model.calls
        assert "no memory 'm9'" in caught.value.problems[0]
        assert existing == [("a", Memory(content="Drinks coffee"))]  # caller's data untouched

    def test_a_model_that_declines_to_correct_drops_the_call_and_logs(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        model = ScriptedChatModel(
            responses=[ai_tool_calls(("Memory", {"content": "ok"}), ("Memory", {})), "never mind"]
        )
        with caplog.at_level(logging.WARNING, logger="langmem"):
            out = run(model)
        assert [o.content.content for o in out] == ["ok"]
        assert "declined to correct 1 tool call" in caplog.text
        assert model.calls == 2

    def test_deleting_twice_is_harmless_and_needs_no_correction(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("delete_memory", {"id": "m1"}), ("delete_memory", {"id": "m1"}))
            ]
        )
        out = run(model, [("a", "x")], enable_deletes=True)
        assert isinstance(out[0].content, RemoveDoc)
        assert model.calls == 1

    def test_updating_a_deleted_memory_is_reported(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(
                    ("delete_memory", {"id": "m1"}),
                    ("update_memory", {"id": "m1", "patch": {"content": "y"}}),
                ),
                "ok",
            ]
        )
        out = run(model, [("a", "x")], enable_deletes=True)
        assert isinstance(out[0].content, RemoveDoc)
        assert "already deleted" in str(model.requests[1].messages[-1].content)

    def test_a_correction_that_resends_applied_calls_adds_no_duplicates(self) -> None:
        first = ai_tool_calls(("Memory", {"content": "Drinks tea"}), ("Memory", {"txt": "x"}))
        again = ai_tool_calls(("Memory", {"content": "Drinks tea"}), ("Memory", {"content": "x"}))
        model = ScriptedChatModel(responses=[first, again])
        out = run(model, [("a", Memory(content="Likes jazz"))])
        assert [o.content.content for o in out] == ["Likes jazz", "Drinks tea", "x"]
        results = [m.content for m in model.requests[1].messages if m.type == "tool"]
        assert results[0] == "saved as m2"
        # an insert equal to an existing memory is not added either
        model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "Likes jazz"}))])
        assert len(run(model, [("a", Memory(content="Likes jazz"))])) == 1


class TestEntryPoints:
    async def test_invoke_ainvoke_and_call_send_the_same_requests(self) -> None:
        def script() -> ScriptedChatModel:
            return ScriptedChatModel(
                responses=[
                    ai_tool_calls(
                        ("Memory", {"content": "a"}),
                        ("update_memory", {"id": "m1", "patch": {"content": "z"}}),
                    ),
                    ai_tool_calls(("done", {})),
                ]
            )

        existing = [("x", Memory(content="old"))]
        sync_model, async_model, call_model = script(), script(), script()
        state: Any = {"messages": CONVO, "existing": existing, "max_steps": 2}
        out_sync = create_memory_manager(sync_model).invoke(state)
        out_async = await create_memory_manager(async_model).ainvoke(state)
        assert [o.content for o in out_sync] == [o.content for o in out_async]
        assert [transcript(r) for r in sync_model.requests] == [
            transcript(r) for r in async_model.requests
        ]
        assert [r.tools for r in sync_model.requests] == [r.tools for r in async_model.requests]

        out_call = await create_memory_manager(call_model)(CONVO, existing)
        assert out_call[0].content == Memory(content="z")
        assert user_text(call_model.requests[0]) == user_text(sync_model.requests[0])

    def test_model_string_is_resolved_lazily(self) -> None:
        model = ScriptedChatModel(responses=["ok"])
        manager = create_memory_manager("openai:gpt-4o-mini")  # no provider import, no key
        assert manager._model.spec == "openai:gpt-4o-mini"
        assert create_memory_manager(model).model is model
