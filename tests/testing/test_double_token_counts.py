"""`ScriptedChatModel` counts tokens without the `transformers` package, so code written for a
provider model (``token_counter=model.get_num_tokens_from_messages``, as upstream's summarization
guide does) runs with the double. Before, it raised ImportError."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage

from langmem.short_term import summarize_messages
from langmem.testing import ScriptedChatModel


def test_the_double_counts_tokens_itself() -> None:
    model = ScriptedChatModel()
    assert model.get_num_tokens("x" * 40) == 10
    assert model.get_num_tokens_from_messages([HumanMessage("x" * 40)]) >= 10
    custom = ScriptedChatModel(custom_get_token_ids=lambda text: list(range(len(text.split()))))
    assert custom.get_num_tokens("a b c") == 3


def test_the_guide_s_token_counter_idiom_summarizes() -> None:
    model = ScriptedChatModel(default="They talked about tea.")
    chat = [HumanMessage("tea " * 300, id="1"), AIMessage("ok", id="2"), HumanMessage("hi", id="3")]
    result = summarize_messages(
        chat,
        running_summary=None,
        model=model,
        max_tokens=256,
        max_summary_tokens=64,
        token_counter=model.get_num_tokens_from_messages,
    )
    assert result.running_summary is not None
    assert result.running_summary.summary == "They talked about tea."
