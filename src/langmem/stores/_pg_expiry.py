"""Expired items left out of ``get`` on every supported LangGraph.

:class:`~langmem.stores.PostgresStore` runs LangGraph's own SQL for ``get``. Releases of
``langgraph-checkpoint-postgres`` from mid-2026 on leave expired, unswept rows out when the
store's ``_omit_expired`` says so (ours says yes unless ``TTLConfig(omit_expired=False)``, as
on the embedded store); older releases, which our dependency floor still allows, return them
always. On those, this module leaves them out itself, so the answer does not depend on which
release is installed: a ``get`` of an expired item finds nothing (and does not refresh its
TTL). ``list_namespaces`` is langmem's own on every release (``_pg_namespaces``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langgraph.store.base import GetOp
from langgraph.store.postgres import PostgresStore as _LangGraphPostgresStore
from psycopg.rows import tuple_row

NATIVE = hasattr(_LangGraphPostgresStore, "_omit_expired")
"""Whether the installed LangGraph consults ``_omit_expired`` in its own reads."""


def live_gets(cur: Any, gets: Sequence[tuple[int, GetOp]]) -> list[tuple[int, GetOp]]:
    """``gets`` without those whose item has expired (their result stays ``None``)."""
    prefixes = [".".join(op.namespace) for _, op in gets]
    keys = [op.key for _, op in gets]
    with cur.connection.cursor(row_factory=tuple_row) as own:
        own.execute(
            "SELECT s.prefix, s.key FROM store s"
            " JOIN unnest(%s::text[], %s::text[]) AS asked(prefix, key)"
            " ON s.prefix = asked.prefix AND s.key = asked.key"
            " WHERE s.expires_at IS NOT NULL AND s.expires_at <= NOW()",
            (prefixes, keys),
        )
        expired = {(prefix, key) for prefix, key in own.fetchall()}
    if not expired:
        return list(gets)
    return [(idx, op) for idx, op in gets if (".".join(op.namespace), op.key) not in expired]
