"""Memories as JSON Lines: one item per line, for export, import and copies between stores.

A line is ``{"namespace": [...], "key": ..., "value": {...}, "created_at": ..., "updated_at":
...}`` (ISO 8601 times), plus ``"ttl_minutes"`` and ``"expires_at"`` for an item with a TTL.
Export sorts items by namespace and key and does not refresh TTLs, so exporting the same
memories twice gives the same bytes. Import reads and checks the whole file before writing
anything, then writes every item in one transaction with its own timestamps (a store with a
``restore(items)`` method; langmem's ``SqliteStore`` and ``PostgresStore`` also keep each TTL
and its expiry); other stores get one batch of puts, which stamps the current time.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from langmem import _json_text
from langmem.errors import InvalidInputError

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore, Item

PAGE = 1000
FIELDS = ("namespace", "key", "value", "created_at", "updated_at")
TTL_FIELDS = ("ttl_minutes", "expires_at")

Ttl = tuple[float, datetime]
"""An item's TTL in minutes and the moment it expires."""


def item_record(item: Item) -> dict[str, Any]:
    """The JSON-ready record of one stored item (a search hit adds ``score``)."""
    record: dict[str, Any] = {
        "namespace": list(item.namespace),
        "key": item.key,
        "value": item.value,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }
    score = getattr(item, "score", None)
    if score is not None:
        record["score"] = score
    return record


def export_line(item: Item) -> str:
    """One export line. Object keys inside the value are sorted: backends do not all keep
    their order (PostgreSQL's jsonb reorders them), and the same memories must export the same
    bytes from every store."""
    record = item_record(item)
    # a sorted dump read back gives dicts whose insertion order is sorted, at every depth
    record["value"] = json.loads(json.dumps(record["value"], sort_keys=True))
    ttl = getattr(item, "ttl", None)
    if ttl is not None:
        record["ttl_minutes"] = ttl[0]
        record["expires_at"] = ttl[1].astimezone(timezone.utc).isoformat()
    return _json_text.dumps(record, refuse_nan=False, ensure_ascii=False, separators=(",", ":"))


def iter_items(store: BaseStore, prefix: tuple[str, ...]) -> list[Item]:
    """Every item under ``prefix`` (all of them for ``()``), sorted by namespace and key, each
    with its TTL when it has one and the store tells (reading does not refresh TTLs)."""
    found: list[Item] = []
    offset = 0
    while True:
        page = store.search(prefix, limit=PAGE, offset=offset, refresh_ttl=False)
        found.extend(page)
        if len(page) < PAGE:
            break
        offset += PAGE
    from langmem.cli._timed import TimedItem

    unique = {(tuple(item.namespace), item.key): item for item in found}
    ttls = stored_ttls(store, prefix) if unique else {}
    return [TimedItem(unique[k], ttls[k]) if k in ttls else unique[k] for k in sorted(unique)]


def stored_ttls(
    store: BaseStore, prefix: tuple[str, ...], key: str | None = None
) -> dict[tuple[tuple[str, ...], str], Ttl]:
    """``(namespace, key) -> (ttl_minutes, expires_at)`` of the items with a TTL under
    ``prefix`` (only the item ``key`` of namespace ``prefix`` when given), read from the
    embedded or the PostgreSQL store's table (other stores: none)."""
    from langmem.stores._sqlite import SqliteStore

    text = ".".join(prefix)
    rows: list[tuple[str, str, float, Any]] = []
    if isinstance(store, SqliteStore):
        with store._read() as conn:
            rows = conn.execute(
                "SELECT prefix, key, ttl_minutes, expires_at FROM langmem_items"
                " WHERE ttl_minutes IS NOT NULL AND expires_at IS NOT NULL"
                " AND (? = '' OR prefix = ? OR (prefix >= ? AND prefix < ?))"
                " AND (? IS NULL OR (prefix = ? AND key = ?))",
                (text, text, text + ".", text + "/", key, text, key),
            ).fetchall()
        rows = [(p, k, t, datetime.fromtimestamp(e, tz=timezone.utc)) for p, k, t, e in rows]
    elif "langmem.stores._postgres" in sys.modules:
        from langmem.stores._postgres import PostgresStore

        if isinstance(store, PostgresStore):
            with store._transaction() as cur:
                cur.execute(
                    "SELECT prefix, key, ttl_minutes, expires_at FROM store"
                    " WHERE ttl_minutes IS NOT NULL AND expires_at IS NOT NULL"
                    " AND (%s = '' OR prefix = %s OR (prefix >= %s AND prefix < %s))"
                    " AND (%s::text IS NULL OR (prefix = %s AND key = %s))",
                    (text, text, text + ".", text + "/", key, text, key),
                )
                rows = [
                    (r["prefix"], r["key"], r["ttl_minutes"], r["expires_at"])
                    for r in cur.fetchall()
                ]
    return {(tuple(p.split(".")), k): (float(t), e) for p, k, t, e in rows}


