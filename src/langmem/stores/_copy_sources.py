"""Copying from LangGraph's own stores into langmem's (migrating to langmem in one call).

A source is read in pages of :class:`Found` (an item and its TTL, if any), from:

- any LangGraph ``BaseStore`` object (``InMemoryStore``, LangGraph's ``SqliteStore`` and
  ``PostgresStore``, a store of your own) through its public API: ``list_namespaces`` pages,
  then ``search`` pages per namespace, without refreshing TTLs. That API shows no TTL: for
  LangGraph's ``SqliteStore`` and ``PostgresStore`` objects the TTLs are read from the columns
  of their ``store`` table; other stores' items are copied without one;
- ``langgraph-sqlite:///path`` and ``langgraph-postgres://user@host/db``: the ``store`` table of
  a LangGraph store file or database, read only (see :mod:`langmem.stores._copy_tables`).

Vectors are not read: LangGraph does not record which embeddings made them (and its API does
not return them), so the target embeds every item's texts with its own index, as a ``put`` of
the same value would. Everything else arrives as stored: namespace, key, value,
``created_at``, ``updated_at``, TTL and its deadline.

The whole source is read and checked once before anything is written (a value the target
cannot hold is named, and nothing is copied); then each batch is written in one transaction
with :meth:`restore`. A failure after that says how many items were copied; running the copy
again is safe (items with the same namespace and key are replaced).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from langgraph.store.base import BaseStore, Item, PutOp

from langmem.errors import ConfigurationError, InvalidInputError, LangMemError
from langmem.stores import _writes

if TYPE_CHECKING:
    from langmem.stores._copy import Progress

PAGE = 1000
Ttl = tuple[float, datetime]
"""``(ttl_minutes, expires_at)``."""

SCHEMES = {
    "langgraph-sqlite": "sqlite",
    "langgraph-postgres": "postgres",
    "langgraph-postgresql": "postgres",
}
"""URL schemes naming a LangGraph store to read (the part before ``://``)."""


@dataclass
class Found:
    """One item read from a LangGraph store, with its TTL when it has one."""

    item: Item
    ttl: Ttl | None = None


class Source(Protocol):
    """What a copy reads: pages of items, each item once."""

    name: str
    """The source as shown in messages."""

    def pages(self, size: int) -> Iterator[list[Found]]: ...

    def close(self) -> None: ...


def is_langgraph_url(text: str) -> bool:
    """Whether ``text`` names a LangGraph store (``langgraph-sqlite://``, ``langgraph-postgres://``)."""
    scheme = text.split("://", 1)[0].strip().lower() if "://" in text else ""
    return scheme in SCHEMES


def open_source(source: BaseStore | str, namespace: tuple[str, ...] = ()) -> Source:
    """A reader of ``source`` (a LangGraph store object or URL), limited to ``namespace``."""
    if not isinstance(source, str):
        return StoreSource(source, namespace)
    from langmem.stores import _copy_tables

    scheme = source.split("://", 1)[0].strip().lower()
    if SCHEMES.get(scheme) == "sqlite":
        return _copy_tables.SqliteFileSource(source, namespace)
    return _copy_tables.PostgresSource(source, namespace)


def utc(moment: Any, what: str, where: str) -> datetime:
    """A stored time as an aware UTC datetime (LangGraph's SQLite file keeps naive UTC text)."""
    if isinstance(moment, datetime):
        found = moment
    else:
        try:
            found = datetime.fromisoformat(str(moment).strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"{where}: {what} {moment!r} is not a time (ISO 8601 expected). Nothing was "
                "copied. Fix or delete that item in the source, then run the copy again."
            ) from None
    if found.tzinfo is None:
        found = found.replace(tzinfo=timezone.utc)
    return found.astimezone(timezone.utc)


def checked_ttl(minutes: Any, expires: Any, where: str) -> Ttl | None:
    """An item's TTL from its two columns: both set, or no TTL."""
    if minutes is None or expires is None:
        return None
    if not _writes.is_minutes(minutes) or not float(minutes) > 0:
        raise InvalidInputError(
            f"{where}: ttl_minutes {minutes!r} is not a positive number of minutes. Nothing "
            "was copied. Fix or delete that item's TTL in the source, then run the copy again."
        )
    return float(minutes), utc(expires, "expires_at", where)


class StoreSource:
    """Any ``BaseStore`` read through its public API (``list_namespaces`` + ``search``)."""

    def __init__(self, store: BaseStore, namespace: tuple[str, ...]) -> None:
        self.store = store
        self.namespace = namespace
        self.name = type(store).__name__
        self._refresh_kwarg = True
        self._ttls: dict[tuple[tuple[str, ...], str], Ttl] | None = None

    def close(self) -> None:
        return None

    def pages(self, size: int) -> Iterator[list[Found]]:
        if self._ttls is None:  # read once: a warning about them is given once
            self._ttls = langgraph_ttls(self.store, self.namespace)
        ttls = self._ttls
        page: list[Found] = []
        for namespace in self._namespaces():
            for item in self._items(namespace):
                page.append(Found(item, ttls.get((namespace, item.key))))
                if len(page) >= size:
                    yield page
                    page = []
        if page:
            yield page

    def _namespaces(self) -> list[tuple[str, ...]]:
        found: list[tuple[str, ...]] = []
        while True:
            listed = self._call(
                lambda: self.store.list_namespaces(
                    prefix=self.namespace or None, limit=PAGE, offset=len(found)
                )
            )
            found.extend(tuple(n) for n in listed)
            if len(listed) < PAGE:
                return sorted(set(found))

    def _items(self, namespace: tuple[str, ...]) -> list[Item]:
        """The items stored exactly in ``namespace`` (a search also returns those below it).

        Pages asked for by offset stay complete while the store's order is stable. When it is
        not (equal timestamps ordered differently from page to page), some item came twice, so
        as many others were missed: the namespace is then read again in one call."""
        items: list[Item] = []
        while True:
            page = self._search(namespace, PAGE, len(items))
            items.extend(page)
            if len(page) < PAGE:
                break
        if len({(tuple(i.namespace), i.key) for i in items}) < len(items):
            items = self._search(namespace, len(items) + PAGE, 0)  # pages overlapped
        unique = {i.key: i for i in items if tuple(i.namespace) == namespace}
        return [unique[key] for key in sorted(unique)]

    def _search(self, namespace: tuple[str, ...], limit: int, offset: int) -> list[Item]:
        def run() -> list[Item]:
            if self._refresh_kwarg:
                try:  # reading must not extend TTLs
                    return list(
                        self.store.search(namespace, limit=limit, offset=offset, refresh_ttl=False)
                    )
                except TypeError as exc:  # a store whose search has no refresh_ttl
                    if "refresh_ttl" not in str(exc):
                        raise
                    self._refresh_kwarg = False
            return list(self.store.search(namespace, limit=limit, offset=offset))

        found: list[Item] = self._call(run)
        return found

    def _call(self, read: Callable[[], Any]) -> Any:
        import asyncio

        try:
            return read()
        except asyncio.InvalidStateError as exc:  # an async-only store, in its event loop
            raise ConfigurationError(
                f"copy_store() reads {self.name} with its sync methods, which it refuses in "
                f"the event loop ({exc}). Run the copy outside the loop (await "
                "asyncio.to_thread(copy_store, source, target)), or give the file or "
                "database itself: 'langgraph-sqlite:///path' or 'langgraph-postgres://...'."
            ) from None


def langgraph_ttls(
    store: BaseStore, namespace: tuple[str, ...]
) -> dict[tuple[tuple[str, ...], str], Ttl]:
    """The TTLs of a LangGraph ``SqliteStore`` or ``PostgresStore`` object's items (their
    ``store`` table keeps them; the public API does not show them); ``{}`` for other stores."""
    from langmem.stores import _copy_tables

    rows: list[tuple[Any, ...]] = []
    try:
        kind = _langgraph_kind(store)
        if kind == "sqlite":
            rows = _copy_tables.sqlite_ttl_rows(store.conn, namespace)  # type: ignore[attr-defined]
        elif kind == "postgres":
            rows = _copy_tables.postgres_ttl_rows(store.conn, namespace)  # type: ignore[attr-defined]
        elif kind == "other" or getattr(store, "supports_ttl", False):
            raise LookupError("its API does not show them")
    except Exception as exc:  # an async store, or an unexpected table layout: say so
        warnings.warn(
            f"copy_store(): the TTLs of {type(store).__name__} could not be read ({exc}); its "
            "items are copied without a TTL. To keep them, copy LangGraph's store by its file "
            "or database: 'langgraph-sqlite:///path' or 'langgraph-postgres://...'.",
            UserWarning,
            stacklevel=5,
        )
        return {}
    found = {}
    for prefix, key, minutes, expires in rows:
        where = f"item {prefix}/{key!r}"
        ttl = checked_ttl(minutes, expires, where)
        if ttl is not None:
            found[(tuple(prefix.split(".")), key)] = ttl
    return found


def _langgraph_kind(store: BaseStore) -> str | None:
    """``"sqlite"`` or ``"postgres"`` for LangGraph's own sync stores, ``"other"`` for their
    async twins (they keep TTLs too, out of sync reach), else ``None``."""
    import sys

    sqlite = sys.modules.get("langgraph.store.sqlite.base")
    if sqlite is not None and isinstance(store, sqlite.SqliteStore):
        return "sqlite"
    postgres = sys.modules.get("langgraph.store.postgres.base")
    if postgres is not None and isinstance(store, postgres.PostgresStore):
        return "postgres"
    bases = tuple(
        getattr(module, name, object)  # older releases: no common base, then never "other"
        for module, name in ((sqlite, "BaseSqliteStore"), (postgres, "BasePostgresStore"))
        if module is not None
    )
    if any(base is not object and isinstance(store, base) for base in bases):
        return "other"
    return None


# -- copying ---------------------------------------------------------------------------------


def refuse_same_database(reader: object, target: BaseStore) -> None:
    """A LangGraph database copied into langmem's store on the same database: refused (the
    same table; re-writing LangGraph's vectors with langmem's embeddings would break a
    LangGraph app still using them)."""
    from urllib.parse import urlsplit

    source = getattr(reader, "conninfo", None)
    url = getattr(target, "url", None)
    if source is None or not isinstance(url, str):
        return

    def where(text: str) -> tuple[str | None, int, str]:
        parts = urlsplit(text.split("?", 1)[0])
        return parts.hostname, parts.port or 5432, parts.path.strip("/")

    if where(source) == where(url):
        raise ConfigurationError(
            f"{getattr(reader, 'name', source)} is also the target: langmem's PostgresStore "
            "keeps its items in LangGraph's own table, so a copy onto itself would only replace "
            "LangGraph's vectors with langmem's (breaking a LangGraph app that still uses "
            "them). Copy into another database (e.g. `createdb memories`, then `langmem store copy "
            "langgraph-postgres://.../app postgresql://.../memories`) or into a SQLite file. "
            "Nothing was copied."
        )


def check_all(source: Source, size: int, *, postgres: bool) -> int:
    """Read ``source`` once and check every item as the target will (PostgreSQL: also NUL,
    NaN, infinity); returns how many there are. Raises before anything is written."""
    from langmem.stores import _pg_checks

    count = 0
    unholdable: list[tuple[str, str, Any]] = []
    for page in source.pages(size):
        for found in page:
            item = found.item
            op = PutOp(tuple(item.namespace), item.key, item.value)
            try:
                _writes.check_op(op)
                # as the target keeps it: the embedded store refuses NaN (PostgreSQL's check
                # below lists every item it cannot hold)
                text = _writes.value_json(op) if postgres else _writes.stored_json(op)
            except LangMemError as exc:
                raise _stopped(exc, f"In {source.name}: ", "Nothing was copied.") from None
            if postgres and _pg_checks.unholdable(item.key, item.value, text) is not None:
                unholdable.append((".".join(item.namespace), item.key, item.value))
        count += len(page)
    if unholdable:
        _pg_checks.refuse_unholdable(unholdable, "Nothing was copied.")
    return count


def copy_found(
    source: Source, target: BaseStore, *, batch_size: int, progress: Progress | None
) -> int:
    """Copy every item of ``source`` into ``target`` (langmem's SqliteStore or PostgresStore),
    batch by batch, each with its timestamps and TTL; the target embeds the texts."""
    from langmem.cli._transfer import keeps_ttls

    if not keeps_ttls(target):
        raise ConfigurationError(
            f"copy_store() writes into langmem's SqliteStore or PostgresStore, not "
            f"{type(target).__name__}: open the target with open_store(URL)."
        )
    postgres = type(target).__module__ == "langmem.stores._postgres"
    total = check_all(source, batch_size, postgres=postgres)
    done = 0
    if progress is not None:
        progress(0, total)
    for page in source.pages(batch_size):
        ttls = {(tuple(f.item.namespace), f.item.key): f.ttl for f in page if f.ttl is not None}
        try:
            target.restore([f.item for f in page], ttls=ttls)  # type: ignore[attr-defined]
        except Exception as exc:
            written = (
                "Nothing was copied"
                if done == 0
                else f"The copy stopped after {done} of {total} item(s), each copied whole"
            )
            raise _stopped(
                exc,
                "",
                f"{written}; items with the same namespace and key are replaced, so running "
                "it again is safe.",
            ) from exc
        done += len(page)
        if progress is not None:
            progress(done, max(total, done))
    return done


def _stopped(exc: BaseException, before: str, after: str) -> LangMemError:
    """``exc`` with where it happened and what was written; a LangMemError of the same kind."""
    text = f"{before}{exc} {after}"
    if isinstance(exc, LangMemError):
        try:
            return type(exc)(text)
        except TypeError:
            pass
    else:
        text = f"{before}{type(exc).__name__}: {exc} {after}"
    return LangMemError(text)
