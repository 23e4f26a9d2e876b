"""Open a store from a URL, and the per-process default store langmem falls back to.

``LANGMEM_STORE`` chooses the default store: unset or empty means
``sqlite:///<user data dir>/memories.sqlite`` (see ``LANGMEM_HOME``); a URL or a file path
picks another store; ``none`` (or ``off``) turns the fallback off, so code that gives no store
outside a LangGraph run gets ``StoreNotFoundError`` as upstream langmem does.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import parse_qs, unquote, urlsplit

from langmem._paths import data_dir
from langmem.errors import ConfigurationError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langgraph.store.base import BaseStore, IndexConfig, TTLConfig
    from langgraph.store.postgres.base import PostgresIndexConfig

STORE_ENV = "LANGMEM_STORE"
DEFAULT_FILE = "memories.sqlite"
_OFF = frozenset({"none", "off", "0", "false", "no", "disabled"})

_defaults: dict[str, BaseStore] = {}
_defaults_lock = threading.Lock()


def default_sqlite_path() -> Path:
    """The SQLite file of the default store (``$LANGMEM_STORE`` when it names one)."""
    configured = os.environ.get(STORE_ENV, "").strip()
    if configured and configured.lower() not in _OFF:
        if configured.startswith("sqlite://"):
            path = _sqlite_path(configured)
            if path != ":memory:":
                return Path(path)
        elif "://" not in configured:
            return Path(configured).expanduser()
    return data_dir() / DEFAULT_FILE


def default_store_url() -> str | None:
    """The URL of the default store, or ``None`` when ``LANGMEM_STORE`` turns it off."""
    configured = os.environ.get(STORE_ENV, "").strip()
    if configured.lower() in _OFF:
        return None
    if configured:
        return configured
    return f"sqlite:///{data_dir() / DEFAULT_FILE}"


def _sqlite_path(url: str) -> str:
    parts = urlsplit(url)
    path = unquote(parts.netloc + parts.path)
    if path in ("", "/:memory:", ":memory:"):
        return ":memory:"
    # sqlite:///relative.db -> "relative.db"; sqlite:////abs/file.db -> "/abs/file.db"
    return path[1:] if path.startswith("/") and not parts.netloc else path


def refuse_missing_file(url: str, what: str) -> None:
    """A SQLite store URL or path naming a file that does not exist is an error where a new
    empty store would hide a mistyped path (a copy's source)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower() if "://" in url else ""
    if scheme == "sqlite":
        path = _sqlite_path(url.split("?", 1)[0])
    elif scheme == "":
        path = str(Path(url.split("?", 1)[0]).expanduser())
    else:
        return
    if path != ":memory:" and not os.path.exists(path):
        raise ConfigurationError(
            f"{what} {url!r}: the store file {path!r} does not exist, so there is nothing to "
            "read (and nothing was created). Fix: check the path (sqlite:///relative.sqlite, "
            "sqlite:////absolute.sqlite)."
        )


def _embeddings_named(name: str, dims: int) -> Embeddings | None:
    from langmem.embeddings import HashingEmbeddings, MiniLMEmbeddings, default_embeddings

    lowered = name.lower()
    if lowered in ("", "default", "local"):
        return default_embeddings()
    if lowered == "minilm":
        return MiniLMEmbeddings()
    if lowered == "hashing":
        return HashingEmbeddings(dims=dims)
    if lowered == "none":
        return None
    if ":" not in name:
        raise ConfigurationError(
            f"embed={name!r} is not an embeddings name langmem knows: use 'default', 'minilm', "
            "'hashing', 'none', or a LangChain 'provider:model' string such as "
            "'openai:text-embedding-3-small'."
        )
    from langchain.embeddings import init_embeddings

    try:
        return init_embeddings(name)
    except ValueError as exc:  # LangChain's error for an unknown provider
        raise ConfigurationError(
            f"embed={name!r} cannot be loaded ({exc}). Use 'default', 'minilm', 'hashing', "
            "'none', or a LangChain 'provider:model' string with a supported provider."
        ) from exc


_SQLITE_PARAMETERS = ("embed", "dims", "fields", "mode")
# the parameters langmem reads itself (PostgreSQL passes the others on to libpq)
_OWN_PARAMETERS = (*_SQLITE_PARAMETERS, "hybrid", "ef_search", "exact_max", "pool_size")


def _dims_of(url: str, raw: str, name: str = "dims", least: int = 1) -> int:
    try:
        size = int(raw)
    except ValueError:
        size = least - 1
    if size < least:
        example = "the embedding length, e.g. '?dims=384' for all-MiniLM-L6-v2"
        raise ConfigurationError(
            f"open_store({url!r}): {name}={raw!r} is not a whole number of {least} or more. "
            f"Give {example if name == 'dims' else 'one'} (or leave it out)."
        )
    return size


def open_store(
    url: str | os.PathLike[str] | None = None,
    *,
    embed: Embeddings | str | None = None,
    dims: int | None = None,
    fields: list[str] | None = None,
    ttl: TTLConfig | None = None,
) -> BaseStore:
    """A ready store from a URL, with the default index (local MiniLM, 384 dims, ``["$"]``).

    URLs: ``sqlite:///relative/file.sqlite``, ``sqlite:////absolute/file.sqlite``, a plain
    file path, or ``memory://`` (a private in-memory SQLite store, same features, nothing kept).
    Query parameters set the index: ``embed`` (``default``, ``minilm``, ``hashing``, ``none``
    or a LangChain ``provider:model`` string), ``dims`` and ``fields`` (comma separated);
    ``mode=ro`` opens a SQLite file for reading only (writes raise ``StoreFileError``; a file
    this user cannot write, or on a read-only file system, is opened so without it).
    ``postgresql://user:password@host:port/database`` opens a :class:`PostgresStore` (a
    LangGraph ``PostgresStore`` with pgvector, hybrid search and a connection pool; needs
    ``pip install 'langmem[postgres]'``); it also reads ``hybrid``, ``ef_search``,
    ``exact_max`` and ``pool_size`` and passes other parameters (``sslmode``...) to libpq.

    Args:
        url: where the store lives; by default the default store's URL (``LANGMEM_STORE``).
        embed: embeddings object or name (overrides the URL's ``embed``).
        dims: vector length (overrides the URL's ``dims``; 384 by default).
        fields: value paths to index (overrides the URL's ``fields``; ``["$"]`` by default).
        ttl: LangGraph TTL configuration.

    Example:
        >>> store = open_store("memory://?embed=hashing&dims=64")
        >>> store.put(("notes",), "1", {"text": "Ana's flight lands at 7:45"})
        >>> store.search(("notes",), query="when does Ana land?")[0].key
        '1'
    """
    from langmem.stores._sqlite import SqliteStore

    target = str(url) if url is not None else default_store_url()
    if target is not None and not target.strip():
        raise ConfigurationError(
            "open_store(''): the URL is empty. Pass a URL such as 'sqlite:///memories.sqlite' "
            "or 'memory://', or None for the default store."
        )
    if target is None:
        raise ConfigurationError(
            f"open_store() was given no URL and {STORE_ENV}=none turns the default store off: "
            "pass a URL such as 'sqlite:///memories.sqlite'."
        )
    parts = urlsplit(target)
    scheme = parts.scheme.lower() if "://" in target else ""
    if not scheme and parts.scheme.lower() in ("memory", "postgres", "postgresql"):
        raise ConfigurationError(
            f"open_store({target!r}): a {parts.scheme} URL needs '//' after the scheme, e.g. "
            f"'{parts.scheme.lower()}://{'user@host/database' if parts.scheme[0] in 'pP' else ''}"
            "'; as written it would open a SQLite file named after the rest."
        )
    given = parse_qs(parts.query)
    for name, values in given.items():
        if len(values) > 1 and name in _OWN_PARAMETERS:
            raise ConfigurationError(
                f"open_store({target!r}) gives {name}={', '.join(repr(v) for v in values)}: "
                "which one is meant is unclear, so the store was not opened. Fix: give each "
                "parameter once."
            )
    query = {k: v[-1] for k, v in given.items()}
    size = dims if dims is not None else _dims_of(target, query.get("dims", "384"))
    chosen: Embeddings | None
    if embed is None or isinstance(embed, str):
        chosen = _embeddings_named(
            embed if isinstance(embed, str) else query.get("embed", ""), size
        )
    else:
        chosen = embed
    paths = fields or [f for f in query.get("fields", "").split(",") if f] or ["$"]
    index: IndexConfig | None = (
        None if chosen is None else {"dims": size, "embed": chosen, "fields": paths}
    )
    if scheme in ("", "sqlite", "file", "memory"):
        unknown = sorted(set(query) - set(_SQLITE_PARAMETERS))
        if unknown:
            raise ConfigurationError(
                f"open_store({target!r}): unknown parameter(s) {', '.join(unknown)}. The "
                f"embedded store reads only {', '.join(_SQLITE_PARAMETERS)}, e.g. "
                "'sqlite:///memories.sqlite?embed=hashing&dims=64'; remove the others."
            )
    if scheme in ("", "sqlite", "file"):
        if scheme == "":
            path: str = str(Path(parts.path or target).expanduser())
        elif scheme == "file":
            path = unquote(parts.path)
        else:
            path = _sqlite_path(target.split("?", 1)[0])
        if query.get("mode", "rw") not in ("ro", "rw"):
            raise ConfigurationError(
                f"open_store({target!r}): mode={query['mode']!r} is not supported: use "
                "mode=ro to open the file for reading only (writes are refused), or leave it out."
            )
        read_only = query.get("mode") == "ro"
        return SqliteStore(path, index=index, ttl=ttl, read_only=read_only)
    if scheme == "memory":
        return SqliteStore(":memory:", index=index, ttl=ttl, read_only=query.get("mode") == "ro")
    if scheme in ("postgres", "postgresql"):
        from langmem.stores._pg_connect import DEFAULT_EF_SEARCH
        from langmem.stores._postgres import EXACT_MAX, PostgresStore

        return PostgresStore.from_url(
            target,
            index=cast("PostgresIndexConfig | None", index),
            ttl=ttl,
            hybrid=query.get("hybrid", "true").lower() not in _OFF,
            ef_search=_dims_of(target, query.get("ef_search", str(DEFAULT_EF_SEARCH)), "ef_search"),
            exact_max=_dims_of(target, query.get("exact_max", str(EXACT_MAX)), "exact_max", 0),
            pool_size=_dims_of(target, query.get("pool_size", "10"), "pool_size"),
        )
    raise ConfigurationError(
        f"open_store({target!r}): unknown URL scheme {scheme!r}. Use 'sqlite:///path', "
        "'memory://', 'postgresql://user:password@host/database' or a file path."
    )


def default_store() -> BaseStore | None:
    """The store langmem uses when none is given and no LangGraph store is in context.

    One store per process and URL (``LANGMEM_STORE``, by default a SQLite file in the user data
    folder), opened on first use; ``None`` when ``LANGMEM_STORE=none``.
    """
    url = default_store_url()
    if url is None:
        return None
    with _defaults_lock:
        found = _defaults.get(url)
        if found is None:
            found = open_store(url)
            _defaults[url] = found
        return found


def _forget_defaults() -> None:
    """Close and forget the cached default stores (tests)."""
    with _defaults_lock:
        for store in _defaults.values():
            close = getattr(store, "close", None)
            if close is not None:
                close()
        _defaults.clear()
