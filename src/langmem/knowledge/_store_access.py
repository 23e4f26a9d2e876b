"""Direct access to a store manager's memories: get, search, put, delete (and async twins).

Values written by a store manager (``{"kind", "content", ...}``) come back as schema instances,
like upstream; any other value comes back as stored.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

from langchain_core.runnables import RunnableConfig, ensure_config
from langgraph.store.base import NOT_PROVIDED, BaseStore, NotProvided
from langgraph.store.base import Item as BaseItem
from pydantic import BaseModel

from langmem._namespace import NamespaceTemplate
from langmem._store_context import resolve_store
from langmem.errors import ConfigurationError
from langmem.knowledge._kinds import ModelKind
from langmem.knowledge._trust import Trust
from langmem.knowledge._types import Item, SearchItem
from langmem.knowledge.history import History

__all__ = ["DEFAULT_KEY", "StoreAccess"]

DEFAULT_KEY = "default"


class StoreAccess:
    """The store side of :class:`MemoryStoreManager`: namespace, store and item access."""

    kinds: dict[str, ModelKind]
    default_factory: Callable[[RunnableConfig], Any] | None
    namespace: NamespaceTemplate
    _store: BaseStore | None
    trust: Trust

    @property
    def store(self) -> BaseStore:
        """The store given at creation, else the LangGraph run's store."""
        return resolve_store(self._store, what="memory store manager")

    def get_namespace(self, config: RunnableConfig | None = None) -> tuple[str, ...]:
        """The namespace for ``config`` (or the LangGraph run's config)."""
        return self.namespace(config)

    def _coerce_default(self, default: Any) -> Any:
        if isinstance(default, BaseModel):
            return default
        if isinstance(default, str):
            default = {"content": default}
        if isinstance(default, dict):
            for kind in self.kinds.values():
                try:
                    return kind.schema.model_validate(default)
                except Exception:
                    continue
        raise ConfigurationError(
            f"default={default!r} fits none of the schemas {list(self.kinds)}: pass a schema "
            "instance, a dict of its fields, or a string for the default Memory schema."
        )

    def _coerce_value(self, value: dict[str, Any]) -> BaseModel | dict[str, Any]:
        kind = self.kinds.get(value.get("kind", "")) if isinstance(value, dict) else None
        if kind is None or "content" not in value:
            return value
        try:
            return kind.schema.model_validate(value["content"])
        except Exception:
            return value

    def _coerce_item(self, item: BaseItem | None) -> Item | None:
        if item is None:
            return None
        return Item(
            namespace=tuple(item.namespace),
            key=item.key,
            value=self._coerce_value(item.value),  # type: ignore[arg-type]
            created_at=item.created_at,
            updated_at=item.updated_at,
        )

    def _coerce_search_item(self, item: Any) -> SearchItem:
        return SearchItem(
            tuple(item.namespace),
            item.key,
            self._coerce_value(item.value),  # type: ignore[arg-type]
            item.created_at,
            item.updated_at,
            item.score,
        )

    def _default_item(self, key: str, config: RunnableConfig | None) -> Item | None:
        if key != DEFAULT_KEY or self.default_factory is None:
            return None
        value = self._coerce_default(self.default_factory(ensure_config(config)))
        now = _dt.datetime.now(_dt.timezone.utc)
        return Item(
            namespace=self.get_namespace(config),
            key=DEFAULT_KEY,
            value=value,
            created_at=now,
            updated_at=now,
        )

    def get(
        self,
        key: str,
        *,
        refresh_ttl: bool | None = None,
        config: RunnableConfig | None = None,
    ) -> Item | None:
        """The memory stored under ``key`` (its value as a schema instance when it has one).

        ``"default"`` gives the default memory when nothing is stored yet and a default is set.
        """
        item = self.store.get(self.get_namespace(config), key, refresh_ttl=refresh_ttl)
        return self._coerce_item(item) or self._default_item(key, config)

    async def aget(
        self,
        key: str,
        *,
        refresh_ttl: bool | None = None,
        config: RunnableConfig | None = None,
    ) -> Item | None:
        """Async :meth:`get`."""
        item = await self.store.aget(self.get_namespace(config), key, refresh_ttl=refresh_ttl)
        return self._coerce_item(item) or self._default_item(key, config)

    def search(
        self,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
        config: RunnableConfig | None = None,
    ) -> list[SearchItem]:
        """Search this manager's namespace."""
        items = self.store.search(
            self.get_namespace(config),
            query=query,
            filter=filter,
            limit=limit,
            offset=offset,
            refresh_ttl=refresh_ttl,
        )
        return [self._coerce_search_item(item) for item in items]

    async def asearch(
        self,
        *,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        refresh_ttl: bool | None = None,
        config: RunnableConfig | None = None,
    ) -> list[SearchItem]:
        """Async :meth:`search`."""
        items = await self.store.asearch(
            self.get_namespace(config),
            query=query,
            filter=filter,
            limit=limit,
            offset=offset,
            refresh_ttl=refresh_ttl,
        )
        return [self._coerce_search_item(item) for item in items]

    def put(
        self,
        key: str,
        value: dict[str, Any],
        index: Any = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
        config: RunnableConfig | None = None,
    ) -> None:
        """Store ``value`` under ``key`` in this manager's namespace (a recorded change)."""
        _history(self).put(
            self.get_namespace(config),
            key,
            value,
            index=index,
            ttl=ttl,
            component="store_manager.put",
        )

    async def aput(
        self,
        key: str,
        value: dict[str, Any],
        index: Any = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
        config: RunnableConfig | None = None,
    ) -> None:
        """Async :meth:`put`."""
        await _history(self).aput(
            self.get_namespace(config),
            key,
            value,
            index=index,
            ttl=ttl,
            component="store_manager.put",
        )

    def delete(self, key: str, config: RunnableConfig | None = None) -> None:
        """Delete the memory stored under ``key`` (a recorded change; superseded when the
        manager supersedes)."""
        _history(self).delete(
            self.get_namespace(config),
            key,
            supersede=self.trust.supersede,
            component="store_manager.delete",
        )

    async def adelete(self, key: str, config: RunnableConfig | None = None) -> None:
        """Async :meth:`delete`."""
        await _history(self).adelete(
            self.get_namespace(config),
            key,
            supersede=self.trust.supersede,
            component="store_manager.delete",
        )


def _history(access: StoreAccess) -> History:
    return History(access.store)
