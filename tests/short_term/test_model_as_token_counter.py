"""A chat model as `token_counter` counts with its tokenizer, as LangChain's `trim_messages`
allows: it was refused as "not callable"."""

from __future__ import annotations

import asyncio
from typing import Any

from langmem.short_term import SummarizationNode, asummarize_messages, summarize_messages
from langmem.testing import ScriptedChatModel

MESSAGES = [
    {"role": "user" if n % 2 == 0 else "assistant", "content": f"turn {n} " + "word " * 40}
    for n in range(10)
]

BUDGET = {"max_tokens": 150, "max_summary_tokens": 40}


class CountingModel(ScriptedChatModel):
    """A chat model whose tokenizer counts words (a provider model uses its own)."""

    def get_num_tokens_from_messages(self, messages: list[Any], tools: Any = None) -> int:
        return sum(len(str(m.content).split()) for m in messages)


def _words(messages: list[Any]) -> int:
    return sum(len(str(m.content).split()) for m in messages)


def _summarized(counter: Any) -> list[Any]:
    result = summarize_messages(
        MESSAGES,
        running_summary=None,
        model=ScriptedChatModel(default="the summary"),
        token_counter=counter,
        **BUDGET,
    )
    assert result.running_summary is not None
    return [m.content for m in result.messages]


def test_a_chat_model_counts_tokens_like_its_tokenizer() -> None:
    assert _summarized(CountingModel(default="x")) == _summarized(_words)


def test_async_and_the_node_take_it_too() -> None:
    summarizer = ScriptedChatModel(default="the summary")
    result = asyncio.run(
        asummarize_messages(
            MESSAGES,
            running_summary=None,
            model=summarizer,
            token_counter=CountingModel(default="x"),
            **BUDGET,
        )
    )
    assert result.running_summary is not None
    node = SummarizationNode(model=summarizer, token_counter=CountingModel(), **BUDGET)
    assert node.invoke({"messages": MESSAGES})["context"]["running_summary"] is not None
