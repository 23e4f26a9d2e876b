"""Authentication for the deployed graphs, and every store access scoped to the user.

``auth`` (``langgraph.json``: ``"auth": {"path": "./src/langmem/graphs/auth.py:auth"}``):

- **authenticate**: ``Authorization: Bearer <token>``, looked up in ``$LANGMEM_API_TOKENS``
  (``token=user,token2=user2``). Replace :func:`authenticate` with your identity provider's
  check in production; the scoping below stays the same.
- **store**: every namespace read or written through the API must have the user's identity as
  its second label (``("memories", user)``); a one-label prefix (``("memories",)``) is narrowed
  to the user's own; anything else is refused with 403.
- **threads, runs, assistants**: stamped with the owner on creation and filtered to the owner.

The graphs themselves write to ``(kind, authenticated user)`` (see ``langgraph_auth_user_id``).
"""

from __future__ import annotations

import os
from typing import Any

from langgraph_sdk import Auth

from langmem.graphs._user import USER_LABEL

auth = Auth()


def _tokens() -> dict[str, str]:
    pairs = (pair.partition("=") for pair in os.environ.get("LANGMEM_API_TOKENS", "").split(","))
    return {token.strip(): user.strip() for token, _, user in pairs if token.strip() and user}


@auth.authenticate
async def authenticate(authorization: str | None) -> str:
    """The user owning the bearer token (401 when missing or unknown)."""
    scheme, _, token = (authorization or "").partition(" ")
    user = _tokens().get(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        raise Auth.exceptions.HTTPException(
            status_code=401, detail="send Authorization: Bearer <token> with a known token"
        )
    return user


def scope_namespace(identity: str, namespace: tuple[str, ...], action: str) -> tuple[str, ...]:
    """The namespace ``identity`` may use for ``namespace`` (raises 403 when none)."""
    namespace = tuple(namespace)
    if len(namespace) > USER_LABEL:
        if namespace[USER_LABEL] != identity:
            raise Auth.exceptions.HTTPException(
                status_code=403,
                detail=f"{action} on namespace {list(namespace)} is refused: it belongs to "
                f"another user; use ({namespace[0]!r}, {identity!r}, ...).",
            )
        return namespace
    if len(namespace) == USER_LABEL and action in ("search", "list_namespaces"):
        return (*namespace, identity)
    raise Auth.exceptions.HTTPException(
        status_code=403,
        detail=f"{action} on namespace {list(namespace)} is refused: name a namespace such as "
        f"('memories', {identity!r}).",
    )


@auth.on.store()
async def scope_store(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> None:
    """Keep every store operation inside the authenticated user's namespaces."""
    value["namespace"] = scope_namespace(
        ctx.user.identity, tuple(value.get("namespace") or ()), ctx.action
    )


@auth.on
async def owner_only(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> dict[str, str]:
    """Stamp what a user creates with them as owner, and show each user only their own."""
    metadata = value.setdefault("metadata", {}) if isinstance(value, dict) else None
    if metadata is not None:
        metadata["owner"] = ctx.user.identity
    return {"owner": ctx.user.identity}
