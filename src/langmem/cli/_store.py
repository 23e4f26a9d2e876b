"""``langmem store ...``: what a store holds (info), re-embedding, and copies between stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import click

from langmem.cli import _transfer
from langmem.cli._app import output_options, store_option
from langmem.cli._memories import _opened
from langmem.cli._output import Output, progress
from langmem.cli._target import (
    display_url,
    parse_namespace,
    recorded_index,
    require_namespace,
    resolve_url,
    show_namespace,
    sqlite_file,
)
from langmem.errors import ConfigurationError


@click.group()
def store() -> None:
    """Inspect a store, re-embed it, copy it to another store."""


@store.command()
@store_option
@output_options
def info(store_url: str | None, table: bool) -> None:
    """Where the store is, how it is indexed, how many memories each namespace holds."""
    url = resolve_url(store_url)
    path = sqlite_file(url)
    record: dict[str, Any] = {"store": display_url(url)}
    if path is not None:
        if not path.exists():
            raise ConfigurationError(
                f"store file {str(path)!r} does not exist: check --store (or LANGMEM_STORE)."
            )
        record["path"] = str(path.resolve())
        record["size_bytes"] = sum(
            p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()
        )
        record["index"] = recorded_index(path)
        counts = _file_counts(path)
    else:
        with _opened(url) as opened:
            counts = {
                show_namespace(ns): len(_transfer.iter_items(opened, ns))
                for ns in opened.list_namespaces(limit=100_000)
            }
        record["index"] = None
    record["memories"] = sum(counts.values())
    record["namespaces"] = counts
    if table:
        Output(table=True).records(
            [{"namespace": ns, "memories": n} for ns, n in counts.items()],
            ["namespace", "memories"],
        )
        summary = {k: v for k, v in record.items() if k != "namespaces"}
        Output(table=True).record(summary)
        return
    Output(table=False).record(record)


def _file_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT prefix, COUNT(*) FROM langmem_items GROUP BY prefix ORDER BY prefix"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise ConfigurationError(
            f"{str(path)!r} is not a langmem store ({exc}): check the --store path."
        ) from exc
    finally:
        conn.close()
    return {str(prefix).replace(".", "/"): int(n) for prefix, n in rows}


@store.command()
@store_option
@output_options
def reembed(store_url: str | None, table: bool) -> None:
    """Re-embed every stored text with the store's embeddings (shows progress)."""
    raise ConfigurationError(
        "store reembed is not available yet: it needs the store's index identity "
        "(issue 12). Nothing was changed."
    )


@store.command()
@click.argument("source")
@click.argument("target")
@click.option("--namespace", "-n", metavar="NS", help="Copy only this namespace (and below).")
@output_options
def copy(source: str, target: str, namespace: str | None, table: bool) -> None:
    """Copy every memory from store SOURCE to store TARGET (URLs), timestamps included.

    TARGET re-embeds the texts with its own embeddings. Memories with the same namespace and
    key in TARGET are overwritten; the rest of TARGET is kept.
    """
    labels = parse_namespace(namespace)
    if resolve_url(source) == resolve_url(target):
        raise ConfigurationError(
            f"source and target are the same store ({display_url(source)}): give two stores."
        )
    with _opened(source) as src:
        require_namespace(src, labels, source)
        items = _transfer.iter_items(src, labels)
    with _opened(target, must_exist=False) as dst, progress("copy", len(items)) as step:
        written = _transfer.write_items(dst, items, advance=step)
    Output(table=table).record(
        {"copied": written, "source": display_url(source), "target": display_url(target)}
    )
