"""Short-term memory: running summaries that keep a conversation inside a token budget.

Example:
    >>> from langmem.short_term import RunningSummary, summarize_messages
    >>> from langmem.testing import ScriptedChatModel
    >>> chat = [{"role": "user", "content": "hi"}]
    >>> result = summarize_messages(chat, running_summary=None, model=ScriptedChatModel(),
    ...                             max_tokens=100, max_summary_tokens=20)
    >>> result.running_summary is None
    True
"""

from langmem.short_term.summarization import (
    RunningSummary,
    SummarizationNode,
    SummarizationResult,
    asummarize_messages,
    summarize_messages,
)

__all__ = [
    "RunningSummary",
    "SummarizationNode",
    "SummarizationResult",
    "asummarize_messages",
    "summarize_messages",
]
