"""``langmem store ...``: what a store holds (info), re-embedding, and copies between stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import click

from langmem.cli import _transfer
from langmem.cli._app import action_output_options, output_options, store_option
from langmem.cli._memories import _opened
from langmem.cli._numbers import Whole
from langmem.cli._output import Output, progress
from langmem.cli._target import (
    display_url,
    is_postgres,
    parse_namespace,
    recorded_index,
    recorded_postgres_index,
    require_langmem_file,
    require_namespace,
    resolve_url,
    show_namespace,
    sqlite_file,
)
from langmem.errors import ConfigurationError, InvalidInputError
from langmem.stores._connection import file_error
from langmem.stores._read_only import read_only_uri
from langmem.stores._reembed import UnindexingRefused


@click.group()
def store() -> None:
    """Inspect a store, re-embed it, copy it to another store."""


@store.command()
@store_option
@output_options
def info(store_url: str | None, table: bool) -> None:
    """Where the store is, how it is indexed, how many memories each namespace holds.

    langmem's own records (change history, superseded, quarantined and held values) are not
    counted as memories or namespaces: internal_records gives their number."""
    url = resolve_url(store_url)
    path = sqlite_file(url)
    record: dict[str, Any] = {"store": display_url(url)}
    if path is not None:
        if not path.exists():
            raise ConfigurationError(
                f"store file {str(path)!r} does not exist: check --store (or LANGMEM_STORE)."
            )
        require_langmem_file(path)
        record["path"] = str(path.resolve())
        record["size_bytes"] = sum(
            p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists()
        )
        record["index"] = recorded_index(path)
        counts = _file_counts(path)
    else:
        with _opened(url) as opened:
            record["index"] = _handle_index(opened)
            if is_postgres(url):
                record["index"] = recorded_postgres_index(url) or record["index"]
                counts, record["size_bytes"] = _database_facts(url)
            else:
                counts = {}
                for item in _transfer.iter_items(opened, ()):
                    name = tuple(item.namespace)
                    counts[name] = counts.get(name, 0) + 1
    memories, internal = _user_counts(counts)
    record["memories"] = sum(memories.values())
    record["namespaces"] = memories
    record["internal_records"] = internal
    if table:
        Output(table=True).records(
            [{"namespace": ns, "memories": n} for ns, n in memories.items()],
            ["namespace", "memories"],
        )
        summary = {k: v for k, v in record.items() if k != "namespaces"}
        Output(table=True).record(summary)
        return
    Output(table=False).record(record)


def _user_counts(counts: dict[tuple[str, ...], int]) -> tuple[dict[str, int], int]:
    """The memories per namespace without langmem's own records (change history, superseded,
    quarantined and held values, under :data:`RESERVED_ROOT`), and how many of those there are:
    they are not memories, and ``list_namespaces`` does not list them either."""
    from langmem._namespace import RESERVED_ROOT

    user: dict[str, int] = {}
    internal = 0
    for name, n in counts.items():
        if name[:1] == (RESERVED_ROOT,):
            internal += n
        else:
            user[show_namespace(name)] = n
    return user, internal


def _handle_index(opened: Any) -> dict[str, Any] | None:
    """The index a store handle embeds with."""
    from langmem.embeddings._default import embeddings_id

    config = getattr(opened, "index_config", None)
    if not config:
        return None
    return {
        "embeddings": embeddings_id(getattr(opened, "embeddings", None) or config.get("embed")),
        "dims": config.get("dims"),
        "fields": list(config.get("fields") or ["$"]),
    }


def _database_facts(url: str) -> tuple[dict[tuple[str, ...], int], int]:
    """Memories per namespace and the tables' size on disk, from a PostgreSQL store."""
    import psycopg

    with psycopg.connect(url.split("?", 1)[0]) as conn:
        rows = conn.execute(
            "SELECT prefix, count(*) FROM store GROUP BY prefix ORDER BY prefix"
        ).fetchall()
        size = conn.execute(
            "SELECT pg_total_relation_size('store')"
            " + coalesce(pg_total_relation_size(to_regclass('store_vectors')), 0)"
        ).fetchone()
    counts = {tuple(str(prefix).split(".")): int(n) for prefix, n in rows}
    return counts, int(size[0]) if size else 0


def _file_counts(path: Path) -> dict[tuple[str, ...], int]:
    uri = read_only_uri(str(path))
    conn = sqlite3.connect(uri, uri=True)
    try:
        rows = conn.execute(
            "SELECT prefix, COUNT(*) FROM langmem_items GROUP BY prefix ORDER BY prefix"
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):  # cannot be read here: say why
            raise file_error(uri, exc, shown=str(path), read_only=True) from exc
        raise ConfigurationError(
            f"{str(path)!r} is not a langmem store ({exc}): check the --store path."
        ) from exc
    except sqlite3.DatabaseError as exc:
        raise ConfigurationError(
            f"{str(path)!r} is not a langmem store ({exc}): check the --store path."
        ) from exc
    finally:
        conn.close()
    return {tuple(str(prefix).split(".")): int(n) for prefix, n in rows}


