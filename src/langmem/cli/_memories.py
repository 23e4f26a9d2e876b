"""``langmem memories ...``: add, get, list, search, update, delete, export and import."""

from __future__ import annotations

import dataclasses
import json
import shlex
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, cast

import click

from langmem.cli import _ranking, _transfer
from langmem.cli._app import action_output_options, debug_option, output_options, store_option
from langmem.cli._numbers import Whole
from langmem.cli._output import Output, progress, source_name
from langmem.cli._streams import (
    InputFile,
    check_output_path,
    refuse_closed_stdout,
    refuse_database,
)
from langmem.cli._target import (
    display_url,
    namespace_argument,
    open_target,
    parse_filters,
    parse_namespace,
    require_namespace,
    resolve_url,
    show_namespace,
)
from langmem.errors import ConfigurationError, InvalidInputError, WriteConflictError

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore, Item

    from langmem.knowledge.history import History

COLUMNS = ["namespace", "key", "value", "updated_at"]
SEARCH_COLUMNS = ["score", "namespace", "key", "value"]
EXPLAIN_COLUMNS = [
    "score",
    "cosine",
    "bm25",
    "matched",
    "thread",
    "recency",
    "redundancy",
    "superseded",
    "restated",
    "key",
    "value",
]


def _namespace_option(required: bool) -> Any:
    help_text = (
        "Namespace, labels separated by '/', e.g. memories/user-123 (or a JSON list, for "
        "labels holding '/')."
    )
    if not required:
        help_text += " Lists and searches include sub-namespaces; default: the whole store."
    return click.option("--namespace", "-n", metavar="NS", required=required, help=help_text)


_filter_option = click.option(
    "--filter",
    "-f",
    "filters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only values whose KEY equals VALUE (VALUE parsed as JSON when it can be). Repeatable.",
)


@contextmanager
def _opened(
    url: str | None, *, must_exist: bool = True, like: BaseStore | None = None
) -> Iterator[BaseStore]:
    store = open_target(url, must_exist=must_exist, like=like)
    if not must_exist and _in_memory(url):
        click.echo(
            "warning: the store memory:// lives in this command's memory: what it writes is "
            "gone when the command ends. Give a store file (e.g. --store "
            "sqlite:///memories.sqlite, or LANGMEM_STORE) to keep it.",
            err=True,
        )
    try:
        yield store
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()


def _in_memory(url: str | None) -> bool:
    from urllib.parse import urlsplit

    return urlsplit(resolve_url(url)).scheme.lower() == "memory"


@contextmanager
def _scope(url: str | None, namespace: str | None) -> Iterator[tuple[BaseStore, tuple[str, ...]]]:
    """An existing store and a namespace prefix in it that holds memories (or the whole store)."""
    labels = parse_namespace(namespace)
    chosen = resolve_url(url)
    with _opened(chosen) as store:
        require_namespace(store, labels, chosen)
        yield store, labels


def _value(
    text: str | None, value: str | None, example: str = 'add "prefers tea" -n memories/user-1'
) -> dict[str, Any]:
    if (text is None) == (value is None):
        raise ConfigurationError(
            "give the memory either as TEXT or as --value JSON (one of them, not both)."
        )
    if text is not None:
        if not text.strip():
            raise ConfigurationError(
                f"TEXT {text!r} is empty: a memory needs content. Give the text to remember, "
                f"e.g. `langmem memories {example}`."
            )
        return {"content": text}
    try:
        parsed = json.loads(value)  # type: ignore[arg-type]
    except json.JSONDecodeError as exc:
        raise ConfigurationError(
            f"--value {value!r} is not JSON ({exc.msg}). Fix: give a JSON object, e.g. "
            """--value '{"content": "prefers tea"}' (or the text as TEXT, without --value)."""
        ) from None
    if not isinstance(parsed, dict):
        raise ConfigurationError(
            f'--value {value!r} must be a JSON object, e.g. --value \'{{"content": "..."}}\'.'
        )
    return parsed


COMPONENT = "cli"
"""How changes made through the command are attributed in the memory history."""


def _recorded(store: BaseStore) -> History:
    """Writes through :class:`History`, so each change is recorded with the change itself."""
    from langmem.knowledge.history import History

    return History(store)


def _exists(key: str, namespace: tuple[str, ...], url: str) -> ConfigurationError:
    return ConfigurationError(
        f"a memory with key {key!r} already exists in namespace {show_namespace(namespace)!r} "
        f"of {display_url(url)}: nothing was written. Fix: change it with `langmem memories "
        f"update {shlex.quote(key)} TEXT -n {namespace_argument(namespace)}`, add --replace "
        "to overwrite it, or leave --key out for a new key."
    )


