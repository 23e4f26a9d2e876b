"""Memories as JSON Lines: one item per line, for export, import and copies between stores.

A line is ``{"namespace": [...], "key": ..., "value": {...}, "created_at": ..., "updated_at":
...}`` (ISO 8601 times). Export sorts items by namespace and key, so exporting the same
memories twice gives the same bytes. Import reads and checks the whole file before writing
anything, then writes every item in one transaction with its own timestamps (a store with a
``restore(items)`` method, such as the embedded ``SqliteStore``); other stores get one batch
of puts, which stamps the current time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from langmem.errors import InvalidInputError

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore, Item

PAGE = 1000
FIELDS = ("namespace", "key", "value", "created_at", "updated_at")


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
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def iter_items(store: BaseStore, prefix: tuple[str, ...]) -> list[Item]:
    """Every item under ``prefix`` (all of them for ``()``), sorted by namespace and key."""
    found: list[Item] = []
    offset = 0
    while True:
        page = store.search(prefix, limit=PAGE, offset=offset)
        found.extend(page)
        if len(page) < PAGE:
            break
        offset += PAGE
    unique = {(tuple(item.namespace), item.key): item for item in found}
    return [unique[k] for k in sorted(unique)]


def parse_lines(lines: Iterable[str], source: str) -> list[Item]:
    """Items from JSON Lines; the first bad line raises, naming ``source`` and its number."""
    from langgraph.store.base import Item

    items: list[Item] = []
    seen: dict[tuple[tuple[str, ...], str], int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            namespace, key, value, created, updated = _fields(record)
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
        items.append(
            Item(namespace=namespace, key=key, value=value, created_at=created, updated_at=updated)
        )
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
    if not isinstance(key, str) or not key:
        raise ValueError(f"key {key!r} must be a non-empty string")
    if not isinstance(value, dict):
        raise ValueError(f"value must be a JSON object, got {type(value).__name__}")
    times = []
    for name in ("created_at", "updated_at"):
        try:
            times.append(datetime.fromisoformat(record[name]))
        except (TypeError, ValueError):
            raise ValueError(f"{name} {record[name]!r} is not an ISO 8601 time") from None
    return tuple(namespace), key, value, times[0], times[1]


def write_items(
    store: BaseStore, items: list[Item], *, advance: Callable[[int], None] | None = None
) -> int:
    """Write ``items`` into ``store`` all at once, keeping timestamps where the store can."""
    from langgraph.store.base import PutOp

    restore = getattr(store, "restore", None)
    if callable(restore):
        written = int(restore(items))
    else:
        store.batch([PutOp(tuple(i.namespace), i.key, dict(i.value)) for i in items])
        written = len(items)
    if advance is not None:
        advance(written)
    return written
