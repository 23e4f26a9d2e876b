"""TTL of the SQLite store: refreshing expiry on read, sweeping expired items, the sweeper thread.

An item with a TTL stores its ``expires_at`` (seconds since the epoch) and its ``ttl_minutes``;
reads skip expired items whether or not they were swept, so sweeping only reclaims space.
Deleting an item cascades to its vectors through foreign keys.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

from langgraph.store.base import TTLConfig

from langmem.stores._writes import chunks

logger = logging.getLogger("langmem.stores")


def refreshes_on_read(ttl: TTLConfig | None) -> bool:
    """Whether reads may refresh TTLs (each op still says whether it does)."""
    return ttl is None or bool(ttl.get("refresh_on_read", True))


def omits_expired(ttl: TTLConfig | None) -> bool:
    """Whether reads skip expired items not yet swept: yes unless ``omit_expired=False`` is set
    explicitly (LangGraph's stores default to returning them; see docs/compat.md)."""
    return ttl is None or bool(ttl.get("omit_expired", True))


def refresh(conn: sqlite3.Connection, item_ids: list[int], now: float) -> None:
    """Restart the TTL of ``item_ids`` from ``now`` (items without a TTL are left alone)."""
    for chunk in chunks(sorted(set(item_ids))):
        conn.execute(
            "UPDATE langmem_items SET expires_at = ? + ttl_minutes * 60.0"
            f" WHERE id IN ({','.join('?' * len(chunk))}) AND ttl_minutes IS NOT NULL",
            [now, *chunk],
        )


def sweep(conn: sqlite3.Connection, now: float) -> int:
    """Delete the items expired at ``now``; returns how many were deleted."""
    cursor = conn.execute(
        "DELETE FROM langmem_items WHERE expires_at IS NOT NULL AND expires_at <= ?", (now,)
    )
    return cursor.rowcount


class Sweeper:
    """A daemon thread that sweeps at an interval until stopped (one per store)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, sweep: Callable[[], object], interval: float, path: str) -> None:
        """Call ``sweep`` every ``interval`` seconds; ``path`` names the store in failure logs."""
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    sweep()
                except Exception:  # the next round retries; a sweep is best-effort
                    logger.exception("langmem: TTL sweep of %s failed", path)

        self._thread = threading.Thread(target=loop, name="langmem-ttl-sweeper", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the thread; ``True`` when it has stopped."""
        self._stop.set()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        stopped = not thread.is_alive()
        if stopped:
            self._thread = None
        return stopped
