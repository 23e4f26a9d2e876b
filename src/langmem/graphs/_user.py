"""Who the run is for, and the namespace that belongs to them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langmem.errors import NamespaceError

AUTH_USER_KEY = "langgraph_auth_user_id"
"""Set by the LangGraph server from the authenticated user (it cannot be overridden)."""
USER_KEY = "langgraph_user_id"
USER_LABEL = 1
"""Position of the user's identity in every namespace of a deployed graph: ``(kind, user)``."""


def run_user(config: Mapping[str, Any] | None) -> str:
    """The user a run acts for: the authenticated user, else ``langgraph_user_id``.

    A ``langgraph_user_id`` naming someone other than the authenticated user is refused.
    """
    configurable = (config or {}).get("configurable") or {}
    authenticated = configurable.get(AUTH_USER_KEY) or None  # "" on a server without auth
    claimed = configurable.get(USER_KEY)
    if authenticated is not None and claimed is not None and str(claimed) != str(authenticated):
        raise NamespaceError(
            f"langgraph_user_id={claimed!r} is not the authenticated user {authenticated!r}: "
            "a deployed graph only reads and writes the authenticated user's memories; drop "
            "langgraph_user_id from the config."
        )
    user = authenticated if authenticated is not None else claimed
    if user is None or not str(user) or "." in str(user):
        why = "" if user is None else " (a user id must be non-empty and without '.')"
        raise NamespaceError(
            f"no usable user id in the config ({USER_KEY}={claimed!r}){why}: run the graph with "
            f"config={{'configurable': {{'{USER_KEY}': 'user-1'}}}} or behind the auth hook."
        )
    return str(user)


def user_namespace(kind: str, config: Mapping[str, Any] | None) -> tuple[str, str]:
    """``(kind, user)`` for the run's user, e.g. ``("memories", "user-1")``."""
    return (kind, run_user(config))
