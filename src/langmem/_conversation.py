"""Render conversations (LangChain messages or role/content dicts) as plain text for prompts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langmem.errors import InvalidInputError

_ROLE_NAMES = {"human": "user", "ai": "assistant"}


def replace_surrogates(text: str) -> str:
    """``text`` with lone surrogates (from text decoded with errors, or a JSON "\\ud800"
    escape) replaced by '?': they are not valid Unicode, and no store or tokenizer takes them.

    Example:
        >>> replace_surrogates("caf\\ud800 au lait")
        'caf? au lait'
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def encodable(value: Any) -> Any:
    """``value`` with lone surrogates in its strings replaced by '?' and NUL characters dropped
    (in nested dicts and lists too). A model's JSON may escape either ("\\ud800", "\\u0000");
    no store or file can hold a lone surrogate, PostgreSQL cannot hold a NUL, and one such
    character would fail whatever is done with the model's output.

    Example:
        >>> encodable({"text": "a\\x00b\\ud800"})
        {'text': 'ab?'}
    """
    if isinstance(value, str):
        return replace_surrogates(value.replace("\x00", ""))
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encodable(v) for v in value]
    return value


def as_message(message: Any) -> Any:
    """``message`` as a LangChain message or role/content dict.

    The shorthands LangChain accepts everywhere are converted: a string is a user message and
    a ``(role, content)`` pair is a message of that role. Messages and dicts are returned as is.
    """
    is_pair = isinstance(message, (tuple, list)) and len(message) == 2
    if not isinstance(message, str) and not (is_pair and isinstance(message[0], str)):
        return message
    from langchain_core.messages import convert_to_messages

    try:
        (converted,) = convert_to_messages([message])
    except Exception as exc:  # LangChain's error for an unknown role: ours names the roles
        raise InvalidInputError(
            f"message {message!r} is not a message: a pair must be (role, content) "
            "with role 'user', 'assistant', 'system' or 'tool', such as ('user', 'hi')."
        ) from exc
    return converted


def message_role(message: Any) -> str:
    """The speaker of ``message`` as a short role name (user, assistant, system, tool...)."""
    message = as_message(message)
    if isinstance(message, dict):
        role = message.get("role") or message.get("type")
    else:
        role = getattr(message, "type", None)
    if not isinstance(role, str):
        raise InvalidInputError(
            f"message {message!r} has no role: pass LangChain messages, dicts with 'role' "
            "and 'content' keys, such as {'role': 'user', 'content': 'hi'}, (role, content) "
            "pairs or strings."
        )
    return _ROLE_NAMES.get(role, role)


def message_text(message: Any) -> str:
    """The text of ``message`` (list content flattened, tool calls shown compactly)."""
    message = as_message(message)
    content = message.get("content", "") if isinstance(message, dict) else message.content
    text = content_text(content)
    tool_calls = (
        message.get("tool_calls")
        if isinstance(message, dict)
        else getattr(message, "tool_calls", None)
    )
    if tool_calls:
        from langmem.utils import dumps

        if not isinstance(tool_calls, list) or not all(isinstance(c, dict) for c in tool_calls):
            raise InvalidInputError(
                f"an {message_role(message)!r} message has tool_calls={tool_calls!r:.200}, "
                "which is not a list of "
                "tool calls: give each as a dict {'name': ..., 'args': {...}, 'id': ...}, or "
                "leave tool_calls out."
            )

        calls = "; ".join(
            f"{call.get('name')}({dumps(call.get('args', {}))})" for call in tool_calls
        )
        text = f"{text}\n[tool calls: {calls}]" if text else f"[tool calls: {calls}]"
    return text


