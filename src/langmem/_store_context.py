"""Find the store to use: the one given, else the LangGraph run's store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from langmem.errors import ConfigurationError, StoreFileError, StoreNotFoundError

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
    """``store`` if given, else the LangGraph context store, else the default embedded store.

    The default store is a SQLite file in the user data folder, shared per process
    (``langmem.stores.default_store``; ``LANGMEM_STORE`` picks another URL). With
    ``LANGMEM_STORE=none`` there is no default, and a missing store is a clear error.

    Args:
        store: the store passed by the user, if any.
        what: the feature asking (used in the error message), e.g. ``"manage_memory tool"``.
    """
    if store is not None:
        return check_store(store, what=what)
    found = context_store()
    if found is not None:
        return found
    from langmem.stores._open import default_store

    fallback = default_store()
    if fallback is not None:
        return fallback
    raise StoreNotFoundError(
        f"The {what} has no store: store=None was given, no LangGraph run with a store is in "
        "progress and LANGMEM_STORE=none turns the default store off. Pass store=... (for "
        "example langgraph.store.memory.InMemoryStore()), run inside a graph compiled with "
        "store=... / an @entrypoint(store=...), or unset LANGMEM_STORE."
    )


def check_store(store: Any, *, what: str) -> BaseStore:
    """``store`` if it is a store object (has ``batch`` and ``abatch``); a URL or anything else
    given instead is a :class:`ConfigurationError` naming it and the fix."""
    if callable(getattr(store, "batch", None)) and callable(getattr(store, "abatch", None)):
        return cast("BaseStore", store)
    fix = (
        f"open it first: store=langmem.stores.open_store({store!r})"
        if isinstance(store, str)
        else "pass a LangGraph store, e.g. langmem.stores.open_store('sqlite:///memories.sqlite')"
        " or langgraph.store.memory.InMemoryStore()"
    )
    raise ConfigurationError(
        f"The {what} was given store={store!r:.200}, which is a {type(store).__name__}, not a "
        f"store object (one with batch and abatch). Fix: {fix}."
    )


def is_read_only(store: object) -> bool:
    """Whether ``store`` is a langmem store file open read-only (asked without I/O: stores that
    cannot tell so cheaply count as writable, their writes fail on their own)."""
    refuses = callable(getattr(store, "_refuse_writes", None))
    return refuses and getattr(store, "read_only", False) is True


def refuse_read_only(store: object, *, what: str, before: str) -> None:
    """Raise the store's read-only error, saying that ``what`` did not ``before``, so a feature
    that writes to ``store`` fails before spending anything (a model call) on work it would
    lose."""
    if not is_read_only(store):
        return
    try:
        store._refuse_writes()  # type: ignore[attr-defined]
    except StoreFileError as exc:
        raise StoreFileError(f"The {what} did not {before}: {exc}") from None
