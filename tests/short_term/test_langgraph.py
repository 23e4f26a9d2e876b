"""SummarizationNode in real LangGraph graphs: a checkpointed StateGraph and a ReAct agent hook."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, RemoveMessage, ToolMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import START, MessagesState, StateGraph
from langgraph.graph.message import REMOVE_ALL_MESSAGES
from pydantic import BaseModel
from typing_extensions import TypedDict

from langmem.errors import ConfigurationError, InvalidInputError
from langmem.short_term import RunningSummary, SummarizationNode
from langmem.testing import RecordedRequest, ScriptedChatModel

MAX_TOKENS = 400


class State(MessagesState):
    context: dict[str, Any]


class ModelInput(TypedDict):
    summarized_messages: list[AnyMessage]
    context: dict[str, Any]


def _summarizer() -> ScriptedChatModel:
    def reply(request: RecordedRequest) -> str:
        return f"summary after {len(request.messages)} messages " + "note " * 10

    return ScriptedChatModel(default=reply)


def _chat_graph(summarizer: ScriptedChatModel, agent: ScriptedChatModel, **node_kwargs: Any) -> Any:
    # summarize before the new messages and the summary (60) could pass MAX_TOKENS
    node = SummarizationNode(
        model=summarizer,
        max_tokens=MAX_TOKENS,
        max_tokens_before_summary=MAX_TOKENS - 60,
        max_summary_tokens=60,
        **node_kwargs,
    )

    key = node_kwargs.get("output_messages_key", "summarized_messages")

    def call_model(state: dict[str, Any]) -> dict[str, Any]:
        return {"messages": [agent.invoke(state[key])]}

    graph = StateGraph(State)
    graph.add_node("summarize", node)
    graph.add_node(
        "call_model", call_model, input_schema=ModelInput if key != "messages" else State
    )
    graph.add_edge(START, "summarize")
    graph.add_edge("summarize", "call_model")
    return graph.compile(checkpointer=InMemorySaver())


def _agent() -> ScriptedChatModel:
    turn = iter(range(1_000_000))
    return ScriptedChatModel(default=lambda request: f"answer {next(turn)} " + "word " * 25)


def test_a_checkpointed_graph_keeps_every_turn_within_budget_over_many_turns() -> None:
    summarizer, agent = _summarizer(), _agent()
    graph = _chat_graph(summarizer, agent)
    config = {"configurable": {"thread_id": "t1"}}
    for turn in range(40):
        graph.invoke({"messages": [HumanMessage(f"question {turn} " + "word " * 20)]}, config)
        # what the agent model sees always fits the budget and ends with the new question
        sent = agent.requests[-1].messages
        assert count_tokens_approximately(sent) <= MAX_TOKENS
        assert sent[-1].content.startswith(f"question {turn} ")
    state = graph.get_state(config).values
    assert len(state["messages"]) == 80  # the full history stays in the state
    summary = state["context"]["running_summary"]
    assert isinstance(summary, RunningSummary)
    assert summarizer.calls >= 5
    # every message is in the last model input or covered by the summary, which read it
    last_input = {m.id for m in agent.requests[-1].messages}
    read = "\n".join(r.text() for r in summarizer.requests)
    for message in state["messages"][:-1]:
        assert message.id in last_input or message.id in summary.summarized_message_ids
        if message.id in summary.summarized_message_ids:
            assert str(message.content) in read
    # the summary was extended, never redone: no message was sent to the summarizer twice
    for message in state["messages"]:
        assert sum(str(message.content) in r.text() for r in summarizer.requests) <= 1


async def test_the_same_graph_runs_asynchronously() -> None:
    summarizer, agent = _summarizer(), _agent()
    graph = _chat_graph(summarizer, agent)
    config = {"configurable": {"thread_id": "t2"}}
    for turn in range(25):
        await graph.ainvoke({"messages": [HumanMessage(f"q{turn} " + "word " * 20)]}, config)
        assert count_tokens_approximately(agent.requests[-1].messages) <= MAX_TOKENS
    state = (await graph.aget_state(config)).values
    assert isinstance(state["context"]["running_summary"], RunningSummary)
    assert summarizer.calls >= 3


def test_replacing_the_message_list_keeps_state_small_and_complete() -> None:
    summarizer, agent = _summarizer(), _agent()
    graph = _chat_graph(summarizer, agent, output_messages_key="messages")

    # in this mode the model node reads the replaced "messages"
    config = {"configurable": {"thread_id": "t3"}}
    for turn in range(30):
        graph.invoke({"messages": [HumanMessage(f"question {turn} " + "word " * 20)]}, config)
    messages = graph.get_state(config).values["messages"]
    # the state holds one summary message, the recent turns and the last answer
    assert sum(m.id.startswith("langmem-summary-") for m in messages) == 1
    assert count_tokens_approximately(messages[:-1]) <= MAX_TOKENS
    assert len(messages) < 20
    for request in summarizer.requests:
        assert "Summary of the earlier conversation" not in request.text()


def test_the_node_update_has_the_documented_shape() -> None:
    node = SummarizationNode(model=_summarizer(), max_tokens=MAX_TOKENS, max_summary_tokens=60)
    short = [HumanMessage("hi", id="h")]
    assert node.invoke({"messages": short}) == {"summarized_messages": short}
    long = [HumanMessage(f"q{i} " + "word " * 60, id=f"h{i}") for i in range(10)]
    update = node.invoke({"messages": long, "context": {"other": 1}})
    assert set(update) == {"summarized_messages", "context"}
    assert update["context"]["other"] == 1
    assert isinstance(update["context"]["running_summary"], RunningSummary)
    same = SummarizationNode(
        model=_summarizer(),
        max_tokens=MAX_TOKENS,
        max_summary_tokens=60,
        output_messages_key="messages",
    )
    replaced = same.invoke({"messages": long})["messages"]
    assert isinstance(replaced[0], RemoveMessage) and replaced[0].id == REMOVE_ALL_MESSAGES
    assert [m.id for m in replaced[1:]] == [m.id for m in update["summarized_messages"]]


def test_the_node_accepts_pydantic_state_and_explains_a_missing_key() -> None:
    class PydanticState(BaseModel):
        history: list[Any]
        context: dict[str, Any] = {}

    node = SummarizationNode(
        model=_summarizer(),
        max_tokens=MAX_TOKENS,
        max_summary_tokens=60,
        input_messages_key="history",
    )
    update = node.invoke(PydanticState(history=[HumanMessage("hi", id="h")]))
    assert [m.id for m in update["summarized_messages"]] == ["h"]
    with pytest.raises(InvalidInputError, match="no 'history' in the state"):
        node.invoke({"messages": []})
    with pytest.raises(ConfigurationError, match="max_tokens=-3"):
        SummarizationNode(model=_summarizer(), max_tokens=-3)


@tool
def lookup(city: str) -> str:
    """Look up the weather of a city."""
    return f"{city}: sunny " + "detail " * 40


def _agent_and_summarizer() -> ScriptedChatModel:
    """One scripted model playing both roles: the ReAct agent and the summarizer."""
    counter = iter(range(1_000_000))

    def reply(request: RecordedRequest) -> AIMessage | str:
        last = request.messages[-1]
        if "<transcript>" in str(last.content):
            return "summary: the user asked about the weather of several cities " + "x " * 10
        if isinstance(last, HumanMessage):
            number = next(counter)
            return AIMessage(
                "",
                tool_calls=[
                    {"name": "lookup", "args": {"city": f"c{number}a"}, "id": f"call{number}a"},
                    {"name": "lookup", "args": {"city": f"c{number}b"}, "id": f"call{number}b"},
                ],
            )
        assert isinstance(last, ToolMessage)
        return "It is sunny in both. " + "more " * 20

    return ScriptedChatModel(default=reply)


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_a_react_agent_summarizes_in_its_pre_model_hook() -> None:
    from langgraph.prebuilt import create_react_agent
    from langgraph.prebuilt.chat_agent_executor import AgentState

    class AgentWithSummary(AgentState):
        context: dict[str, Any]

    model = _agent_and_summarizer()
    hook = SummarizationNode(
        model=model,
        max_tokens=700,
        max_summary_tokens=80,
        output_messages_key="llm_input_messages",
    )
    agent = create_react_agent(
        model,
        [lookup],
        pre_model_hook=hook,
        state_schema=AgentWithSummary,
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "react"}}
    for turn in range(12):
        agent.invoke({"messages": [HumanMessage(f"weather question {turn}?")]}, config)
    agent_requests = [r for r in model.requests if r.tools]
    summary_requests = [r for r in model.requests if not r.tools]
    assert summary_requests, "the conversation outgrew the budget: the hook must have summarized"
    for request in agent_requests:
        assert count_tokens_approximately(request.messages) <= 700
        # every tool call the agent sees is followed by all of its results (provider-valid)
        pending: set[str] = set()
        for message in request.messages:
            if isinstance(message, ToolMessage):
                assert message.tool_call_id in pending
                pending.discard(message.tool_call_id)
            else:
                assert not pending
            if isinstance(message, AIMessage):
                pending |= {c["id"] for c in message.tool_calls}
    state = agent.get_state(config).values
    assert isinstance(state["context"]["running_summary"], RunningSummary)
    assert len(state["messages"]) == 12 * 5  # human, 2 parallel calls + results, answer


def test_a_checkpointer_that_refuses_unknown_types_still_carries_the_summary() -> None:
    # strict msgpack (LangGraph's future default) gives the summary back as a plain dict
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    summarizer, agent = _summarizer(), _agent()
    node = SummarizationNode(
        model=summarizer,
        max_tokens=MAX_TOKENS,
        max_tokens_before_summary=MAX_TOKENS - 60,
        max_summary_tokens=60,
    )

    def call_model(state: ModelInput) -> dict[str, Any]:
        return {"messages": [agent.invoke(state["summarized_messages"])]}

    builder = StateGraph(State)
    builder.add_node("summarize", node)
    builder.add_node("call_model", call_model)
    builder.add_edge(START, "summarize")
    builder.add_edge("summarize", "call_model")
    saver = InMemorySaver(serde=JsonPlusSerializer(allowed_msgpack_modules=None))
    graph = builder.compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "strict"}}
    for turn in range(25):
        graph.invoke({"messages": [HumanMessage(f"question {turn} " + "word " * 20)]}, config)
        assert count_tokens_approximately(agent.requests[-1].messages) <= MAX_TOKENS
    stored = graph.get_state(config).values["context"]["running_summary"]
    assert isinstance(stored, dict) and stored["summary"].startswith("summary after")
    # each message reached the summarizer at most once: the dict form kept the bookkeeping
    for message in graph.get_state(config).values["messages"]:
        assert sum(str(message.content) in r.text() for r in summarizer.requests) <= 1


async def test_the_node_sends_the_same_requests_sync_and_async() -> None:
    long = [HumanMessage(f"q{i} " + "word " * 60, id=f"h{i}") for i in range(12)]
    sync_model, async_model = _summarizer(), _summarizer()
    settings: dict[str, Any] = {"max_tokens": MAX_TOKENS, "max_summary_tokens": 60}
    sync_update = SummarizationNode(model=sync_model, **settings).invoke({"messages": long})
    async_update = await SummarizationNode(model=async_model, **settings).ainvoke(
        {"messages": long}
    )
    assert sync_update == async_update
    assert [r.messages for r in sync_model.requests] == [r.messages for r in async_model.requests]
    assert sync_model.calls >= 2


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_a_state_without_context_gets_a_warning_and_no_repeated_summaries() -> None:
    from langgraph.prebuilt import create_react_agent

    model = _agent_and_summarizer()
    hook = SummarizationNode(
        model=model, max_tokens=700, max_summary_tokens=80, output_messages_key="llm_input_messages"
    )
    # the default AgentState has no "context": LangGraph drops the node's summary update
    agent = create_react_agent(model, [lookup], pre_model_hook=hook, checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "no-context"}}
    with pytest.warns(RuntimeWarning, match="no 'context' key") as caught:
        for turn in range(12):
            agent.invoke({"messages": [HumanMessage(f"weather question {turn}?")]}, config)
    assert len([w for w in caught if issubclass(w.category, RuntimeWarning)]) == 1
    assert "context" not in agent.get_state(config).values
    summary_requests = [r for r in model.requests if not r.tools]
    assert summary_requests
    for message in agent.get_state(config).values["messages"]:
        if isinstance(message, (HumanMessage, ToolMessage)):  # their texts are unique
            text = str(message.content)
            assert sum(text in r.text() for r in summary_requests) <= 1


@tool
def fetch_page(url: str) -> str:
    """Fetch a web page."""
    if url == "big":
        return " ".join(f"line{i}" for i in range(6000))  # about 10x the budget below
    return f"{url}: short page"


@pytest.mark.filterwarnings("ignore:create_react_agent has been moved")
def test_a_40_turn_agent_thread_with_one_huge_tool_result_never_gets_stuck() -> None:
    from langgraph.prebuilt import create_react_agent
    from langgraph.prebuilt.chat_agent_executor import AgentState

    class AgentWithSummary(AgentState):
        context: dict[str, Any]

    def reply(request: RecordedRequest) -> AIMessage | str:
        last = request.messages[-1]
        if "<transcript>" in str(last.content):
            return "summary: pages fetched so far " + "x " * 10
        if isinstance(last, HumanMessage):
            url = "big" if "turn 17" in str(last.content) else "small"
            return AIMessage(
                "", tool_calls=[{"name": "fetch_page", "args": {"url": url}, "id": "c"}]
            )
        return "Read it. " + "more " * 10  # a tool result, or only the summary of one

    model = ScriptedChatModel(default=reply)
    hook = SummarizationNode(
        model=model,
        max_tokens=1500,
        max_tokens_before_summary=1200,
        max_summary_tokens=150,
        output_messages_key="llm_input_messages",
    )
    agent = create_react_agent(
        model,
        [fetch_page],
        pre_model_hook=hook,
        state_schema=AgentWithSummary,
        checkpointer=InMemorySaver(),
    )
    config = {"configurable": {"thread_id": "huge"}}
    for turn in range(40):
        result = agent.invoke({"messages": [HumanMessage(f"turn {turn}: fetch it")]}, config)
        assert result["messages"][-1].content.startswith("Read it.")  # the agent answered
    agent_inputs = [r for r in model.requests if r.tools]
    summaries = [r for r in model.requests if not r.tools]
    # the huge page was read by the summarizer in parts that fit the budget, never sent whole
    assert any("line5999" in r.text() for r in summaries)
    assert all(count_tokens_approximately(r.messages) <= 1500 for r in summaries)
    assert max(count_tokens_approximately(r.messages) for r in agent_inputs) <= 1500
    # recovered: the turns after it see their own question again, within budget
    assert str(agent_inputs[-2].messages[-1].content).startswith("turn 39")
    state = agent.get_state(config).values
    assert len(state["messages"]) == 40 * 4
