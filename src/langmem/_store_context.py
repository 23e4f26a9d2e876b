"""Find the store to use: the one given, else the LangGraph run's store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from langmem.errors import StoreNotFoundError

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore


def context_store() -> BaseStore | None:
    """The store of the LangGraph run in progress, or ``None`` outside a run (or without one)."""
    try:
        from langgraph.config import get_store

        return get_store()
    except (RuntimeError, KeyError, AttributeError):
        return None


def resolve_store(store: BaseStore | None, *, what: str) -> BaseStore:
    """``store`` if given, else the LangGraph context store; else a clear error.

    Args:
        store: the store passed by the user, if any.
        what: the feature asking (used in the error message), e.g. ``"manage_memory tool"``.
    """
    if store is not None:
        return store
    found = context_store()
    if found is not None:
        return found
    raise StoreNotFoundError(
        f"The {what} has no store: store=None was given and no LangGraph run with a store is in "
        "progress. Pass store=... (for example langgraph.store.memory.InMemoryStore()), or run "
        "inside a graph compiled with store=... / an @entrypoint(store=...)."
    )
