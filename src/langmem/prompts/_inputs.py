"""Read optimizer inputs in every shape upstream accepts, and render trajectories for prompts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from langmem._conversation import get_conversation
from langmem.errors import InvalidInputError
from langmem.utils import dumps

_TRAJECTORY_SHAPES = (
    "pass trajectories as a list of (messages, feedback) pairs, AnnotatedTrajectory values or "
    "{'messages': [...], 'feedback': ...} dicts, or as one string"
)


@dataclass(frozen=True)
class PromptSpec:
    """A prompt as the optimizers use it, plus what is needed to give it back in its shape."""

    text: str
    name: str
    update_instructions: str
    when_to_update: str | None
    given: Any
    """The value the caller passed (a string or a Prompt dict)."""

    def with_text(self, text: str) -> Any:
        """The caller's value with its prompt text replaced, in the caller's shape."""
        if isinstance(self.given, str):
            return text
        return {**self.given, "prompt": text}


def read_prompt(value: Any, *, default_name: str = "prompt") -> PromptSpec:
    """A prompt given as a string or as a ``Prompt`` dict."""
    if isinstance(value, str):
        return PromptSpec(value, default_name, "", None, value)
    if isinstance(value, Mapping):
        text = value.get("prompt")
        if not isinstance(text, str):
            raise InvalidInputError(
                f"prompt {dict(value)!r} has no 'prompt' text: a Prompt is a dict such as "
                "{'name': 'assistant', 'prompt': 'You are ...'}; pass the prompt text under "
                "'prompt'."
            )
        name = value.get("name") or default_name
        if not isinstance(name, str):
            raise InvalidInputError(
                f"prompt name {name!r} ({type(name).__name__}) is not a string: the optimizer "
                "names prompts to the model by it. Pass 'name' as text, e.g. 'assistant'."
            )
        for field in ("update_instructions", "when_to_update"):
            given = value.get(field)
            if given is not None and not isinstance(given, str):
                raise InvalidInputError(
                    f"prompt {name!r} has {field}={given!r} ({type(given).__name__}): it must "
                    f"be text the model reads, or None. Pass it as one string."
                )
        return PromptSpec(
            text,
            name,
            _text(value.get("update_instructions")),
            value.get("when_to_update"),
            value,
        )
    raise InvalidInputError(
        f"prompt {value!r} is neither a string nor a Prompt dict: pass the prompt text, or "
        "{'name': ..., 'prompt': ...}."
    )


def read_single_input(input: Any) -> tuple[Any, PromptSpec]:
    """``(trajectories, prompt)`` of an :class:`~langmem.prompts.types.OptimizerInput`."""
    if not isinstance(input, Mapping) or "prompt" not in input or "trajectories" not in input:
        raise InvalidInputError(
            f"optimizer input {input!r} is not usable: pass a dict with 'trajectories' and "
            "'prompt', for example {'trajectories': [(messages, 'feedback')], 'prompt': "
            "'You are ...'}."
        )
    return input["trajectories"], read_prompt(input["prompt"])


def read_multi_input(input: Any) -> tuple[Any, list[PromptSpec]]:
    """``(trajectories, prompts)`` of a multi-prompt optimizer input; names must be unique."""
    if not isinstance(input, Mapping) or "prompts" not in input or "trajectories" not in input:
        raise InvalidInputError(
            f"optimizer input {input!r} is not usable: pass a dict with 'trajectories' and "
            "'prompts', for example {'trajectories': [(messages, 'feedback')], 'prompts': "
            "[{'name': 'a', 'prompt': '...'}]}."
        )
    prompts = input["prompts"]
    if isinstance(prompts, (str, Mapping)) or not isinstance(prompts, Sequence):
        raise InvalidInputError(
            f"prompts={prompts!r} is not a list: pass a list of Prompt dicts (or strings)."
        )
    specs = [read_prompt(p, default_name=f"prompt_{i}") for i, p in enumerate(prompts)]
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInputError(
            f"prompt names {duplicates} appear more than once: each Prompt needs a unique "
            "'name' so the optimizer can tell which one to change. Rename the duplicates."
        )
    return input["trajectories"], specs


def render_trajectories(trajectories: Any) -> str:
    """Trajectories as compact tagged text ('' when there are none)."""
    if trajectories is None:
        return ""
    if isinstance(trajectories, str):
        return trajectories.strip()
    blocks = []
    for number, (messages, feedback) in enumerate(_pairs(trajectories), start=1):
        body = _render_messages(messages)
        note = render_feedback(feedback)
        if not body and not note:
            continue
        block = f"<trajectory id={number}>\n{body}"
        if note:
            block += f"\n<feedback>{note}</feedback>"
        blocks.append(block + "\n</trajectory>")
    return "\n".join(blocks)


def render_feedback(feedback: Any) -> str:
    """Feedback as one short text: a string as is, a dict as ``key: value`` pairs."""
    if feedback is None:
        return ""
    if isinstance(feedback, str):
        return feedback.strip()
    if isinstance(feedback, Mapping):
        return "; ".join(
            f"{key}: {value if isinstance(value, str) else dumps(value)}"
            for key, value in feedback.items()
        )
    return dumps(feedback)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _is_message(value: Any) -> bool:
    if isinstance(value, Mapping):
        return "role" in value or "type" in value
    return hasattr(value, "content") and hasattr(value, "type")


_ROLES = frozenset({"user", "human", "assistant", "ai", "system", "developer", "tool"})


def _is_entry(value: Any) -> bool:
    """A message inside a conversation list: also LangChain's shorthands, a string (a user
    message) and a ``(role, content)`` pair."""
    if isinstance(value, str) or (
        isinstance(value, tuple) and len(value) == 2 and value[0] in _ROLES
    ):
        return True
    return _is_message(value)


def _is_pair(value: Any) -> bool:
    if not isinstance(value, (tuple, list)) or len(value) != 2 or _is_message(value[0]):
        return False
    first, second = value
    if isinstance(first, str):
        conversation = isinstance(value, tuple)  # ["a", "b"] is two conversations, not a pair
    else:
        conversation = isinstance(first, Sequence) and all(_is_entry(m) for m in first)
    return conversation and (second is None or _is_feedback(second))


def _is_feedback(value: Any) -> bool:
    """Feedback a trajectory pair may carry: text, a dict, or a bare score (a finite number;
    a bool, NaN or infinity scores nothing)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, (str, Mapping, int))