def parse_lines(lines: Iterable[str], source: str) -> list[Item]:
    """Items from JSON Lines; the first bad line raises, naming ``source`` and its number."""
    from langgraph.store.base import Item

    from langmem.cli._timed import TimedItem

    items: list[Item] = []
    seen: dict[tuple[tuple[str, ...], str], int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            namespace, key, value, created, updated = _fields(record)
            ttl = _ttl(record)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(
                f"{source}, line {number}: {exc}. Each line must be a JSON object with "
                f"{', '.join(FIELDS)} (as `langmem memories export` writes); nothing was "
                "imported."
            ) from None
        if (namespace, key) in seen:
            raise InvalidInputError(
                f"{source}, line {number}: key {key!r} in namespace {'/'.join(namespace)!r} "
                f"already appears on line {seen[namespace, key]}; nothing was imported."
            )
        seen[namespace, key] = number
        item = Item(
            namespace=namespace, key=key, value=value, created_at=created, updated_at=updated
        )
        items.append(item if ttl is None else TimedItem(item, ttl))
    return items


def _fields(record: Any) -> tuple[tuple[str, ...], str, dict[str, Any], datetime, datetime]:
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    missing = [name for name in FIELDS if name not in record]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    namespace = record["namespace"]
    if (
        not isinstance(namespace, list)
        or not namespace
        or not all(isinstance(label, str) and label and "." not in label for label in namespace)
    ):
        raise ValueError(f"namespace {namespace!r} must be a non-empty list of labels without '.'")
    key, value = record["key"], record["value"]
    if not isinstance(key, str):  # "" is a valid key (stores accept it; export writes it)
        raise ValueError(f"key {key!r} must be a string")
    if not isinstance(value, dict):
        raise ValueError(f"value must be a JSON object, got {type(value).__name__}")
    times = []
    for name in ("created_at", "updated_at"):
        try:
            times.append(datetime.fromisoformat(record[name]))
        except (TypeError, ValueError):
            raise ValueError(f"{name} {record[name]!r} is not an ISO 8601 time") from None
    return tuple(namespace), key, value, times[0], times[1]


def _ttl(record: dict[str, Any]) -> Ttl | None:
    """The line's TTL: both of ``ttl_minutes`` and ``expires_at``, or neither."""
    given = [name for name in TTL_FIELDS if name in record]
    if not given:
        return None
    if len(given) == 1:
        missing = TTL_FIELDS[1 - TTL_FIELDS.index(given[0])]
        raise ValueError(f"{given[0]} without {missing} (an item's TTL needs both)")
    minutes = record["ttl_minutes"]
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or not minutes > 0:
        raise ValueError(f"ttl_minutes {minutes!r} must be a positive number of minutes")
    try:
        expires = datetime.fromisoformat(record["expires_at"])
    except (TypeError, ValueError):
        raise ValueError(f"expires_at {record['expires_at']!r} is not an ISO 8601 time") from None
    return float(minutes), expires


def keeps_ttls(store: BaseStore) -> bool:
    """Whether ``store.restore`` keeps each item's TTL and expiry (langmem's embedded and
    PostgreSQL stores)."""
    from langmem.stores._sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        return True
    if "langmem.stores._postgres" not in sys.modules:  # no PostgreSQL store was opened
        return False
    from langmem.stores._postgres import PostgresStore

    return isinstance(store, PostgresStore)


def dropped_ttls(store: BaseStore, items: list[Item]) -> int:
    """How many of ``items`` have a TTL that ``store`` cannot restore (only langmem's
    embedded and PostgreSQL stores keep TTLs and expiry on import)."""
    if keeps_ttls(store):
        return 0
    return sum(1 for item in items if getattr(item, "ttl", None) is not None)


def write_items(
    store: BaseStore, items: list[Item], *, advance: Callable[[int], None] | None = None
) -> int:
    """Write ``items`` into ``store`` all at once, keeping timestamps (and TTLs) where the store
    can."""
    from langgraph.store.base import PutOp

    from langmem.cli._timed import TimedItem

    restore = getattr(store, "restore", None)
    if keeps_ttls(store):
        ttls = {(tuple(i.namespace), i.key): i.ttl for i in items if isinstance(i, TimedItem)}
        written = int(store.restore(items, ttls=ttls))  # type: ignore[attr-defined]
    elif callable(restore):
        written = int(restore(items))
    else:
        store.batch([PutOp(tuple(i.namespace), i.key, dict(i.value)) for i in items])
        written = len(items)
    if advance is not None:
        advance(written)
    return written