@store.command()
@click.option(
    "--embed",
    metavar="NAME",
    help="New embeddings: minilm, hashing, default, or provider:model (default: the current).",
)
@click.option("--dims", type=Whole(1, 384), help="Vector length of the new embeddings.")
@click.option(
    "--fields", metavar="PATHS", help="Comma-separated value paths to index, e.g. content."
)
@click.option("--batch-size", default=64, show_default=True, type=Whole(1, 64))
@click.option(
    "--allow-unindexed",
    is_flag=True,
    help="With --fields: re-embed even when some indexed memories hold no text at the new "
    "fields (they lose their vectors, for good).",
)
@store_option
@action_output_options
def reembed(
    embed: str | None,
    dims: int | None,
    fields: str | None,
    batch_size: int,
    allow_unindexed: bool,
    store_url: str | None,
    table: bool,
) -> None:
    """Re-embed every stored text, optionally for new embeddings, dims or fields.

    The explicit way to change a store's embedder (opening a store never re-embeds it), on the
    embedded store and on PostgreSQL. Other programs using the store must reopen it with the
    new index afterwards. On PostgreSQL, each batch is committed to a stage and the vectors
    are swapped in one transaction at the end: if the command is interrupted, the store is
    unchanged and running it again continues where it stopped. Shows a progress bar on a
    terminal.
    """
    from langmem.stores._open import _embeddings_named

    named = [f.strip() for f in (fields or "").split(",") if f.strip()]
    if fields is not None and not named:
        raise InvalidInputError(
            f"--fields {fields!r} names no field: give comma-separated value paths, e.g. "
            "--fields content, or leave --fields out to keep the current ones. Nothing was "
            "re-embedded."
        )
    if embed is not None and not embed.strip():
        raise InvalidInputError(
            f"--embed {embed!r} names no embeddings (it re-embedded with the default model): "
            "nothing was re-embedded. Fix: give one, e.g. --embed minilm or --embed hashing, "
            "or leave --embed out to keep the current ones."
        )
    url = resolve_url(store_url)
    opening = url
    if (
        is_postgres(url)
        and "embed" not in parse_qs(urlsplit(url).query)
        and recorded_postgres_index(url) is None
    ):
        # the database does not record which embeddings made its vectors: open it without
        # an index (the default one could not be checked against them), then re-embed
        opening = f"{url}{'&' if '?' in url else '?'}embed=none"
    with _opened(opening) as opened:
        method = getattr(opened, "reembed", None)
        current = getattr(opened, "index_config", None)
        if not callable(method):
            raise ConfigurationError(
                f"{display_url(url)} cannot be re-embedded by langmem: only langmem's "
                "SQLite and PostgreSQL stores support it."
            )
        if current is None and embed is None:
            raise ConfigurationError(
                f"{display_url(url)} has no index yet: give the embeddings, e.g. --embed minilm."
            )
        size = dims or (current["dims"] if current and embed is None else 384)
        model = (
            current["embed"] if embed is None and current else _embeddings_named(embed or "", size)
        )
        if model is None:
            raise ConfigurationError("--embed none leaves nothing to embed: pick an embedder.")
        paths = named or (list(current["fields"]) if current else ["$"])
        with progress("re-embed", None) as step:
            seen = [0]

            def report(done: int, total: int) -> None:
                step(done - seen[0], total)
                seen[0] = done

            try:
                count = method(
                    {"dims": size, "embed": model, "fields": paths},
                    progress=report,
                    batch_size=batch_size,
                    allow_unindexed=allow_unindexed,  # new fields finding no text: refused
                )
            except UnindexingRefused as refused:
                raise refused.told("--allow-unindexed") from None
        after = sqlite_file(url)
        index = (
            recorded_index(after)
            if after is not None
            else recorded_postgres_index(url)
            if is_postgres(url)
            else None
        )
        Output(table=table).record({"reembedded": count, "index": index})


