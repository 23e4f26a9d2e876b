"""``search``/``asearch`` of the local executor: the reflector's memories in its store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langmem._namespace import NamespaceTemplate
from langmem.errors import NamespaceError, StoreNotFoundError

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore, SearchItem

    from langmem._background._types import MemoryItem


def as_namespace(namespace: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (namespace,) if isinstance(namespace, str) else tuple(namespace)


def filled_or_prefix(template: NamespaceTemplate) -> tuple[str, ...]:
    """The template filled from the LangGraph run's config, else its labels before the first
    placeholder (a search prefix)."""
    try:
        return template()
    except NamespaceError:
        prefix = []
        for label in template.template:
            if "{" in label:
                break
            prefix.append(label)
        return tuple(prefix)


def memory_item(item: SearchItem | Any) -> MemoryItem:
    return {
        "namespace": list(item.namespace),
        "key": item.key,
        "value": item.value,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "score": getattr(item, "score", None),
    }


class SearchMixin:
    """Search in the namespace given, else the reflector's (filled from the LangGraph run's
    config when there is one, else the labels before its first placeholder)."""

    reflector: Any
    store: BaseStore | None

    def _search_args(
        self, namespace: str | tuple[str, ...] | None
    ) -> tuple[BaseStore, tuple[str, ...]]:
        store = self.store
        if store is None:
            raise StoreNotFoundError(
                "this executor has no store to search: create it with store=... "
                "(or set LANGMEM_STORE to a store URL)."
            )
        if namespace is not None:
            return store, as_namespace(namespace)
        template = getattr(self.reflector, "namespace", None)
        if template is None:
            raise NamespaceError(
                f"the reflector {type(self.reflector).__name__} has no namespace: pass "
                "namespace=('memories', 'user-1') to search."
            )
        return store, filled_or_prefix(NamespaceTemplate(template))

    def search(
        self,
        query: str | None = None,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | tuple[str, ...] | None = None,
    ) -> list[MemoryItem]:
        """Memories of the reflector's namespace (or ``namespace``), best match first."""
        store, prefix = self._search_args(namespace)
        hits = store.search(prefix, query=query, filter=filter, limit=limit, offset=offset)
        return [memory_item(hit) for hit in hits]

    async def asearch(
        self,
        query: str | None = None,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | tuple[str, ...] | None = None,
    ) -> list[MemoryItem]:
        """Async :meth:`search`."""
        store, prefix = self._search_args(namespace)
        hits = await store.asearch(prefix, query=query, filter=filter, limit=limit, offset=offset)
        return [memory_item(hit) for hit in hits]