def _missing(key: str, namespace: tuple[str, ...], url: str) -> ConfigurationError:
    return ConfigurationError(
        f"no memory with key {key!r} in namespace {show_namespace(namespace)!r} of "
        f"{display_url(url)}: list the keys with `langmem memories list -n "
        f"{namespace_argument(namespace)}`."
    )


@click.group()
def memories() -> None:
    """Add, read, search, change, delete, export and import memories."""


@memories.command()
@click.argument("text", required=False)
@_namespace_option(required=True)
@click.option("--key", "-k", help="The memory's key (default: a new UUID).")
@click.option("--value", help="The whole value as a JSON object, instead of TEXT.")
@click.option(
    "--replace",
    is_flag=True,
    help="With --key: replace the memory stored under that key, if there is one "
    "(without it, an existing key is refused).",
)
@store_option
@action_output_options
def add(
    text: str | None,
    namespace: str,
    key: str | None,
    value: str | None,
    replace: bool,
    store_url: str | None,
    table: bool,
) -> None:
    """Store a new memory: TEXT (stored as {"content": TEXT}) or --value JSON."""
    labels = parse_namespace(namespace, required=True)
    data = _value(text, value)
    if key == "":
        raise InvalidInputError(
            "--key '' is empty: give the memory's key, or leave --key out for a new UUID."
        )
    if replace and key is None:
        raise click.UsageError(
            "--replace needs --key: it replaces the memory stored under that key (without "
            "--key, add stores a new memory under a new UUID)."
        )
    url = resolve_url(store_url)
    with _opened(url, must_exist=False) as store:
        chosen = key or str(uuid.uuid4())
        new = None if replace else False  # a new memory unless --replace, checked where it
        try:  # is written (no race)
            _recorded(store).put(labels, chosen, data, component=COMPONENT, must_exist=new)
        except WriteConflictError as conflict:
            if replace or conflict.found.get((labels, chosen)) is None:
                raise  # it kept changing through every attempt: not an existing key
            raise _exists(chosen, labels, url) from None
        item = store.get(labels, chosen)
        assert item is not None
        Output(table=table).record(_transfer.item_record(item), COLUMNS)


@memories.command()
@click.argument("key")
@_namespace_option(required=True)
@store_option
@output_options
def get(key: str, namespace: str, store_url: str | None, table: bool) -> None:
    """Print the memory stored under KEY."""
    labels = parse_namespace(namespace, required=True)
    url = resolve_url(store_url)
    with _opened(url) as store:
        item = store.get(labels, key)
        if item is None:
            raise _missing(key, labels, url)
        Output(table=table).record(_transfer.item_record(item), COLUMNS)


@memories.command(name="list")
@_namespace_option(required=False)
@_filter_option
@click.option("--limit", "-l", default=20, show_default=True, type=Whole(1, 20))
@click.option("--offset", default=0, show_default=True, type=Whole(0, 20))
@store_option
@output_options
def list_(
    namespace: str | None,
    filters: tuple[str, ...],
    limit: int,
    offset: int,
    store_url: str | None,
    table: bool,
) -> None:
    """List memories, most recently updated first.

    Without --namespace, langmem's own records (change history, superseded and held values,
    under "__langmem__") are left out; name such a namespace to list them."""
    conditions = parse_filters(filters)
    with _scope(store_url, namespace) as (store, labels):
        found = _memories_only(
            labels,
            lambda size: store.search(labels, filter=conditions, limit=size),
            limit,
            offset,
        )
        Output(table=table).records((_transfer.item_record(i) for i in found), COLUMNS)


def _memories_only(
    labels: tuple[str, ...], fetch: Callable[[int], list[Any]], limit: int, offset: int
) -> list[Any]:
    """Results ``offset`` to ``offset + limit`` of ``fetch(size)`` (the best ``size``, best
    first: items, or ``(item, explanation)`` pairs), without langmem's own records when no
    namespace was named (``labels`` is empty): pages grow until enough are left."""
    from langmem.knowledge._history import RESERVED_ROOT

    want = limit + offset
    if labels:
        return fetch(want)[offset:]
    size = want
    while True:
        found = fetch(size)
        kept = [
            hit
            for hit in found
            if (hit[0] if isinstance(hit, tuple) else hit).namespace[:1] != (RESERVED_ROOT,)
        ]
        if len(kept) >= want or len(found) < size:
            return kept[offset:want]
        size *= 4


