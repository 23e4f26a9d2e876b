"""What commands print: JSON Lines on stdout, or an aligned table for people; progress bars.

A record is a flat-ish dict. JSON Lines keep everything (one object per line, UTF-8). Tables
show the same records as columns, coloured only when stdout is a terminal. Progress bars go to
stderr and only when stderr is a terminal, so pipes and files get clean output.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click

from langmem import _json_text
from langmem._conversation import replace_surrogates


def source_name(stream: Any) -> str:
    """How messages name an input file: its quoted path, or ``<stdin>``."""
    name = getattr(stream, "name", None)
    if not isinstance(name, str) or name in ("<stdin>", "-"):
        return "<stdin>"
    return repr(name)


def to_json(record: Any) -> str:
    """One JSON line (no trailing newline): UTF-8 text kept as is, datetimes in ISO 8601,
    infinite numbers as ``1e999`` (``Infinity`` is not JSON: jq and JavaScript refuse it), lone
    surrogates (a ``"\\ud800"`` escape in an input file, echoed back) as '?'."""
    return replace_surrogates(
        _json_text.dumps(
            record, refuse_nan=False, ensure_ascii=False, separators=(",", ":"), default=_default
        )
    )


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class Output:
    """Prints records in the chosen mode; ``columns`` picks and orders a table's columns."""

    def __init__(self, *, table: bool) -> None:
        self.table = table

    def records(self, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> int:
        """Print ``rows``; returns how many were printed."""
        if not self.table:
            count = 0
            for row in rows:
                click.echo(to_json(row))
                count += 1
            return count
        listed = list(rows)
        _print_table(listed, columns)
        return len(listed)

    def record(self, row: dict[str, Any], columns: Sequence[str] | None = None) -> None:
        """Print one record (a table of field/value pairs for people)."""
        if not self.table:
            click.echo(to_json(row))
            return
        if columns is not None:
            _print_table([row], columns)
            return
        pairs = [{"field": name, "value": value} for name, value in row.items()]
        _print_table(pairs, ["field", "value"])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return "/".join(value)
    return to_json(value)


def _print_table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = sys.stdout.isatty()
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        header_style="bold" if terminal else "",
        pad_edge=False,
    )
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows:  # Text: a memory's "[/]" or "[bold]" is shown as is, not read as markup
        table.add_row(*(Text(_cell(row.get(name))) for name in columns))
    if terminal:
        Console(highlight=False).print(table)
        return
    # not a terminal: plain text, as wide as the content, without trailing spaces
    buffer = io.StringIO()
    Console(file=buffer, no_color=True, highlight=False, width=100_000).print(table, crop=False)
    for line in buffer.getvalue().splitlines():
        click.echo(line.rstrip())


@contextmanager
def progress(label: str, total: int | None) -> Iterator[Any]:
    """A progress bar on stderr, when stderr is a terminal; yields ``advance(n, total=None)``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(n: int = 1, total: int | None = None) -> None:
            if total is not None:
                bar.update(task, total=total)
            bar.advance(task, n)

        yield advance
