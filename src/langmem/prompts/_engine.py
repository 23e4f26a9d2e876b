"""The steps every optimizer is made of, written once as flows (see :mod:`langmem._flow`).

- :func:`answer`: ask the model until it calls the final tool with usable arguments; optional
  reflection calls first (``min_steps``/``max_steps``), bounded corrections after unusable replies.
- :func:`propose_prompt`: one forced ``submit_prompt`` answer, checked by :func:`check_proposal`.
- :func:`check_proposal`: the safety rules for a proposed prompt (variables kept, braces escaped,
  empty or unchanged proposals mean "keep the original").
- :func:`in_parallel`: run several flows side by side through :class:`~langmem._flow.Parallel`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from langmem._conversation import encodable
from langmem._flow import Effect, Flow, ModelCall, Parallel
from langmem._models import ModelRef
from langmem._templates import heal_prompt, is_clean_template, missing_variables, template_variables
from langmem.prompts import _prompts

T = TypeVar("T")

logger = logging.getLogger("langmem.prompts")

MAX_CORRECTIONS = 2
"""Extra model calls allowed, per answer, after replies that could not be used."""

Check = Callable[[dict[str, Any]], tuple[Any, str | None]]

_NOTHING = object()


@dataclass(frozen=True)
class Outcome:
    """What an optimization produced for one prompt."""

    text: str
    changed: bool
    reason: str = ""
    """Why the original prompt was kept although the model proposed something (else empty)."""


def answer(
    model: ModelRef,
    config: Any,
    task: str,
    final_tool: dict[str, Any],
    check: Check,
    *,
    min_steps: int = 0,
    max_steps: int = 1,
) -> Flow[tuple[Any, str]]:
    """Ask until the model calls ``final_tool`` with arguments that ``check`` accepts.

    The first ``min_steps`` calls offer only the reflect tool; later calls offer both; call
    ``max_steps`` forces the final tool. The loop stops at the first usable final answer. After an
    unusable reply the problem goes back to the model, at most :data:`MAX_CORRECTIONS` times.

    Returns ``(value, "")`` with what ``check`` made of the arguments, or ``(None, reason)``.
    """
    history: list[BaseMessage] = [HumanMessage(task)]
    max_steps = max(1, max_steps)
    reflections = min(max(0, min_steps), max_steps - 1)
    final = final_tool["name"]
    step = corrections = 0
    while True:
        if step < reflections:
            offered, choice = [_prompts.reflect_tool()], _prompts.REFLECT
        elif step >= max_steps - 1:
            offered, choice = [final_tool], final
        else:
            offered, choice = [_prompts.reflect_tool(), final_tool], "any"
        runnable = model.get().bind_tools(offered, tool_choice=choice)
        reply = yield ModelCall(runnable, list(history), config)
        step += 1
        if not isinstance(reply, AIMessage):
            reply = AIMessage(content=str(getattr(reply, "content", reply)))
        history.append(reply)
        names = [tool["name"] for tool in offered]
        value, problem, responses = _read_reply(reply, names, final, check)
        history.extend(responses)
        if problem is None and value is not _NOTHING:
            return value, ""
        if problem is None:
            continue  # a reflection step
        corrections += 1
        if corrections > MAX_CORRECTIONS:
            return None, (
                f"no usable answer in {corrections} replies, {MAX_CORRECTIONS} of them to "
                f"corrections (last problem: {problem})"
            )
        if not responses:
            history.append(HumanMessage(problem))
        step = min(step, max_steps - 1)  # a failed final answer is asked for again


def _read_reply(
    reply: AIMessage, offered: list[str], final: str, check: Check
) -> tuple[Any, str | None, list[BaseMessage]]:
    """``(value, problem, tool responses)`` for one reply (``value`` is _NOTHING if none)."""
    calls = list(reply.tool_calls or [])
    invalid = list(getattr(reply, "invalid_tool_calls", None) or [])
    tools = " or ".join(offered)
    responses: list[BaseMessage] = []
    value: Any = _NOTHING
    problem: str | None = None
    for call in calls:
        name, call_id = call.get("name"), call.get("id") or ""
        if name not in offered:
            problem = problem or _prompts.FIX_UNKNOWN_TOOL.format(name=name, tools=tools)
            responses.append(ToolMessage(problem, tool_call_id=call_id, status="error"))
        elif name == final and value is _NOTHING:
            checked, error = check(encodable(dict(call.get("args") or {})))
            if error is None:
                value = checked  # a usable final answer ends the loop: no response is sent
            else:
                problem = problem or error
                responses.append(ToolMessage(error, tool_call_id=call_id, status="error"))
        elif name == final:
            responses.append(ToolMessage(_prompts.FIX_SKIPPED, tool_call_id=call_id))
        else:
            responses.append(ToolMessage(_prompts.REFLECT_ACK, tool_call_id=call_id))
    for call in invalid:
        text = bad_arguments(call.get("name"), call.get("error"))
        problem = problem or text
        if call.get("id"):
            responses.append(ToolMessage(text, tool_call_id=call["id"], status="error"))
    if value is not _NOTHING:
        return value, None, responses
    if not calls and not invalid:
        problem = _prompts.FIX_NO_TOOL_CALL.format(tools=tools)
    return _NOTHING, problem, responses


def check_proposal(original: str) -> Check:
    """A check for ``submit_prompt`` arguments proposing a new version of ``original``.

    An empty, unchanged or "no change" proposal keeps the original. A proposal that lost a
    template variable is refused with feedback. Other braces are escaped when the original is a
    clean format template, so ``str.format`` keeps working on the result.
    """
    variables = template_variables(original)
    escape = is_clean_template(original)

    def check(args: dict[str, Any]) -> tuple[Any, str | None]:
        changed, new, edits = args.get("changed"), args.get("new_prompt"), args.get("edits")
        if new is not None and not isinstance(new, str):
            return None, bad_arguments(_prompts.SUBMIT_PROMPT, "new_prompt must be a string")
        if changed is not False and not (new or "").strip() and edits:
            new, problem = apply_edits(original, edits)
            if problem:
                return None, problem
        if changed is False or not (new or "").strip():
            return Outcome(original, changed=False), None
        assert isinstance(new, str)
        missing = missing_variables(variables, new)
        if missing:
            names = ", ".join("{" + name + "}" for name in missing)
            return None, _prompts.FIX_MISSING_VARIABLES.format(names=names)
        healed = heal_prompt(new.strip(), variables, escape_braces=escape)
        if healed.strip() == original.strip():
            return Outcome(original, changed=False), None
        return Outcome(healed, changed=True), None

    return check


def apply_edits(text: str, edits: Any) -> tuple[str, str | None]:
    """Apply find/replace ``edits`` in order; each ``find`` must occur exactly once."""
    shape = "edits must be a list of {find, replace} objects with string values"
    if not isinstance(edits, list):
        return text, bad_arguments(_prompts.SUBMIT_PROMPT, shape)
    for number, edit in enumerate(edits, start=1):
        find = edit.get("find") if isinstance(edit, dict) else None
        replace = edit.get("replace", "") if isinstance(edit, dict) else None
        if not isinstance(find, str) or not find or not isinstance(replace, str):
            return text, bad_arguments(_prompts.SUBMIT_PROMPT, shape)
        count = text.count(find)
        if count != 1:
            found = "does not occur" if count == 0 else f"occurs {count} times"
            return text, _prompts.FIX_EDIT_NOT_FOUND.format(number=number, count=found)
        text = text.replace(find, replace, 1)
    return text, None


def propose_prompt(
    model: ModelRef, config: Any, task: str, original: str, **loop: Any
) -> Flow[Outcome]:
    """Get a new version of ``original`` from the model (with reflection if ``loop`` asks)."""
    tool = _prompts.submit_prompt_tool(template_variables(original))
    outcome, reason = yield from answer(model, config, task, tool, check_proposal(original), **loop)
    if outcome is None:
        return Outcome(original, changed=False, reason=reason)
    assert isinstance(outcome, Outcome)
    return outcome


def in_parallel(flows: Sequence[Flow[T]]) -> Flow[list[T]]:
    """Run ``flows`` side by side: each round sends every pending effect as one Parallel."""
    results: list[Any] = [None] * len(flows)
    pending: dict[int, Effect] = {}
    for index, flow in enumerate(flows):
        try:
            pending[index] = next(flow)
        except StopIteration as stop:
            results[index] = stop.value
    while pending:
        order = list(pending)
        if len(order) == 1:
            outputs = [(yield pending[order[0]])]
        else:
            outputs = yield Parallel([pending[i] for i in order])  # type: ignore[misc]
        for index, output in zip(order, outputs):
            try:
                pending[index] = flows[index].send(output)
            except StopIteration as stop:
                results[index] = stop.value
                del pending[index]
    return results


def bad_arguments(tool: str, problem: str) -> str:
    """The correction sent back for a tool call whose arguments could not be used."""
    return _prompts.FIX_BAD_ARGUMENTS.format(tool=tool, problems=problem)


def model_config(config: Any) -> Any:
    """The caller's run config minus what names a run (each model call is its own run)."""
    if not config:
        return None
    return {k: v for k, v in dict(config).items() if k not in ("run_name", "run_id")}
