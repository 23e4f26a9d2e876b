"""``langmem extract | summarize | optimize``: the pipelines, run on files from a shell.

Conversations are JSON (a list of ``{"role", "content"}`` messages, or ``{"messages": [...]}``)
or JSON Lines (one message per line). Models are ``provider:model`` strings; a missing provider
package or API key is reported before any work starts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any

import click

from langmem.cli._app import output_options, store_option
from langmem.cli._memories import _opened
from langmem.cli._numbers import Whole
from langmem.cli._output import Output, source_name
from langmem.cli._streams import InputFile
from langmem.cli._target import parse_namespace
from langmem.errors import ConfigurationError, InvalidInputError

_model_option = click.option(
    "--model",
    "-m",
    "model_name",
    required=True,
    metavar="PROVIDER:MODEL",
    envvar="LANGMEM_MODEL",
    help="Chat model, e.g. openai:gpt-4o-mini (also $LANGMEM_MODEL).",
)


def load_model(spec: str) -> Any:
    """The chat model for ``spec``, with a clear error for a missing package or API key."""
    from langmem._models import init_model

    return init_model(spec)


def _read_text(stream: IO[str], name: str) -> str:
    """The whole of ``stream``; text that is not UTF-8 names the file and the fix."""
    try:
        return stream.read()
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{name} is not UTF-8 text ({exc.reason} at byte {exc.start}). Fix: save it as "
            "UTF-8, e.g. `iconv -f latin1 -t utf-8 FILE > FILE.utf8`."
        ) from None


def read_messages(stream: IO[str]) -> list[dict[str, Any]]:
    """Messages from JSON or JSON Lines; a bad message names its line or position."""
    name = source_name(stream)
    text = _read_text(stream, name)
    stripped = text.lstrip()
    if stripped.startswith("[") or (stripped.startswith("{") and "\n{" not in stripped.strip()):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"{name}, line {exc.lineno}: not JSON ({exc.msg}). Give a JSON list of "
                '{"role", "content"} messages, or JSON Lines with one message per line.'
            ) from None
        found = data.get("messages") if isinstance(data, dict) else data
        if isinstance(data, dict) and found is None and "role" in data:
            found = [data]
        if not isinstance(found, list):
            raise InvalidInputError(
                f'{name}: expected a list of messages or {{"messages": [...]}}; got '
                f"{type(data).__name__}."
            )
        for index, message in enumerate(found):
            _check_message(message, f"{name}, message {index + 1}")
        if not found:
            raise InvalidInputError(f"{name} holds no messages: give at least one.")
        return found
    messages: list[dict[str, Any]] = []
    for where, message in _json_lines(text.splitlines(), name, MESSAGE_SHAPE):
        _check_message(message, where)
        messages.append(message)
    if not messages:
        raise InvalidInputError(f"{name} holds no messages: give at least one.")
    return messages


MESSAGE_SHAPE = 'one {"role": ..., "content": ...} message'
TRAJECTORY_SHAPE = '{"messages": [...], "feedback": ...}'


def _json_lines(lines: Iterable[str], name: str, shape: str) -> Iterator[tuple[str, Any]]:
    """``("<name>, line N", record)`` for each non-blank JSON line; a bad line raises."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}, line {number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"{where}: not JSON ({exc.msg}). Each line must be {shape}."
            ) from None


def _check_message(message: Any, where: str) -> None:
    if (
        not isinstance(message, dict)
        or not isinstance(message.get("role"), str)
        or "content" not in message
    ):
        raise InvalidInputError(
            f'{where}: {json.dumps(message)[:80]} is not a {{"role": ..., "content": ...}} message.'
        )


@click.command()
@click.argument("file", type=InputFile("cat chat.json | langmem extract - -m PROVIDER:MODEL"))
@_model_option
@click.option(
    "--namespace",
    "-n",
    metavar="NS",
    default="memories",
    show_default=True,
    help="Where the memories go, e.g. memories/user-123.",
)
@click.option("--deletes/--no-deletes", default=False, help="Let the model delete memories.")
@click.option("--instructions", help="What to remember and how (default: langmem's).")
@store_option
@output_options
def extract(
    file: IO[str],
    model_name: str,
    namespace: str,
    deletes: bool,
    instructions: str | None,
    store_url: str | None,
    table: bool,
) -> None:
    """Extract memories from the conversation in FILE into the store (one store-manager turn).

    Prints each memory written (deleted ones are not printed).
    """
    from langmem.knowledge._history import check_namespace
    from langmem.knowledge.extraction import create_memory_store_manager

    labels = check_namespace(parse_namespace(namespace, required=True))  # before the model
    messages = read_messages(file)
    model = load_model(model_name)
    extra: dict[str, Any] = {} if instructions is None else {"instructions": instructions}
    with _opened(store_url, must_exist=False) as target:
        manager = create_memory_store_manager(
            model, namespace=labels, store=target, enable_deletes=deletes, **extra
        )
        written = manager.invoke({"messages": messages})  # type: ignore[typeddict-item]
        rows = [
            {"namespace": list(w["namespace"]), "key": w["key"], "value": w["value"]}
            for w in written
        ]
        Output(table=table).records(rows, ["namespace", "key", "value"])


