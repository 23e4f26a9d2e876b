"""What a command works on: the store (opened from a URL), namespaces and filters as typed.

A store file is opened with the embeddings its vectors were made with (recorded in the file),
so inspecting a store never re-embeds it. Commands that only read refuse a file that does not
exist instead of creating an empty one, and a file that holds no langmem store (an empty file,
another program's database, a LangGraph store file) instead of adding langmem's tables to it.
"""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from langmem.errors import ConfigurationError
from langmem.stores._connection import file_error
from langmem.stores._read_only import read_only_uri

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore


def resolve_url(url: str | None) -> str:
    """The store URL to use: ``url``, else the default store's. A blank ``url`` (``--store
    ""``, e.g. an unset shell variable) is refused: it used to open the default store."""
    from langmem.stores._open import _OFF, STORE_ENV, default_store_url

    if url is not None and not url.strip():
        raise ConfigurationError(
            f"store URL {url!r} is empty (an unset shell variable?): nothing was opened. Fix: "
            "give a store URL, e.g. sqlite:///memories.sqlite, or leave it out for the default "
            "store."
        )
    chosen = url.strip() if url else default_store_url()
    if chosen and chosen.lower() in _OFF:
        chosen = None
    if not chosen:
        raise ConfigurationError(
            f"no store: {STORE_ENV}=none turns the default store off. Pass --store URL, for "
            "example --store sqlite:///memories.sqlite."
        )
    try:
        urlsplit(chosen)
    except ValueError as exc:  # e.g. an unclosed '[' around an IPv6 host
        raise ConfigurationError(
            f"store URL {_hidden_password(chosen)!r} is not a URL ({exc}). Fix: check it, e.g. "
            "postgresql://user:password@[::1]:5432/db (an IPv6 host in brackets), "
            "sqlite:///memories.sqlite, or a file path."
        ) from None
    return chosen


def _hidden_password(url: str) -> str:
    """``url`` with any ``user:password@`` password masked, for a URL urlsplit cannot read."""
    return re.sub(r"(://[^/@:]*:)[^@/]*@", r"\1***@", url)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store URL or path; ``None`` for other stores and ``:memory:``."""
    from langmem.stores._open import _sqlite_path

    parts = urlsplit(url)
    # file:/path?mode=ro is a SQLite URI the store opens as that file (no "//" needed)
    uri = "://" in url or url[:5].lower() == "file:"
    scheme = parts.scheme.lower() if uri else ""
    if scheme == "sqlite":  # '~' expanded as the store expands it (sqlite:///~/m.sqlite)
        path = _sqlite_path(url.split("?", 1)[0])
        return None if path == ":memory:" else Path(path).expanduser()
    if scheme == "file":
        return Path(parts.path).expanduser()
    if scheme == "":
        return Path(url.split("?", 1)[0]).expanduser()
    return None


def display_url(url: str) -> str:
    """``url`` without its password (for output and messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}" if parts.username else host
    return urlunsplit(parts._replace(netloc=netloc))


def recorded_index(path: Path) -> dict[str, Any] | None:
    """The index identity a store file records (embedder, dims, fields, generation), or
    ``None`` when it records none."""
    from langmem.stores._identity import recorded

    if path.is_dir():
        example = path / "memories.sqlite"
        raise ConfigurationError(
            f"cannot open store file {str(path)!r}: it is a folder; name a file in it, "
            f"e.g. --store {str(example)!r}."
        )
    try:
        uri = read_only_uri(str(path))
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise ConfigurationError(f"cannot open store file {str(path)!r}: {exc}.") from exc
    try:
        identity, generation = recorded(conn)
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):
            return None
        if isinstance(exc, sqlite3.OperationalError):  # cannot be read here: say why
            raise file_error(uri, exc, shown=str(path), read_only=True) from exc
        raise ConfigurationError(
            f"{str(path)!r} is not a langmem store ({exc}): check the --store path."
        ) from exc
    finally:
        conn.close()
    if identity is None:
        return None
    fields = None if identity.fields is None else list(identity.fields)
    return _index_record(identity.embedder, identity.dims, fields, generation)


def is_postgres(url: str) -> bool:
    return "://" in url and urlsplit(url).scheme.lower() in ("postgres", "postgresql")


