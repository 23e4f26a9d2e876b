"""The root ``langmem`` group, the options every command shares, and the error boundary.

Library errors become CLI errors only here: any exception out of a command is printed as one
line on stderr (``error: ...``) with exit code 1; usage mistakes caught by click exit with 2.
``--debug`` (or ``LANGMEM_DEBUG=1``) prints the traceback as well.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click
from click.core import ParameterSource

from langmem._version import __version__

F = TypeVar("F", bound=Callable[..., Any])

DEBUG_KEY = "langmem.debug"


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.find_root().meta[DEBUG_KEY] = True
    return value


def debug_option(function: F) -> F:
    """``--debug``: on error, print the traceback too."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=_set_debug,
        help="On error, print the traceback too.",
    )(function)


def output_options(function: F) -> F:
    """``--table`` and ``--debug``, for a command whose printout is what it is run for (get,
    list, search, info...): a closed stdout is refused before it does anything."""
    from langmem.cli._streams import check_stdout_callback

    return _table_option(debug_option(function), check_stdout_callback)


def action_output_options(function: F) -> F:
    """``--table`` and ``--debug``, for a command run for what it changes (add, delete,
    import...): with stdout closed (a cron job's ``>&-``) it still does its work and prints
    nothing, as a shell tool does."""
    return _table_option(debug_option(function), None)


def _table_option(function: F, callback: Any) -> F:
    return click.option(
        "--table",
        "table",
        is_flag=True,
        callback=callback,
        help="Print an aligned table instead of JSON Lines.",
    )(function)


def _blank_env_unset(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """A blank ``LANGMEM_STORE`` means unset, as for the library (a blank ``--store`` typed on
    the command line is refused later, naming the fix)."""
    source = ctx.get_parameter_source(param.name or "")
    if value is not None and not value.strip() and source is ParameterSource.ENVIRONMENT:
        return None
    return value


def store_option(function: F) -> F:
    """``--store URL`` (also ``LANGMEM_STORE``), for commands that use a store."""
    return click.option(
        "--store",
        "store_url",
        envvar="LANGMEM_STORE",
        metavar="URL",
        callback=_blank_env_unset,
        help="Store URL: sqlite:///file.sqlite, postgresql://..., memory://, or a file path. "
        "Default: $LANGMEM_STORE, else the embedded store in the user data folder.",
    )(function)


def one_line(message: str) -> str:
    """A message on one line (library messages may wrap)."""
    return " ".join(message.split())


COMMAND_OPTIONS = ("--store", "--table", "--debug")
"""Options every command takes after its name (given before it, they are named as such)."""

_HELP: tuple[type[Exception], ...] = tuple(
    kind for kind in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if kind is not None
)
"""click's "no arguments: show the help" (click 8.2+ raises it as a usage error): click prints
the help, as `langmem` and `langmem memories` always did."""

_PASSED: tuple[type[BaseException], ...] = (click.exceptions.Exit, click.Abort, *_HELP)
"""What the error boundary lets click handle: exits, aborts, help."""

SIGPIPE_EXIT = 141
"""Exit code when stdout's reader went away: 128 + SIGPIPE, what `cat` or `grep` give."""


class _Root(click.Group):
    """The error boundary: every exception out of a command becomes one line on stderr."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # the root's own options are parsed before ``invoke``: `langmem --bogus` got click's
        # three lines; it gets the one line every other usage mistake gets
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            if exc.option_name in COMMAND_OPTIONS:  # `langmem --store URL memories list`
                _one_line_exit(
                    click.UsageError(
                        f"{exc.option_name} is an option of each command, not of langmem itself: "
                        f"put it after the command, e.g. `langmem memories list {exc.option_name}"
                        f"{' URL' if exc.option_name == '--store' else ''}`.",
                        ctx,
                    )
                )
            _one_line_exit(exc)
        except _HELP:
            raise
        except click.exceptions.ClickException as exc:
            _one_line_exit(exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.showwarning = _show_warning
                return super().invoke(ctx)
        except _PASSED:
            raise
        except click.exceptions.ClickException as exc:
            _one_line_exit(exc)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        except BrokenPipeError:
            # the reader of stdout is gone (`langmem memories list | head -1`): stop quietly,
            # as shell tools do, and keep Python's exit flush from writing to the closed pipe
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(SIGPIPE_EXIT) from None
        except Exception as exc:
            debug = ctx.meta.get(DEBUG_KEY) or os.environ.get("LANGMEM_DEBUG") == "1"
            if debug:
                traceback.print_exc(file=sys.stderr)
            click.echo(f"error: {describe(exc, debug=bool(debug))}", err=True)
            raise click.exceptions.Exit(1) from None


def _one_line_exit(exc: click.exceptions.ClickException) -> NoReturn:
    """Print ``exc`` as one line and exit with its code (2 for usage mistakes): click prints
    them as three or four lines ("Usage: ...", "Try ...", "Error: ..."); the command's
    errors are one line, as docs/cli.md says."""
    hint = ""
    if isinstance(exc, click.UsageError) and exc.ctx is not None:
        hint = f" (see `{exc.ctx.command_path} --help`)"
    click.echo(f"error: {one_line(exc.format_message())}{hint}", err=True)
    raise click.exceptions.Exit(exc.exit_code) from None


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A library warning as the command's one line on stderr (``warning: ...``), not Python's
    two lines with a file name and a line of langmem's source."""
    kind = "" if category is UserWarning else f"{category.__name__}: "
    click.echo(f"warning: {kind}{one_line(str(message))}", err=True)


def describe(exc: BaseException, *, debug: bool = False) -> str:
    """The one-line message for ``exc``; unexpected errors say how to see more."""
    from langmem.errors import LangMemError

    text = one_line(str(exc)) or type(exc).__name__
    if isinstance(exc, (LangMemError, ValueError, OSError)):
        return text
    hint = "" if debug else " (run again with --debug for the traceback)"
    return f"{type(exc).__name__}: {text}{hint}"


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="langmem")
def cli() -> None:
    """Inspect, search, fix and move langmem memories, and run langmem's pipelines.

    Output is JSON Lines on stdout (one object per line); add --table for an aligned table.
    Errors go to stderr with a non-zero exit code. The store is --store URL, else
    $LANGMEM_STORE, else the embedded store in the user data folder ($LANGMEM_HOME).
    """


def _register() -> None:
    from langmem.cli import _demo, _memories, _pipelines, _queue, _store

    cli.add_command(_memories.memories)
    cli.add_command(_store.store)
    cli.add_command(_queue.queue)
    cli.add_command(_pipelines.extract)
    cli.add_command(_pipelines.summarize)
    cli.add_command(_pipelines.optimize)
    cli.add_command(_demo.demo)


_register()


def main() -> None:
    """Entry point of the ``langmem`` console script and ``python -m langmem``."""
    cli.main(prog_name="langmem")
