"""An item with its TTL, as export writes it and import reads it (kept apart from
``_transfer`` so the command starts without importing LangGraph)."""

from __future__ import annotations

from langgraph.store.base import Item

from langmem.cli._transfer import Ttl


class TimedItem(Item):
    """A stored item with its TTL: ``(ttl_minutes, expires_at)``."""

    __slots__ = ("ttl",)

    def __init__(self, item: Item, ttl: Ttl) -> None:
        super().__init__(
            value=item.value,
            key=item.key,
            namespace=tuple(item.namespace),
            created_at=item.created_at,
            updated_at=item.updated_at,
        )
        self.ttl = ttl