@memories.command()
@click.argument("query")
@_namespace_option(required=False)
@_filter_option
@click.option("--limit", "-l", default=10, show_default=True, type=Whole(1, 10))
@click.option("--explain", is_flag=True, help="Show the parts of each hit's score.")
@_ranking.ranking_option
@store_option
@output_options
def search(
    query: str,
    namespace: str | None,
    filters: tuple[str, ...],
    limit: int,
    explain: bool,
    ranking: tuple[str, ...],
    store_url: str | None,
    table: bool,
) -> None:
    """Find the memories that best match QUERY, best first.

    With --explain, each hit also shows the parts of its score (cosine, BM25, the query words
    it matched, boosts), as the store's explain() reports them. With --ranking, this search
    ranks with those options instead of the defaults (e.g. --ranking restate=0.2,supersede=0.3
    or --ranking fusion=learned); nothing is stored.
    """
    conditions = parse_filters(filters)
    options = _ranking.parse_ranking(ranking)
    with _scope(store_url, namespace) as (store, labels):
        _ranking.apply(store, options)
        if not explain:
            hits = _memories_only(
                labels,
                lambda size: store.search(labels, query=query, filter=conditions, limit=size),
                limit,
                0,
            )
            rows = [_transfer.item_record(h) for h in hits]
            Output(table=table).records(rows, SEARCH_COLUMNS)
            return
        method = getattr(store, "explain", None)
        if not callable(method):
            raise ConfigurationError(
                f"search --explain needs a store that can explain its ranking; "
                f"{type(store).__name__} cannot (it needs langmem's hybrid ranking with "
                "explain(), issue 14). Run the search without --explain."
            )
        rows = [
            {**_transfer.item_record(hit), "explain": _parts(why)}
            for hit, why in _memories_only(
                labels,
                lambda size: list(method(labels, query, filter=conditions, limit=size)),
                limit,
                0,
            )
        ]
        columns = EXPLAIN_COLUMNS
        if any(row["explain"].get("fused_rank") is not None for row in rows):  # a re-ranker
            columns = ["score", "reranked", "fused_rank", "fused_score", *EXPLAIN_COLUMNS[1:]]
        Output(table=table).records(
            ({**row, **row["explain"]} for row in rows) if table else rows,
            columns if table else SEARCH_COLUMNS,
        )


def _parts(explanation: Any) -> dict[str, Any]:
    """An explanation's score parts (without the backend's internal item id)."""
    if dataclasses.is_dataclass(explanation) and not isinstance(explanation, type):
        parts = dataclasses.asdict(explanation)
    else:
        parts = dict(vars(explanation))
    parts.pop("item", None)
    return parts


@memories.command()
@click.argument("key")
@click.argument("text", required=False)
@_namespace_option(required=True)
@click.option("--value", help="The new value as a JSON object, instead of TEXT.")
@store_option
@action_output_options
def update(
    key: str,
    text: str | None,
    namespace: str,
    value: str | None,
    store_url: str | None,
    table: bool,
) -> None:
    """Replace the value of the memory stored under KEY.

    A memory with a TTL keeps it (counted again from now, as a read refreshes it)."""
    labels = parse_namespace(namespace, required=True)
    data = _value(text, value, f'update {key} "prefers tea" -n {namespace}')
    url = resolve_url(store_url)
    with _opened(url) as store:
        if store.get(labels, key) is None:
            raise _missing(key, labels, url)
        # a put without ttl= gives the store's default (usually none): the memory's own TTL
        # was dropped, so a memory meant to expire lived on
        ttl = _transfer.stored_ttls(store, labels, key).get((labels, key))
        extra: dict[str, Any] = {} if ttl is None else {"ttl": ttl[0]}
        try:  # only while it exists, checked where it is written (a delete meanwhile)
            _recorded(store).put(labels, key, data, component=COMPONENT, must_exist=True, **extra)
        except WriteConflictError as conflict:
            if conflict.found.get((labels, key)) is not None:
                raise  # it kept changing through every attempt: not a missing key
            raise _missing(key, labels, url) from None
        item = store.get(labels, key)
        assert item is not None
        Output(table=table).record(_transfer.item_record(item), COLUMNS)


