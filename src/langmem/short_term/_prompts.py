"""Text the summarizer sees, and the message that carries the summary back to the agent.

The messages to summarize reach the summarizing model as one transcript inside a single human
message: a provider accepts it whatever the conversation holds (tool results whose call was
summarized earlier, system messages in the middle, no human message at all), and tool calls stay
next to their results.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from langmem._conversation import content_text, message_role, replace_surrogates

_KEEP = (
    "Keep names, facts, numbers, preferences, decisions, useful tool results and open "
    "questions. Be brief."
)

DEFAULT_INITIAL_SUMMARY_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "Summarize the conversation in the transcript for the assistant's memory. " + _KEEP,
        ),
        MessagesPlaceholder("messages"),
    ]
)

DEFAULT_EXISTING_SUMMARY_PROMPT = ChatPromptTemplate.from_messages(
    [
        (
            "system",
            "Summary of the conversation so far:\n{existing_summary}\n\nRewrite this summary to "
            "include what the transcript adds, for the assistant's memory. " + _KEEP,
        ),
        MessagesPlaceholder("messages"),
    ]
)

DEFAULT_FINAL_SUMMARY_PROMPT = ChatPromptTemplate.from_messages(
    [
        MessagesPlaceholder("system_message", optional=True),
        ("system", "Summary of the earlier conversation:\n{summary}"),
        MessagesPlaceholder("messages"),
    ]
)

# a message too long for one request is sent in parts, marked so the model knows
PART_CUT = " [...continued in the next transcript]"
PART_CONTINUED = "[...continued] "
# a message too long for the budget altogether: the middle the model does not see
PART_SKIPPED = " [...{count} characters not shown...] "

TRANSCRIPT_OPEN = "<transcript>"
TRANSCRIPT_CLOSE = "</transcript>"


def render_message(message: BaseMessage, call_names: Mapping[str, str] | None = None) -> str:
    """One message as transcript text: ``role: text``, tool calls and results with their ids.

    Example:
        >>> from langchain_core.messages import ToolMessage
        >>> render_message(ToolMessage("sunny", tool_call_id="c1"), {"c1": "weather"})
        'tool result weather [c1]: sunny'
    """
    text = content_text(message.content)
    if isinstance(message, ToolMessage):
        tool = message.name or (call_names or {}).get(message.tool_call_id)
        name = f" {tool}" if tool else ""
        return f"tool result{name} [{message.tool_call_id}]: {text}"
    if isinstance(message, AIMessage) and message.tool_calls:
        calls = "\n".join(
            f"  calls {call['name']}({_compact(call.get('args', {}))}) [{call.get('id') or ''}]"
            for call in message.tool_calls
        )
        return f"assistant: {text}\n{calls}" if text else f"assistant:\n{calls}"
    role = message_role(message)
    return f"{role}: {text}"


def transcript_message(rendered: Sequence[str]) -> HumanMessage:
    """The human message holding the transcript of already rendered messages."""
    body = replace_surrogates("\n\n".join(rendered))
    return HumanMessage(content=f"{TRANSCRIPT_OPEN}\n{body}\n{TRANSCRIPT_CLOSE}")


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
