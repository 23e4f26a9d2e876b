"""Running summaries, offline: a long chat kept inside a token budget.

Part 1 calls ``summarize_messages`` turn by turn and carries the ``RunningSummary`` over.
Part 2 puts a ``SummarizationNode`` in front of the model in a checkpointed LangGraph graph.
Both use scripted models (``langmem.testing.ScriptedChatModel``), so no key and no network.

Run: ``python examples/summarization.py``
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import START, MessagesState, StateGraph
from typing_extensions import TypedDict

from langmem.short_term import RunningSummary, SummarizationNode, summarize_messages
from langmem.testing import ScriptedChatModel

QUESTIONS = [
    "I'm Ada, I live in Lyon and I'm planning a trip to Turin in May.",
    "What is the fastest train from Lyon to Turin?",
    "Book the 08:12 one, window seat please.",
    "What should I visit first in Turin?",
    "Is the Egyptian Museum open on Mondays?",
    "Find me a vegetarian restaurant near Piazza Castello.",
    "What is the weather usually like there in May?",
    "Remind me, which train did I book?",
]


def summarizer() -> ScriptedChatModel:
    """Stands in for a real model: writes a short 'summary' naming how much it read."""
    return ScriptedChatModel(
        default=lambda request: (
            "Ada (Lyon) plans a May trip to Turin; booked the 08:12 train, window seat; "
            f"asked about sights and food. ({len(request.text())} characters read)"
        )
    )


def answer(question: str) -> AIMessage:
    return AIMessage(f"Here is a detailed answer about: {question} " + "Details follow. " * 12)


def plain_python() -> None:
    print("1. summarize_messages, turn by turn (max_tokens=400)")
    model = summarizer()
    history: list[Any] = [SystemMessage("You are a travel assistant.")]
    summary: RunningSummary | None = None
    for question in QUESTIONS:
        history.append(HumanMessage(question))
        result = summarize_messages(
            history, running_summary=summary, model=model, max_tokens=400, max_summary_tokens=80
        )
        summary = result.running_summary
        sent = result.messages  # what the chat model would get this turn
        history.append(answer(question))
        covered = len(summary.summarized_message_ids) if summary else 0
        print(
            f"   turn with {len(history) - 1:>2} messages -> {len(sent):>2} sent, "
            f"{count_tokens_approximately(sent):>3} tokens, {covered:>2} covered by the summary"
        )
    print(f"   summarizer calls: {model.calls}; summary: {summary.summary if summary else None}")


class State(MessagesState):
    context: dict[str, Any]


class ModelInput(TypedDict):
    summarized_messages: list[AnyMessage]
    context: dict[str, Any]


def langgraph_node() -> None:
    print("2. SummarizationNode in a StateGraph with a checkpointer")
    chat_model = ScriptedChatModel(default=lambda request: answer(request.messages[-1].content))
    node = SummarizationNode(model=summarizer(), max_tokens=400, max_summary_tokens=80)

    def call_model(state: ModelInput) -> dict[str, Any]:
        return {"messages": [chat_model.invoke(state["summarized_messages"])]}

    builder = StateGraph(State)
    builder.add_node("summarize", node)
    builder.add_node("call_model", call_model)
    builder.add_edge(START, "summarize")
    builder.add_edge("summarize", "call_model")
    # let the checkpointer restore RunningSummary objects (LangGraph asks types to be listed)
    serde = JsonPlusSerializer(
        allowed_msgpack_modules=[("langmem.short_term.summarization", "RunningSummary")]
    )
    graph = builder.compile(checkpointer=InMemorySaver(serde=serde))
    config = {"configurable": {"thread_id": "ada"}}
    for question in QUESTIONS:
        graph.invoke({"messages": [HumanMessage(question)]}, config)
        sent = chat_model.requests[-1].messages
        print(f"   model saw {len(sent):>2} messages, {count_tokens_approximately(sent):>3} tokens")
    state = graph.get_state(config).values
    print(
        f"   state keeps all {len(state['messages'])} messages; running summary covers "
        f"{len(state['context']['running_summary'].summarized_message_ids)}"
    )


if __name__ == "__main__":
    plain_python()
    langgraph_node()