def recorded_postgres_index(url: str) -> dict[str, Any] | None:
    """The index identity a PostgreSQL store records (embedder, dims, fields, generation), or
    ``None`` when it records none (or cannot be reached: opening it then says why)."""
    import psycopg
    from psycopg.rows import dict_row

    from langmem.stores._pg_connect import CONNECT_TIMEOUT, split_url
    from langmem.stores._pg_identity import TABLE, recorded

    conninfo, _ = split_url(url)
    try:
        with (
            psycopg.connect(conninfo, connect_timeout=CONNECT_TIMEOUT) as conn,
            conn.cursor(row_factory=dict_row) as cur,
        ):
            cur.execute("SELECT to_regclass(%s) IS NOT NULL AS found", (TABLE,))
            row = cur.fetchone()
            identity, generation = recorded(cur) if row and row["found"] else (None, 0)
    except psycopg.Error:
        return None
    if identity is None:
        return None
    return _index_record(identity.embedder, identity.dims, list(identity.fields), generation)


def _index_record(
    embedder: str, dims: int, fields: list[str] | None, generation: int
) -> dict[str, Any]:
    return {"embeddings": embedder, "dims": dims, "fields": fields, "generation": generation}


def open_target(
    url: str | None, *, must_exist: bool = True, like: BaseStore | None = None
) -> BaseStore:
    """Open the store at ``url`` (default store when ``None``).

    ``must_exist``: a SQLite file that does not exist is an error instead of a new empty store.
    The embeddings come from the URL's ``embed`` parameter, else from what the file (or the
    PostgreSQL database) records, else (a new store) from ``like``'s index, else langmem's
    default.
    """
    from langmem.stores import open_store

    chosen = resolve_url(url)
    path = sqlite_file(chosen)
    embed: Any = None
    dims: int | None = None
    fields: list[str] | None = None
    query = parse_qs(urlsplit(chosen).query)
    if path is not None:
        if not path.exists():
            if must_exist:
                raise ConfigurationError(
                    f"store file {str(path)!r} does not exist: check --store (or LANGMEM_STORE), "
                    "or create it with `langmem memories add` or `langmem memories import`."
                )
        else:
            if must_exist:
                require_langmem_file(path)
            if "embed" not in query:
                embed, dims, fields = _rebuilt(recorded_index(path), f"file {str(path)!r}")
            else:
                fields = _recorded_fields(recorded_index(path), query)
    elif is_postgres(chosen) and "embed" not in query:
        embed, dims, fields = _rebuilt(recorded_postgres_index(chosen), display_url(chosen))
    elif is_postgres(chosen):
        fields = _recorded_fields(recorded_postgres_index(chosen), query)
    config = getattr(like, "index_config", None)
    if config and embed is None and "embed" not in query:
        embed, dims, fields = config["embed"], config["dims"], list(config["fields"])
    if "://" in chosen and urlsplit(chosen).scheme.lower() not in (
        "sqlite",
        "file",
        "memory",
        "postgres",
        "postgresql",
    ):
        raise ConfigurationError(
            f"store URL {display_url(chosen)!r} has an unknown scheme: use sqlite:///path, "
            "postgresql://user@host/db, memory:// or a file path."
        )
    return open_store(chosen, embed=embed, dims=dims, fields=fields)


def require_langmem_file(path: Path) -> None:
    """Refuse, without changing it, a file that holds no langmem store: opening it would add
    langmem's tables to it (a command that only reads must not write another program's file)."""
    if path.is_dir():
        return  # opening it says it is a folder
    try:
        conn = sqlite3.connect(read_only_uri(str(path)), uri=True)
    except sqlite3.Error:
        return  # opening it says why
    try:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
    except sqlite3.Error:
        return  # not a database, damaged, unreadable: opening it says which
    finally:
        conn.close()
    if "langmem_migrations" in tables:
        return
    where = repr(str(path))
    if not tables:
        what = "is empty (no langmem store in it yet)"
        fix = "check --store (or LANGMEM_STORE), or create the store with `langmem memories add`"
    elif "store" in tables:
        what = "is LangGraph's store file, not a langmem store"
        fix = (
            "copy its memories into a langmem store with "
            f"`langmem store copy {shlex.quote(str(path))}`"
        )
    else:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        what = f"is another program's SQLite database (tables: {shown}), not a langmem store"
        fix = "check --store (or LANGMEM_STORE)"
    raise ConfigurationError(f"store file {where} {what}; it was not changed. Fix: {fix}.")