def content_text(content: Any) -> str:
    """Flatten string or list-of-blocks message content to text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for block in content:
            if isinstance(block, str):
                pieces.append(block)
            elif isinstance(block, dict):
                if block.get("type") == "text" or "text" in block:
                    pieces.append(str(block.get("text", "")))
                else:
                    pieces.append(f"[{block.get('type', 'block')}]")
        return "\n".join(p for p in pieces if p)
    return str(content)


def reply_text(content: Any) -> str:
    """The text a model answered: string content, or its text blocks joined. Other blocks
    (reasoning, thinking, tool use, images) are not part of the answer and are left out.

    Example:
        >>> reply_text([{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "Hi"}])
        'Hi'
    """
    if not isinstance(content, list):
        return content_text(content)
    pieces = [
        block if isinstance(block, str) else str(block.get("text") or "")
        for block in content
        if isinstance(block, str) or (isinstance(block, dict) and block.get("type") == "text")
    ]
    return "\n".join(p for p in pieces if p)


def get_conversation(messages: list[Any], delimiter: str = "\n\n") -> str:
    """Render ``messages`` as ``role: text`` lines joined by ``delimiter``.

    Example:
        >>> get_conversation(
        ...     [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
        ... )
        'user: hi\\n\\nassistant: hello'
    """
    converted = map(as_message, messages)  # once each: role and text both convert shorthands
    return delimiter.join(f"{message_role(m)}: {message_text(m)}" for m in converted)


def get_dialated_windows(messages: list[Any], N: int = 5, delimiter: str = "\n\n") -> list[str]:
    """Render the last 1, 2, 4, ... messages (up to ``N`` windows): growing views of the past.

    The name keeps upstream's spelling. Windows are returned newest-first and never repeat.
    """
    if N < 0:
        raise InvalidInputError(f"N={N} is negative: pass N >= 0 windows.")
    if not messages or N == 0:
        return []
    windows: list[str] = []
    size = 1
    last = -1
    while len(windows) < N:
        size_now = min(size, len(messages))
        if size_now != last:
            windows.append(get_conversation(messages[-size_now:], delimiter))
            last = size_now
        if size_now == len(messages):
            break
        size *= 2
    return windows


def format_sessions(sessions: Any) -> str:
    """Render one or several sessions (optionally with feedback) as tagged text for prompts.

    Accepts a string (returned as is), a list of messages (one session), a list of sessions, a
    ``(messages, feedback)`` pair, or a list of such pairs. Feedback may be a string or a dict.
    """
    if isinstance(sessions, str):
        return sessions
    if not sessions:
        return ""
    pairs = _as_session_pairs(sessions)
    from langmem.utils import dumps

    blocks = []
    for index, (messages, feedback) in enumerate(pairs):
        body = get_conversation(list(messages))
        block = f"<session id={index}>\n{body}\n</session>"
        if feedback:
            text = feedback if isinstance(feedback, str) else dumps(feedback)
            block += f"\n<feedback session={index}>\n{text}\n</feedback>"
        blocks.append(block)
    return "\n\n".join(blocks)


def _is_message(value: Any) -> bool:
    return (isinstance(value, dict) and ("role" in value or "type" in value)) or (
        hasattr(value, "content") and hasattr(value, "type")
    )


def _as_session_pairs(sessions: Any) -> list[tuple[Sequence[Any], Any]]:
    if isinstance(sessions, tuple) and len(sessions) == 2 and not _is_message(sessions[0]):
        return [(sessions[0], sessions[1])]
    items = list(sessions)
    if all(_is_message(item) for item in items):
        return [(items, None)]
    pairs: list[tuple[Sequence[Any], Any]] = []
    for item in items:
        if isinstance(item, tuple) and len(item) == 2:
            pairs.append((item[0], item[1]))
        elif hasattr(item, "messages") and hasattr(item, "feedback"):
            pairs.append((item.messages, item.feedback))
        elif isinstance(item, (list, tuple)):
            pairs.append((item, None))
        else:
            raise InvalidInputError(
                f"session {item!r} is not a list of messages or a (messages, feedback) pair: "
                "pass sessions as [[messages...], ...] or [(messages, feedback), ...]."
            )
    return pairs
