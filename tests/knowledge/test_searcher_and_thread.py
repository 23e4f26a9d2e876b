"""create_memory_searcher and create_thread_extractor."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langgraph.func import entrypoint
from langgraph.store.base import SearchOp
from pydantic import BaseModel

from langmem import create_memory_searcher, create_thread_extractor
from langmem.errors import ModelOutputError, StoreNotFoundError
from langmem.knowledge.extraction import SummarizeThread
from langmem.testing import ScriptedChatModel, ai_tool_calls
from tests.knowledge._support import CFG, CONVO, NS, RecordingStore, transcript


def seeded() -> RecordingStore:
    store = RecordingStore()
    store.inner.put(NS, "k1", {"content": "Drinks green tea"})
    store.inner.put(NS, "k2", {"content": "Lives in Lisbon by the river"})
    store.inner.put(("memories", "someone-else"), "k3", {"content": "Drinks green tea too"})
    return store


class TestSearcher:
    def run(self, model: ScriptedChatModel, store: RecordingStore) -> list[Any]:
        searcher = create_memory_searcher(model)

        @entrypoint(store=store)
        def find(messages: list[Any]) -> list[Any]:
            return searcher.invoke({"messages": messages})

        return find.invoke(CONVO, CFG)  # type: ignore[no-any-return]

    def test_one_query_call_one_store_batch_merged_and_sorted(self) -> None:
        store = seeded()
        model = ScriptedChatModel(
            responses=[ai_tool_calls(("search_memory", {"queries": ["green tea", "Lisbon river"]}))]
        )
        results = self.run(model, store)
        assert {item.key for item in results} == {"k1", "k2"}  # only this user's namespace
        scores = [item.score for item in results]
        assert scores == sorted(scores, reverse=True)
        assert len(store.batches) == 1
        assert [op.query for op in store.batches[0] if isinstance(op, SearchOp)] == [
            "green tea",
            "Lisbon river",
        ]
        assert model.calls == 1 and model.requests[0].tool_choice == "search_memory"
        assert "green tea last month" in transcript(model.requests[0])[1][1]

    def test_no_queries_means_no_results_and_no_store_call(self) -> None:
        store = seeded()
        assert self.run(ScriptedChatModel(responses=["no search needed"]), store) == []
        assert store.batches == []

    async def test_async_matches_sync(self) -> None:
        def model() -> ScriptedChatModel:
            return ScriptedChatModel(
                responses=[ai_tool_calls(("search_memory", {"queries": ["tea"]}))]
            )

        store_sync, store_async = seeded(), seeded()
        sync_model, async_model = model(), model()
        searcher_sync = create_memory_searcher(sync_model)
        searcher_async = create_memory_searcher(async_model)

        @entrypoint(store=store_sync)
        def find(messages: list[Any]) -> list[str]:
            return [i.key for i in searcher_sync.invoke({"messages": messages})]

        @entrypoint(store=store_async)
        async def afind(messages: list[Any]) -> list[str]:
            return [i.key for i in await searcher_async.ainvoke({"messages": messages})]

        assert find.invoke(CONVO, CFG) == await afind.ainvoke(CONVO, CFG)
        assert store_sync.batches == store_async.batches
        assert transcript(sync_model.requests[0]) == transcript(async_model.requests[0])

    def test_outside_a_graph_the_error_says_what_to_do(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("LANGMEM_STORE", "none")  # no default embedded store either
        searcher = create_memory_searcher(ScriptedChatModel(responses=["x"]))
        with pytest.raises(StoreNotFoundError, match="store"):
            searcher.invoke({"messages": CONVO}, CFG)  # type: ignore[arg-type]


class Ticket(BaseModel):
    """A support ticket."""

    issue: str
    urgent: bool


class TestThreadExtractor:
    def test_default_schema_is_summarize_thread(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("SummarizeThread", {"title": "Tea", "summary": "Switched to tea"}))
            ]
        )
        out = create_thread_extractor(model).invoke({"messages": CONVO})  # type: ignore[arg-type]
        assert out == SummarizeThread(title="Tea", summary="Switched to tea")
        request = model.requests[0]
        assert request.tool_choice == "SummarizeThread"
        assert "<conversation>\nuser: I switched" in transcript(request)[1][1]

    async def test_custom_schema_and_instructions_async(self) -> None:
        model = ScriptedChatModel(
            responses=[ai_tool_calls(("Ticket", {"issue": "locked out", "urgent": True}))]
        )
        extractor = create_thread_extractor(model, schema=Ticket, instructions="File a ticket.")
        out = await extractor.ainvoke({"messages": CONVO})  # type: ignore[arg-type]
        assert out == Ticket(issue="locked out", urgent=True)
        assert transcript(model.requests[0])[0] == ("system", "File a ticket.")
        assert model.requests[0].tools[0]["function"]["description"] == "A support ticket."

    def test_invalid_output_is_corrected(self) -> None:
        model = ScriptedChatModel(
            responses=[
                ai_tool_calls(("Ticket", {"issue": "x"})),
                "I forgot the tool",
                ai_tool_calls(("Ticket", {"issue": "x", "urgent": False})),
            ]
        )
        out = create_thread_extractor(model, schema=Ticket).invoke({"messages": CONVO})  # type: ignore[arg-type]
        assert out == Ticket(issue="x", urgent=False)
        last = model.requests[2].messages
        assert last[-1].type == "human" and "call Ticket" in str(last[-1].content)
        assert model.requests[1].messages[-1].type == "tool"

    def test_gives_up_with_a_typed_error(self) -> None:
        model = ScriptedChatModel(default=AIMessage(content="no"))
        with pytest.raises(ModelOutputError) as caught:
            create_thread_extractor(model).invoke({"messages": CONVO})  # type: ignore[arg-type]
        assert caught.value.attempts == 3 == model.calls