def _pairs(trajectories: Any) -> list[tuple[Any, Any]]:
    if isinstance(trajectories, Mapping) and "messages" in trajectories:
        return [(trajectories["messages"], trajectories.get("feedback"))]
    if _is_pair(trajectories):
        return [(trajectories[0], trajectories[1])]
    if not isinstance(trajectories, Sequence):
        raise InvalidInputError(
            f"trajectories={trajectories!r} is not usable: {_TRAJECTORY_SHAPES}."
        )
    items = list(trajectories)
    if items and all(_is_message(item) for item in items):
        return [(items, None)]  # one conversation without feedback
    pairs: list[tuple[Any, Any]] = []
    for item in items:
        if isinstance(item, Mapping) and "messages" in item:
            pairs.append((item["messages"], item.get("feedback")))
        elif _is_pair(item):
            pairs.append((item[0], item[1]))
        elif isinstance(item, str) or (isinstance(item, list) and all(map(_is_entry, item))):
            pairs.append((item, None))
        elif (
            isinstance(item, tuple)
            and len(item) == 2
            and _is_pair((item[0], None))
            and not _is_feedback(item[1])
        ):
            raise InvalidInputError(
                f"the feedback {item[1]!r} ({type(item[1]).__name__}) of trajectory "
                f"{len(pairs) + 1} is not usable: pass feedback as a string, a dict such as "
                "{'score': 0, 'comment': '...'}, a finite number (not a bool), or None."
            )
        else:
            raise InvalidInputError(
                f"trajectory {item!r} is not a conversation: {_TRAJECTORY_SHAPES}."
            )
    return pairs


def _render_messages(messages: Any) -> str:
    if isinstance(messages, str):
        return messages.strip()
    if not isinstance(messages, Sequence):
        raise InvalidInputError(f"messages {messages!r} are not a list: {_TRAJECTORY_SHAPES}.")
    return get_conversation(list(messages), delimiter="\n")