def _recorded_fields(index: dict[str, Any] | None, query: dict[str, list[str]]) -> Any:
    """The fields a store records, when its URL names the embeddings (``?embed=hashing``) but
    no fields: after ``store reembed --fields content`` the same URL kept opening it with
    ``["$"]``, which the store refused as another index."""
    if index is None or "fields" in query:
        return None
    return index["fields"]


def _rebuilt(index: dict[str, Any] | None, where: str) -> tuple[Any, int | None, list[str] | None]:
    """The embeddings, dims and fields of a recorded ``index`` (of the store at ``where``)."""
    from langmem.stores._identity import IndexIdentity, rebuild

    if index is None:
        return None, None, None
    fields = index["fields"]
    embed = rebuild(IndexIdentity(index["embeddings"], index["dims"], None))
    if embed is None:
        raise ConfigurationError(
            f"store {where} was indexed with embeddings {index['embeddings']!r}, "
            "which the command cannot rebuild on its own: add ?embed=provider:model (the same "
            "model) to the --store URL, or re-embed the store with `langmem store reembed`."
        )
    return embed, index["dims"], fields


def parse_namespace(text: str | None, *, required: bool = False) -> tuple[str, ...]:
    """``"memories/user-123"`` -> ``("memories", "user-123")``; ``None`` or ``""`` -> ``()``."""
    if not text:
        if required:
            raise ConfigurationError(
                "this command needs --namespace, for example --namespace memories/user-123."
            )
        return ()
    if text.lstrip().startswith("["):
        return _json_namespace(text)
    labels = tuple(text.strip("/").split("/"))
    for label in labels:
        if not label or "." in label:
            raise ConfigurationError(
                f"namespace {text!r} is not usable: labels are separated by '/', and each must "
                "be non-empty and without '.'. Example: --namespace memories/user-123."
            )
    return labels


def _json_namespace(text: str) -> tuple[str, ...]:
    """``'["memories", "org/ana"]'`` -> ``("memories", "org/ana")``: the way to name labels
    that hold '/' (which the tools store, e.g. a user id from the run context)."""
    try:
        labels = json.loads(text)
    except json.JSONDecodeError as exc:
        labels = exc
    if (
        not isinstance(labels, list)
        or not labels
        or not all(isinstance(x, str) and x and "." not in x for x in labels)
    ):
        raise ConfigurationError(
            f"namespace {text!r} is not usable: as JSON it must be a list of non-empty labels "
            """without '.', e.g. --namespace '["memories", "org/ana"]'."""
        )
    return tuple(labels)


def show_namespace(namespace: tuple[str, ...] | list[str]) -> str:
    return "/".join(namespace)


def namespace_argument(namespace: tuple[str, ...] | list[str]) -> str:
    """``namespace`` as a ``--namespace`` value a shell passes back unchanged: ``m/u``, or the
    quoted JSON list when a label holds '/' (``m/a/b`` would name three labels)."""
    if any("/" in label for label in namespace):
        return shlex.quote(json.dumps(list(namespace), ensure_ascii=False))
    return shlex.quote(show_namespace(namespace))


def parse_filters(pairs: tuple[str, ...]) -> dict[str, Any] | None:
    """``("kind=note", "rank=3")`` -> ``{"kind": "note", "rank": 3}`` (JSON values when they
    parse, else the text)."""
    if not pairs:
        return None
    found: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise ConfigurationError(
                f"--filter {pair!r} is not key=value: write it like --filter kind=note."
            )
        try:  # NaN is not JSON and equals nothing: kind=NaN is the text "NaN"
            found[name] = json.loads(raw, parse_constant=_not_json)
        except ValueError:
            found[name] = raw
    return found


def _not_json(name: str) -> Any:
    if name == "NaN":
        raise ValueError(name)
    return float(name)  # Infinity and -Infinity, which stored values may hold


def require_namespace(store: BaseStore, namespace: tuple[str, ...], url: str) -> None:
    """Fail when no item lives under ``namespace`` (a typo should not look like "no results")."""
    if not namespace:
        return
    if store.list_namespaces(prefix=namespace, limit=1):
        return
    raise ConfigurationError(
        f"namespace {show_namespace(namespace)!r} holds no memories in "
        f"{display_url(url)}: check the spelling, or list namespaces with `langmem store info`."
    )