@memories.command()
@click.argument("keys", nargs=-1, required=True)
@_namespace_option(required=True)
@store_option
@action_output_options
def delete(keys: tuple[str, ...], namespace: str, store_url: str | None, table: bool) -> None:
    """Delete the memories stored under KEYS: all of them, or none.

    Every key must exist: when one does not, nothing is deleted and the error names each
    missing key (list the keys with `langmem memories list -n NS`). On the embedded store and
    PostgreSQL the deletes and their history records are one transaction (and one run for
    History.undo_run)."""
    from langgraph.store.base import GetOp

    from langmem import _flow
    from langmem.knowledge._history import Change, check_namespace, stamp_of

    labels = check_namespace(parse_namespace(namespace, required=True))
    keys = tuple(dict.fromkeys(keys))  # a key named twice is deleted (and reported) once
    url = resolve_url(store_url)
    with _opened(url) as store:
        found = cast("list[Item | None]", store.batch([GetOp(labels, key) for key in keys]))
        missing = [key for key, item in zip(keys, found) if item is None]
        if missing:
            raise _not_deleted(missing, labels, url)
        changes = [
            Change(labels, key, item.value, None, "delete", valid_from=stamp_of(item))
            for key, item in zip(keys, found)
            if item is not None
        ]
        # one batch: the deletes and their history records commit together, or none do
        # (one run id, so History.undo_run undoes the whole command)
        _flow.run_sync(_recorded(store)._write(changes, [], COMPONENT, None))
        Output(table=table).records(
            ({"namespace": list(labels), "key": key, "deleted": True} for key in keys),
            ["namespace", "key", "deleted"],
        )


def _not_deleted(missing: list[str], namespace: tuple[str, ...], url: str) -> ConfigurationError:
    shown = ", ".join(repr(key) for key in missing[:10])
    if len(missing) > 10:
        shown += f" and {len(missing) - 10} more"
    keys = "key" if len(missing) == 1 else "keys"
    return ConfigurationError(
        f"no memory with {keys} {shown} in namespace {show_namespace(namespace)!r} of "
        f"{display_url(url)}, so nothing was deleted (delete removes every key given, or "
        f"none). Fix: leave out the missing {keys}; list the keys with `langmem memories "
        f"list -n {namespace_argument(namespace)}`."
    )


@memories.command()
@_namespace_option(required=False)
@click.option(
    "--output",
    "-o",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="File to write (default: stdout).",
)
@store_option
@debug_option
def export(namespace: str | None, output: IO[str], store_url: str | None) -> None:
    """Write every memory under a namespace as JSON Lines (sorted; import reads it back).

    Memories with a TTL carry ttl_minutes and expires_at; exporting does not refresh them.

    A namespace's export ends with langmem's records about it (change history, superseded,
    quarantined and held values), so import restores those too."""
    from typing import get_args

    from langmem.knowledge._history import RESERVED_ROOT, Area, area

    name = getattr(output, "name", None)
    if name == "-":
        refuse_closed_stdout("the export")
    elif isinstance(name, str):
        check_output_path(name)
    with _scope(store_url, namespace) as (store, labels):
        items = _transfer.iter_items(store, labels)
        if labels and labels[0] != RESERVED_ROOT:
            for kind in get_args(Area):
                items += _transfer.iter_items(store, area(kind, labels))
        for item in items:
            output.write(_transfer.export_line(item) + "\n")


@memories.command(name="import")
@click.argument(
    "source", type=InputFile("langmem memories export --store OLD | langmem memories import -")
)
@store_option
@action_output_options
def import_(source: IO[str], store_url: str | None, table: bool) -> None:
    """Read memories from SOURCE (JSON Lines, as export writes; - for stdin) into the store.

    The whole file is checked first; then every memory is written in one transaction with its
    own timestamps (and TTL, on the embedded store and PostgreSQL) and re-embedded by the
    target store. A bad line stops the import before anything is written. Existing memories
    with the same namespace and key are overwritten.
    """
    name = source_name(source)
    refuse_database(source, name)
    try:
        items = _transfer.parse_lines(source, name)
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"{name} is not UTF-8 text ({exc.reason}); nothing was imported. Fix: give the "
            "JSON Lines `langmem memories export` writes: decompress it first (`gunzip -c "
            "FILE.gz | langmem memories import -`), or convert it to UTF-8 (`iconv -f latin1 "
            "-t utf-8`)."
        ) from None
    with _opened(store_url, must_exist=False) as store, progress("import", len(items)) as step:
        written = _transfer.write_items(store, items, advance=step)
        dropped = _transfer.dropped_ttls(store, items)
    if dropped:
        click.echo(
            f"warning: {dropped} memories have a TTL that {type(store).__name__} cannot "
            "restore: they were imported without one (import into langmem's embedded or "
            "PostgreSQL store to keep TTLs).",
            err=True,
        )
    namespaces = sorted({show_namespace(i.namespace) for i in items})
    Output(table=table).record({"imported": written, "namespaces": namespaces})