@store.command()
@click.argument("source")
@click.argument("target", required=False)
@click.option("--namespace", "-n", metavar="NS", help="Copy only this namespace (and below).")
@action_output_options
def copy(source: str, target: str | None, namespace: str | None, table: bool) -> None:
    """Copy every memory from store SOURCE to store TARGET (URLs), timestamps included.

    Between the embedded store and PostgreSQL (either way) with the same index, everything is
    copied as stored: values, timestamps, TTLs and vectors (nothing re-embedded). Otherwise
    (--namespace, or TARGET indexed with other embeddings) TARGET re-embeds the texts. A new
    TARGET file gets SOURCE's index. Memories with the same namespace and key in TARGET are
    overwritten; the rest of TARGET is kept. Shows a progress bar on a terminal. Without
    TARGET, the default store (LANGMEM_STORE).

    From LangGraph's own stores (moving an app to langmem), SOURCE names LangGraph's
    SqliteStore file or PostgresStore database, read only (a plain path works too for a file
    that holds no langmem store). It is read and checked whole before anything is written;
    values, timestamps and TTLs are copied, and TARGET embeds the texts with its own index
    (LangGraph does not record which embeddings made its vectors). If the copy stops midway,
    the error says how many memories were copied; running it again is safe.

    \b
    Examples:
      langmem store copy langgraph-sqlite:///app.db      # into the default store
      langmem store copy langgraph-postgres://app@db/app sqlite:///memories.sqlite
    """
    from langmem.stores import copy_store

    labels = parse_namespace(namespace)
    target = resolve_url(target)
    if _same_store(resolve_url(source), target):
        raise ConfigurationError(
            f"source and target are the same store ({display_url(source)} and "
            f"{display_url(target)}): give two stores."
        )
    if urlsplit(source).scheme.lower() == "memory":
        raise ConfigurationError(
            f"source {source!r} is an in-memory store, which starts empty in every command: "
            "nothing was copied. Fix: copy from a store file or database."
        )
    if _langgraph_source(source):
        _copy_from_langgraph(source, target, labels, table)
        return
    with _opened(source) as src:
        require_namespace(src, labels, source)
        with _opened(target, must_exist=False, like=src) as dst:
            as_stored = not labels and _copies_as_stored(src, dst)
            with progress("copy", None) as step:
                if as_stored:
                    written = copy_store(src, dst, progress=_reporter(step))
                else:
                    items = _transfer.iter_items(src, labels)
                    step(0, len(items))
                    written = _transfer.write_items(dst, items, advance=step)
    Output(table=table).record(
        {
            "copied": written,
            "vectors": "copied" if as_stored else "re-embedded",
            "source": display_url(source),
            "target": display_url(target),
        }
    )


def _same_store(source: str, target: str) -> bool:
    """Whether two URLs name one store: the same text, or one SQLite file however spelled
    (``a.sqlite``, ``./a.sqlite``, ``sqlite:///a.sqlite?embed=hashing``), which was copied
    onto itself."""
    if source == target:
        return True
    first, second = sqlite_file(source), sqlite_file(target)
    if first is None or second is None:
        return False
    return first.resolve() == second.resolve()


def _reporter(step: Any) -> Any:
    """A ``copy_store`` progress callback advancing the command's progress bar."""
    seen = [0]

    def report(done: int, total: int) -> None:
        step(done - seen[0], total)
        seen[0] = done

    return report


def _langgraph_source(source: str) -> bool:
    """Whether SOURCE names LangGraph's store: a langgraph-... URL, or a SQLite file holding
    LangGraph's table and no langmem store (said on stderr)."""
    from langmem.stores._copy_sources import is_langgraph_url
    from langmem.stores._copy_tables import has_langgraph_table

    if is_langgraph_url(source):
        return True
    path = sqlite_file(source)
    if path is None or not path.is_file() or not has_langgraph_table(path):
        return False
    click.echo(
        f"note: {str(path)!r} holds LangGraph's SqliteStore table and no langmem store: "
        "reading it as langgraph-sqlite (read only).",
        err=True,
    )
    return True


def _copy_from_langgraph(source: str, target: str, labels: tuple[str, ...], table: bool) -> None:
    from langmem.stores._copy_sources import (
        Source,
        copy_found,
        is_langgraph_url,
        open_source,
        refuse_same_database,
    )
    from langmem.stores._copy_tables import SqliteFileSource

    path = None if is_langgraph_url(source) else sqlite_file(source)
    found: Source = (
        open_source(source, labels) if path is None else SqliteFileSource(str(path), labels)
    )
    with _opened(target, must_exist=False) as dst:
        refuse_same_database(found, dst)
        with progress("copy", None) as step:
            written = copy_found(found, dst, batch_size=500, progress=_reporter(step))
        index = _handle_index(dst)
    Output(table=table).record(
        {
            "copied": written,
            "vectors": "re-embedded",
            "source": display_url(source),
            "target": display_url(target),
            "index": index,
        }
    )


def _copies_as_stored(src: Any, dst: Any) -> bool:
    """Whether copy_store may move vectors as they are: both ends langmem's SQLite or Postgres
    store, indexed alike (same embeddings, dims and fields)."""
    from langmem.stores import SqliteStore

    kinds = (SqliteStore, *_postgres_class())
    if not isinstance(src, kinds) or not isinstance(dst, kinds):
        return False
    return _handle_index(src) == _handle_index(dst)


def _postgres_class() -> tuple[type, ...]:
    try:
        from langmem.stores._postgres import PostgresStore
    except ImportError:  # the postgres extra is not installed: no Postgres store can exist
        return ()
    return (PostgresStore,)
