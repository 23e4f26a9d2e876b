"""The files a command reads and writes: standard input and output that are not there (``<&-``,
``>&-``, or a parent process that started the command without them), an ``--output`` that
cannot be a file, a database given where JSON Lines are read.

Python sets ``sys.stdin`` / ``sys.stdout`` to ``None`` when the descriptor is closed at start;
click then failed with an ``AttributeError`` (``import -``), or a command printed into nothing
and exited 0 (``memories list >&-``), which a script cannot tell from success. Both are refused
before the command does anything; a command run for what it changes (``add``, ``delete``,
``import``...) still does its work with stdout closed, and prints nothing.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import IO, Any

import click

from langmem.errors import ConfigurationError, InvalidInputError


def is_closed(stream: Any) -> bool:
    """Whether ``stream`` (``sys.stdin`` or ``sys.stdout``) is missing or its descriptor is
    closed. A stream without a descriptor (a test runner's buffer) counts as open."""
    if stream is None:
        return True
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    try:
        os.fstat(descriptor)
    except OSError:
        return True
    return False


class InputFile(click.File):
    """A file to read, ``-`` for standard input; ``-`` with stdin closed is a usage mistake
    naming the fix (exit code 2, as a missing file)."""

    def __init__(self, example: str) -> None:
        super().__init__("r", encoding="utf-8-sig")
        self.example = example

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and value == "-" and is_closed(sys.stdin):
            self.fail(
                "'-' reads standard input, which is closed here (the command was started with "
                "<&- or without stdin): nothing was read or changed. Fix: pipe the input in, "
                f"e.g. `{self.example}`, or give a file path instead of '-'.",
                param,
                ctx,
            )
        if isinstance(value, str) and value == "-" and _is_terminal(sys.stdin):
            click.echo(  # a user who forgot the pipe saw a command that hung
                "note: reading from the terminal: type or paste the input, then press Ctrl-D "
                "(or Ctrl-C to stop); usually it is piped in instead.",
                err=True,
            )
        return super().convert(value, param, ctx)


def _is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(callable(isatty) and isatty())
    except (OSError, ValueError):
        return False


def refuse_closed_stdout(what: str = "its output") -> None:
    """Raise before any work when stdout is closed: the command would print ``what`` into
    nothing and exit 0."""
    if is_closed(sys.stdout):
        raise ConfigurationError(
            f"standard output is closed (the command was started with >&- or without stdout), "
            f"so {what} would be lost: nothing was done. Fix: send it to a file "
            "(`> out.jsonl`) or to /dev/null (`> /dev/null`) instead of closing it."
        )


def check_stdout_callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
    """An option callback (runs before the command): :func:`refuse_closed_stdout`."""
    if not ctx.resilient_parsing:
        refuse_closed_stdout()
    return value


def check_output_path(path: str) -> None:
    """Refuse an ``--output`` that cannot be a file, before the store is read (click's lazy
    file failed at the first line with "Error: Could not open file")."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InvalidInputError(
            f"--output {path!r} is a folder: nothing was exported. Fix: name a file in it, "
            f"e.g. -o {shlex.quote(os.path.join(path, 'memories.jsonl'))}."
        )
    if not os.path.isdir(folder):
        raise InvalidInputError(
            f"--output {path!r}: folder {folder!r} does not exist, so nothing was exported. "
            f"Fix: create it (mkdir -p {shlex.quote(folder)}) or write elsewhere."
        )


def refuse_database(source: IO[str], name: str) -> None:
    """A SQLite file given to import (a store, langmem's or LangGraph's): point to the copy."""
    path = getattr(source, "name", None)
    if not isinstance(path, str) or path in ("<stdin>", "-"):
        return
    try:
        with open(path, "rb") as raw:
            header = raw.read(16)
    except OSError:
        return
    if header == b"SQLite format 3\x00":
        raise InvalidInputError(
            f"{name} is a SQLite database, not JSON Lines: nothing was imported. To copy the "
            "memories of a store file (langmem's, or LangGraph's SqliteStore), use "
            f"`langmem store copy {shlex.quote(path)} [TARGET]` (TARGET: the default store "
            "when left out)."
        )
