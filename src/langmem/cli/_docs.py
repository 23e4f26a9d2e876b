"""docs/cli.md, generated from the command's own help (``make docs-cli`` rewrites it).

A test renders it again and compares, so the reference cannot drift from the command.
Run: ``python -m langmem.cli._docs docs/cli.md``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

from langmem.cli._app import cli

WIDTH = 100
HEADER = """# The `langmem` command

Generated from `langmem --help` by `make docs-cli`; do not edit by hand (a test fails when this
file and the command disagree).

Every command prints JSON Lines on stdout (one object per line) unless `--table` is given, and
reports errors as one line on stderr (`error: ...`) with exit code 1 (2 for usage mistakes);
`--debug` adds the traceback. When stdout's reader stops early (`| head`), the command stops
quietly with exit code 141, as shell tools do. The store is `--store URL`, else
`$LANGMEM_STORE`, else the embedded store in the user data folder (`$LANGMEM_HOME`). Store URLs: `sqlite:///relative.sqlite`,
`sqlite:////absolute.sqlite`, a file path, `memory://`; `?embed=hashing|minilm|provider:model`
picks the embeddings (by default, those the store file records). A command that needs an
existing store (all but `memories add`, `memories import`, `extract` and a copy's target) never
creates or changes one by opening it: a missing file, an empty file, another program's SQLite
database or LangGraph's store file is refused, unchanged, saying which it is.

`memories export` writes one memory per line: `{"namespace": [...], "key": ..., "value": {...},
"created_at": ..., "updated_at": ...}`, sorted by namespace and key, with the keys inside each
value sorted (so every backend exports the same bytes); `memories import` reads the same lines
back with their timestamps (`SqliteStore` and `PostgresStore` have `restore()`; other stores
stamp the current time), checking the whole file first and writing everything in one
transaction. A memory with a TTL also has `"ttl_minutes"` and `"expires_at"` (ISO 8601, UTC);
exporting does not refresh TTLs, and importing into the embedded store or PostgreSQL keeps each
TTL and its exact expiry (a memory that expired meanwhile is imported expired). Other stores
import such memories without TTL, and the command says so on stderr.
"""


def _walk(
    command: click.Command, path: list[str], parent: click.Context | None
) -> Iterator[tuple[list[str], click.Context]]:
    settings = dict(command.context_settings)
    ctx = click.Context(
        command, info_name=path[-1], parent=parent, terminal_width=WIDTH, **settings
    )
    ctx.max_content_width = WIDTH
    yield path, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, [*path, name], ctx)


def render() -> str:
    """The whole reference as Markdown."""
    parts = [HEADER]
    for path, ctx in _walk(cli, ["langmem"], None):
        level = "#" * min(len(path) + 1, 4)
        formatter = ctx.make_formatter()
        formatter.width = WIDTH
        ctx.command.format_help(ctx, formatter)
        body = formatter.getvalue().rstrip()
        parts.append(f"{level} `{' '.join(path)}`\n\n```text\n{body}\n```\n")
    return "\n".join(parts)


def main(argv: list[str]) -> None:
    text = render()
    if len(argv) > 1:
        with open(argv[1], "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main(sys.argv)
