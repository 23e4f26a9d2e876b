"""create_memory_store_manager: one search batch, one write batch, provenance, defaults, phases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from langgraph.store.base import GetOp, PutOp, SearchOp
from langgraph.store.memory import InMemoryStore
from pydantic import BaseModel

from langmem import create_memory_store_manager
from langmem.errors import (
    InvalidInputError,
    ModelOutputError,
    NamespaceError,
    StoreNotFoundError,
)
from langmem.knowledge._history import parse_archive_key
from langmem.knowledge.extraction import Item, Memory, MemoryStoreManager, SearchItem
from langmem.testing import ScriptedChatModel, ai_tool_calls
from tests.knowledge._support import (
    CFG,
    CONVO,
    NS,
    RecordingStore,
    memory_lines,
    system_text,
    transcript,
    user_text,
)


class Profile(BaseModel):
    name: str = ""
    drink: str = ""
    languages: list[str] = []


def seed(store: RecordingStore, facts: dict[str, str], ns: tuple[str, ...] = NS) -> None:
    for key, fact in facts.items():
        store.inner.put(ns, key, {"kind": "Memory", "content": {"content": fact}})


def stored(store: RecordingStore, ns: tuple[str, ...] = NS) -> dict[str, Any]:
    return {item.key: item.value for item in store.inner.search(ns, limit=100)}


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


@pytest.fixture
def store() -> RecordingStore:
    return RecordingStore()


class TestTurn:
    def test_insert_stores_upstream_shape_plus_provenance(self, store: RecordingStore) -> None:
        model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "Drinks tea"}))])
        manager = create_memory_store_manager(model, store=store)
        config = {"configurable": {"langgraph_user_id": "user-1", "thread_id": "t-7"}}
        writes = manager.invoke({"messages": CONVO}, config)  # type: ignore[arg-type]
        assert len(writes) == 1
        write = writes[0]
        assert write["namespace"] == NS
        value = write["value"]
        assert value["kind"] == "Memory" and value["content"] == {"content": "Drinks tea"}
        assert value["thread_id"] == "t-7"
        assert value["created_at"] == value["updated_at"]
        assert parse_time(value["created_at"]).tzinfo is not None
        assert stored(store) == {write["key"]: value}
        assert model.calls == 1

    def test_one_search_batch_and_one_write_batch(self, store: RecordingStore) -> None:
        seed(store, {"k1": "Drinks coffee every morning", "k2": "Lives in Lisbon"})
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(
                    ("Memory", {"content": "Switched to green tea"}),
                    ("update_memory", {"id": "m1", "patch": {"content": "Used to drink coffee"}}),
                )
            ]
        )
        manager = create_memory_store_manager(model, store=store, query_limit=5)
        manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert len(store.batches) == 2
        searches, writes = store.batches
        # and, right before the write, one read of what the update replaces (the records'
        # check; the insert's new UUID key needs none)
        assert [[op.key for op in ops] for ops in store.probes] == [["k1"]]  # type: ignore[union-attr]
        assert all(isinstance(op, SearchOp) for op in searches)
        assert [op.limit for op in searches] == [5]
        assert "green tea" in str(searches[0].query)
        assert all(isinstance(op, PutOp) for op in writes)
        # the insert and the update, a change record for each, the superseded coffee fact
        areas = sorted(op.namespace[:2] for op in writes)  # type: ignore[union-attr]
        assert areas == [
            ("__langmem__", "history"),
            ("__langmem__", "history"),
            ("__langmem__", "superseded"),
            NS[:2],
            NS[:2],
        ]

    def test_update_keeps_key_and_created_at(self, store: RecordingStore) -> None:
        seed(store, {"k1": "Drinks coffee every morning"})
        created = store.inner.get(NS, "k1").created_at  # type: ignore[union-attr]
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("update_memory", {"id": "m1", "patch": {"content": "Drinks tea"}}))
            ]
        )
        manager = create_memory_store_manager(model, store=store)
        writes = manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert [w["key"] for w in writes] == ["k1"]
        value = stored(store)["k1"]
        assert value["content"] == {"content": "Drinks tea"} and value["kind"] == "Memory"
        assert parse_time(value["created_at"]) == created
        assert parse_time(value["updated_at"]) >= created
        assert "thread_id" not in value  # no thread in the config

    def test_delete_is_applied_and_not_returned(self, store: RecordingStore) -> None:
        seed(store, {"k1": "Drinks coffee every morning"})
        model = ScriptedChatModel(responses=[ai_tool_calls(("delete_memory", {"id": "m1"}))])
        manager = create_memory_store_manager(model, store=store, enable_deletes=True)
        assert manager.invoke({"messages": CONVO}, CFG) == []  # type: ignore[arg-type]
        assert stored(store) == {}
        ops = store.batches[-1]
        assert [op for op in ops if op.namespace == NS] == [PutOp(NS, "k1", None)]  # type: ignore[union-attr]
        # the old fact is superseded, not erased: archived with its validity, and recorded
        archived = store.inner.search(("__langmem__", "superseded", *NS))
        assert [a.value["content"]["content"] for a in archived] == ["Drinks coffee every morning"]
        key, valid_from, invalid_from = parse_archive_key(archived[0].key)
        assert key == "k1" and valid_from is not None and invalid_from >= valid_from
        assert manager.history.history(NS, "k1")[-1]["op"] == "delete"

    def test_no_change_writes_nothing(self, store: RecordingStore) -> None:
        seed(store, {"k1": "Drinks tea"})
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("update_memory", {"id": "m1", "patch": {"content": "Drinks tea"}}))
            ]
        )
        manager = create_memory_store_manager(model, store=store)
        assert manager.invoke({"messages": CONVO}, CFG) == []  # type: ignore[arg-type]
        assert len(store.batches) == 1  # the search only

    def test_an_insert_equal_to_a_found_memory_is_not_stored_again(
        self, store: RecordingStore
    ) -> None:
        seed(store, {"k1": "Drinks green tea"})
        model = ScriptedChatModel(
            responses=[ai_tool_calls(("Memory", {"content": "Drinks green tea"}))]
        )
        assert (
            create_memory_store_manager(model, store=store).invoke({"messages": CONVO}, CFG) == []
        )  # type: ignore[arg-type]
        assert list(stored(store)) == ["k1"] and len(store.batches) == 1

    def test_input_without_messages_is_refused(self, store: RecordingStore) -> None:
        with pytest.raises(InvalidInputError, match="no 'messages'"):
            create_memory_store_manager(ScriptedChatModel(), store=store).invoke({}, CFG)  # type: ignore[typeddict-item]
        assert store.batches == []

    def test_write_errors_raise(self) -> None:
        store = RecordingStore(fail_writes=True)
        model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "x"}))])
        manager = create_memory_store_manager(model, store=store)
        with pytest.raises(OSError, match="disk full"):
            manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]

    def test_invalid_model_output_writes_nothing(self, store: RecordingStore) -> None:
        seed(store, {"k1": "Drinks coffee"})
        model = ScriptedChatModel(
            default=ai_tool_calls(("Memory", {"content": "ok"}), ("delete_memory", {"id": "m1"}))
        )
        manager = create_memory_store_manager(model, store=store)  # deletes off by default
        with pytest.raises(ModelOutputError):
            manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert len(store.batches) == 1  # searched, never wrote
        assert list(stored(store)) == ["k1"]

    def test_memories_written_by_the_hot_path_tool_can_be_updated(
        self, store: RecordingStore
    ) -> None:
        store.inner.put(NS, "t1", {"content": "Drinks coffee"})
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("update_memory", {"id": "m1", "patch": {"content": "Drinks tea"}}))
            ]
        )
        create_memory_store_manager(model, store=store).invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert memory_lines(model.requests[0]) == ["m1: Drinks coffee"]
        value = stored(store)["t1"]
        assert value["content"] == "Drinks tea" and value["kind"] == "Memory"


class TestRetrieval:
    def test_without_query_model_one_model_call_and_limit_respected(
        self, store: RecordingStore
    ) -> None:
        seed(store, {f"k{i}": f"Fact {i} about tea and coffee" for i in range(12)})
        model = ScriptedChatModel(responses=["nothing"])
        manager = create_memory_store_manager(model, store=store, query_limit=3)
        manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert model.calls == 1
        assert len(memory_lines(model.requests[0])) == 3

    def test_query_model_writes_the_queries(self, store: RecordingStore) -> None:
        seed(store, {"k1": "Lives in Lisbon", "k2": "Drinks coffee"})
        query_model = ScriptedChatModel(
            responses=[ai_tool_calls(("search_memory", {"queries": ["hot drinks", "city"]}))]
        )
        model = ScriptedChatModel(responses=["nothing"])
        manager = create_memory_store_manager(
            model, query_model=query_model, store=store, query_limit=2
        )
        manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert query_model.calls == 1 and model.calls == 1
        assert query_model.requests[0].tool_choice == "search_memory"
        assert [op.query for op in store.batches[0]] == ["hot drinks", "city"]
        assert len(memory_lines(model.requests[0])) == 2

    def test_query_model_without_queries_falls_back_to_the_conversation(
        self, store: RecordingStore
    ) -> None:
        query_model = ScriptedChatModel(responses=["no tool call"])
        model = ScriptedChatModel(responses=["nothing"])
        manager = create_memory_store_manager(model, query_model=query_model, store=store)
        manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert "green tea" in str(store.batches[0][0].query)

    def test_an_empty_conversation_makes_no_store_call(self, store: RecordingStore) -> None:
        model = ScriptedChatModel(responses=["nothing"])
        assert create_memory_store_manager(model, store=store).invoke({"messages": []}, CFG) == []  # type: ignore[arg-type]
        assert store.batches == [] and model.calls == 1


class TestDefaults:
    def test_default_profile_is_created_then_patched(self, store: RecordingStore) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("update_memory", {"id": "m1", "patch": {"drink": "green tea"}})),
                ai_tool_calls(("update_memory", {"id": "m1", "patch": {"name": "Ana"}})),
            ]
        )
        manager = create_memory_store_manager(
            model,
            schemas=[Profile],
            default=Profile(languages=["pt"]),
            enable_inserts=False,
            store=store,
        )
        manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert stored(store)["default"]["content"] == {
            "name": "",
            "drink": "green tea",
            "languages": ["pt"],
        }
        # the profile is fetched in the same batch as the search, and found next turn
        assert any(isinstance(op, GetOp) for op in store.batches[0])
        manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert memory_lines(model.requests[1]) == [
            'm1: {"name":"","drink":"green tea","languages":["pt"]}'
        ]
        assert stored(store)["default"]["content"]["name"] == "Ana"
        assert manager.get("default", config=CFG).value == Profile(  # type: ignore[union-attr]
            name="Ana", drink="green tea", languages=["pt"]
        )

    def test_untouched_default_is_still_stored(self, store: RecordingStore) -> None:
        model = ScriptedChatModel(responses=["nothing"])
        manager = create_memory_store_manager(model, default="No preferences yet", store=store)
        writes = manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert [w["key"] for w in writes] == ["default"]
        assert stored(store)["default"]["content"] == {"content": "No preferences yet"}

    def test_default_factory_reads_the_config(self, store: RecordingStore) -> None:
        model = ScriptedChatModel(responses=["nothing"])
        manager = create_memory_store_manager(
            model,
            default_factory=lambda config: f"User {config['configurable']['langgraph_user_id']}",
            store=store,
        )
        manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert memory_lines(model.requests[0]) == ["m1: User user-1"]

    def test_get_default_without_factory_is_none(self, store: RecordingStore) -> None:
        manager = create_memory_store_manager(ScriptedChatModel(), store=store)
        assert manager.get("default", config=CFG) is None
        with_default = create_memory_store_manager(ScriptedChatModel(), default="x", store=store)
        item = with_default.get("default", config=CFG)
        assert isinstance(item, Item) and item.value == Memory(content="x")

    def test_default_and_factory_together_are_refused(self) -> None:
        with pytest.raises(ValueError, match="both default and default_factory"):
            create_memory_store_manager(ScriptedChatModel(), default="x", default_factory=str)
        with pytest.raises(ValueError, match="fits none of the schemas"):
            create_memory_store_manager(ScriptedChatModel(), schemas=[Profile], default=3)


class TestPhases:
    def test_phases_run_after_extraction_on_the_same_ids(self, store: RecordingStore) -> None:
        seed(store, {"k1": "Drinks coffee"})
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("Memory", {"content": "Drinks coffee daily"})),
                ai_tool_calls(("delete_memory", {"id": "m1"})),
            ]
        )
        manager = create_memory_store_manager(
            model, store=store, phases=[{"instructions": "Merge duplicates."}]
        )
        writes = manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert [w["value"]["content"]["content"] for w in writes] == ["Drinks coffee daily"]
        assert [v["content"]["content"] for v in stored(store).values()] == ["Drinks coffee daily"]
        phase_request = model.requests[1]
        assert system_text(phase_request).startswith("Merge duplicates.")
        assert "<conversation>" not in user_text(phase_request)  # include_messages defaults off
        assert memory_lines(phase_request) == ["m1: Drinks coffee", "m2: Drinks coffee daily"]
        assert "delete_memory" in phase_request.tool_names  # phases may delete by default
        assert len(store.batches) == 2

    def test_phase_can_include_messages_and_forbid_inserts(self, store: RecordingStore) -> None:
        model = ScriptedChatModel(responses=["ok", "ok"])
        manager = create_memory_store_manager(
            model,
            store=store,
            phases=[{"include_messages": True, "enable_inserts": False, "enable_deletes": False}],
        )
        manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]
        assert "<conversation>" in user_text(model.requests[1])
        assert model.requests[1].tool_names == ["update_memory"]


class TestNamespaces:
    def test_two_users_are_kept_apart(self, store: RecordingStore) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("Memory", {"content": "Alice drinks tea"})),
                ai_tool_calls(("Memory", {"content": "Bob drinks coffee"})),
                "nothing",
            ]
        )
        manager = create_memory_store_manager(
            model, namespace=("memories", "{langgraph_user_id}"), store=store
        )
        for user in ("alice", "bob"):
            manager.invoke({"messages": CONVO}, {"configurable": {"langgraph_user_id": user}})  # type: ignore[arg-type]
        assert [v["content"]["content"] for v in stored(store, ("memories", "alice")).values()] == [
            "Alice drinks tea"
        ]
        assert [v["content"]["content"] for v in stored(store, ("memories", "bob")).values()] == [
            "Bob drinks coffee"
        ]
        manager.invoke({"messages": CONVO}, {"configurable": {"langgraph_user_id": "alice"}})  # type: ignore[arg-type]
        assert memory_lines(model.requests[2]) == ["m1: Alice drinks tea"]
        assert manager.get_namespace({"configurable": {"langgraph_user_id": "bob"}}) == (
            "memories",
            "bob",
        )

    def test_missing_or_unsafe_namespace_values_are_refused(self, store: RecordingStore) -> None:
        manager = create_memory_store_manager(ScriptedChatModel(), store=store)
        with pytest.raises(NamespaceError, match="langgraph_user_id"):
            manager.invoke({"messages": CONVO}, {"configurable": {}})  # type: ignore[arg-type]
        with pytest.raises(NamespaceError, match=r"contains '\.'"):
            manager.invoke({"messages": CONVO}, {"configurable": {"langgraph_user_id": "a.b"}})  # type: ignore[arg-type]

    def test_no_store_outside_a_graph_is_a_clear_error(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LANGMEM_STORE", "none")  # no default embedded store either
        manager = create_memory_store_manager(ScriptedChatModel())
        with pytest.raises(StoreNotFoundError, match="store"):
            manager.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]


class TestDirectAccess:
    async def test_get_search_put_delete_sync_and_async(self, store: RecordingStore) -> None:
        manager = create_memory_store_manager(ScriptedChatModel(), store=store)
        manager.put("k1", {"kind": "Memory", "content": {"content": "Drinks tea"}}, config=CFG)
        await manager.aput("k2", {"note": "free-form"}, config=CFG)
        found = manager.search(query="tea", config=CFG)
        assert all(isinstance(item, SearchItem) for item in found)
        values = {item.key: item.value for item in found}
        assert values == {"k1": Memory(content="Drinks tea"), "k2": {"note": "free-form"}}
        assert found[0].dict()["value"] in ({"content": "Drinks tea"}, {"note": "free-form"})
        assert [i.key for i in await manager.asearch(query="tea", config=CFG)] == [
            i.key for i in found
        ]
        item = await manager.aget("k1", config=CFG)
        assert item is not None and item.value == Memory(content="Drinks tea")
        assert item.dict()["value"] == {"content": "Drinks tea"}
        manager.delete("k1", config=CFG)
        await manager.adelete("k2", config=CFG)
        assert manager.get("k1", config=CFG) is None
        assert stored(store) == {}
        assert manager.store is store

    def test_class_defaults_and_factory_defaults(self) -> None:
        manager = create_memory_store_manager(ScriptedChatModel(), store=InMemoryStore())
        assert isinstance(manager, MemoryStoreManager)
        assert manager.enable_deletes is False and manager.query_limit == 5
        assert MemoryStoreManager(ScriptedChatModel()).enable_deletes is True
        with pytest.raises(ValueError, match="query_limit"):
            create_memory_store_manager(ScriptedChatModel(), query_limit=0)


class TestParity:
    async def test_sync_and_async_send_the_same_traffic(self) -> None:
        def scenario() -> tuple[ScriptedChatModel, ScriptedChatModel, RecordingStore]:
            store = RecordingStore()
            seed(store, {"k1": "Drinks coffee", "k2": "Lives in Lisbon", "k3": "Has a cat"})
            query_model = ScriptedChatModel(
                responses=[ai_tool_calls(("search_memory", {"queries": ["drinks", "pets"]}))]
            )
            model = ScriptedChatModel(
                responses=[
                    ai_tool_calls(
                        ("Memory", {"content": "Drinks green tea"}),
                        ("update_memory", {"id": "m1", "patch": {"content": "Drank coffee"}}),
                        ("delete_memory", {"id": "m2"}),
                    ),
                    ai_tool_calls(("done", {})),
                    "phase: nothing",
                ]
            )
            store.batches.clear()
            return query_model, model, store

        def kwargs(query_model: ScriptedChatModel, store: RecordingStore) -> dict[str, Any]:
            return {
                "query_model": query_model,
                "store": store,
                "enable_deletes": True,
                "phases": [{"instructions": "Consolidate."}],
            }

        sq, sm, ss = scenario()
        aq, am, as_ = scenario()
        out_sync = create_memory_store_manager(sm, **kwargs(sq, ss)).invoke(
            {"messages": CONVO, "max_steps": 2}, CFG
        )
        out_async = await create_memory_store_manager(am, **kwargs(aq, as_)).ainvoke(
            {"messages": CONVO, "max_steps": 2}, CFG
        )

        def normalized(batches: list[list[Any]]) -> list[list[Any]]:
            out = []
            for ops in batches:
                row = []
                for op in ops:
                    if isinstance(op, PutOp) and op.value is not None:
                        value = _without_times(op.value)
                        key = op.key.split("@")[0] if op.key.startswith("k") else "<new>"
                        row.append(("put", op.namespace, key, value))
                    else:
                        row.append(op)
                out.append(row)
            return out

        assert normalized(ss.batches) == normalized(as_.batches)
        assert len(ss.batches) == 2
        assert [transcript(r) for r in sq.requests] == [transcript(r) for r in aq.requests]
        assert [transcript(r) for r in sm.requests] == [transcript(r) for r in am.requests]
        assert [r.tools for r in sm.requests] == [r.tools for r in am.requests]
        assert len(out_sync) == len(out_async) == 2
        assert model_calls(sq, sm) == model_calls(aq, am) == 4


def model_calls(*models: ScriptedChatModel) -> int:
    return sum(m.calls for m in models)


async def test_call_runs_one_turn(store: RecordingStore) -> None:
    model = ScriptedChatModel(responses=[ai_tool_calls(("Memory", {"content": "x"}))])
    manager = create_memory_store_manager(model, namespace=("memories",), store=store)
    writes = await manager(CONVO)
    assert [w["namespace"] for w in writes] == [("memories",)]


def _without_times(value: Any) -> Any:
    """``value`` without what differs run to run: times, generated ids and run ids."""
    varies = ("change_id", "at", "at_epoch", "run_id", "valid_from", "invalid_from")
    if isinstance(value, dict):
        return {
            k: "<new>" if k == "key" and not str(v).startswith("k") else _without_times(v)
            for k, v in value.items()
            if not k.endswith("_at") and k not in varies
        }
    return value