@click.command()
@click.argument("file", type=InputFile("cat chat.json | langmem summarize - -m PROVIDER:MODEL"))
@_model_option
@click.option("--max-tokens", default=1024, show_default=True, type=Whole(16, 1024))
@click.option("--max-summary-tokens", default=256, show_default=True, type=Whole(16, 256))
@output_options
def summarize(
    file: IO[str], model_name: str, max_tokens: int, max_summary_tokens: int, table: bool
) -> None:
    """Fit the conversation in FILE into --max-tokens by summarizing its older messages.

    Prints the summary (empty when nothing needed summarizing) and the messages to keep.
    """
    from langmem.short_term import summarize_messages

    messages = read_messages(file)
    model = load_model(model_name)
    result = summarize_messages(
        messages,  # type: ignore[arg-type]
        running_summary=None,
        model=model,
        max_tokens=max_tokens,
        max_summary_tokens=max_summary_tokens,
    )
    summary = result.running_summary.summary if result.running_summary else ""
    kept = [_as_input(m) for m in result.messages]
    Output(table=table).record({"summary": summary, "messages": kept})


_INPUT_ROLES = {"human": "user", "ai": "assistant"}


def _as_input(message: Any) -> dict[str, Any]:
    """``message`` as the ``{"role", "content"}`` dict this command reads, with an assistant's
    tool calls and a tool result's call id, so the output can be fed back."""
    record: dict[str, Any] = {
        "role": _INPUT_ROLES.get(message.type, message.type),
        "content": message.content,
    }
    calls = getattr(message, "tool_calls", None)
    if calls:
        record["tool_calls"] = [
            {"id": call.get("id"), "name": call["name"], "args": call.get("args", {})}
            for call in calls
        ]
    call_id = getattr(message, "tool_call_id", None)
    if call_id is not None:
        record["tool_call_id"] = call_id
    return record


def _read_trajectories(stream: IO[str]) -> list[tuple[list[dict[str, Any]], Any]]:
    name = source_name(stream)
    found: list[tuple[list[dict[str, Any]], Any]] = []
    lines = _read_text(stream, name).splitlines()
    for where, record in _json_lines(lines, name, TRAJECTORY_SHAPE):
        if not isinstance(record, dict) or not isinstance(record.get("messages"), list):
            raise InvalidInputError(f"{where}: expected {TRAJECTORY_SHAPE}.")
        for index, message in enumerate(record["messages"]):
            _check_message(message, f"{where}, message {index + 1}")
        found.append((record["messages"], record.get("feedback")))
    if not found:
        raise InvalidInputError(f"{name} holds no trajectories: give at least one line.")
    return found


def _prompt_text(prompt: str) -> str:
    """``--prompt``: the text, or the UTF-8 text of ``@FILE``; none is refused (an empty prompt
    would be optimized into one the model invents)."""
    text = prompt
    if prompt.startswith("@"):
        path = prompt[1:]
        if os.path.isdir(path):
            raise ConfigurationError(
                f"--prompt {prompt!r}: {path!r} is a folder. Fix: name the prompt's file, "
                "e.g. --prompt @prompt.txt."
            )
        if not os.path.isfile(path):
            raise ConfigurationError(
                f"--prompt {prompt!r}: file {path!r} does not exist. Fix: check the path after "
                "'@', or give the prompt's text without '@'."
            )
        with open(path, encoding="utf-8-sig") as handle:
            text = _read_text(handle, repr(path))
    if not text.strip():
        where = f"file {prompt[1:]!r} of --prompt" if prompt.startswith("@") else "--prompt"
        raise ConfigurationError(
            f"{where} is empty: there is no prompt to improve. Fix: give the prompt's text, "
            "e.g. --prompt 'You are a helpful assistant.', or @FILE holding it."
        )
    return text


@click.command()
@click.option(
    "--prompt",
    "-p",
    required=True,
    help="The prompt to improve, or @FILE to read it from a file.",
)
@click.option(
    "--trajectories",
    "-t",
    required=True,
    type=InputFile("cat runs.jsonl | langmem optimize -t - -p PROMPT -m PROVIDER:MODEL"),
    help='JSON Lines: {"messages": [...], "feedback": ...} per conversation.',
)
@_model_option
@click.option(
    "--kind",
    type=click.Choice(["gradient", "metaprompt", "prompt_memory"]),
    default="gradient",
    show_default=True,
)
@output_options
def optimize(prompt: str, trajectories: IO[str], model_name: str, kind: str, table: bool) -> None:
    """Improve a prompt from conversations and the feedback they got."""
    from langmem.prompts.optimization import create_prompt_optimizer

    text = _prompt_text(prompt)
    found = _read_trajectories(trajectories)
    model = load_model(model_name)
    optimizer = create_prompt_optimizer(model, kind=kind)  # type: ignore[arg-type]
    improved = optimizer.invoke({"trajectories": found, "prompt": text})  # type: ignore[typeddict-item]
    Output(table=table).record({"prompt": improved, "changed": improved != text})
