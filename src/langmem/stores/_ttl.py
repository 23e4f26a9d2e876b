"""TTL of the SQLite store: refreshing expiry on read, sweeping expired items, the sweeper thread.

The TTLConfig rules (:func:`checked_config`, :func:`refreshes_on_read`, :func:`omits_expired`)
are shared with :class:`~langmem.stores.PostgresStore`, so both stores accept and refuse the
same configurations with the same errors.

An item with a TTL stores its ``expires_at`` (seconds since the epoch) and its ``ttl_minutes``;
reads skip expired items whether or not they were swept, so sweeping only reclaims space.
Deleting an item cascades to its vectors through foreign keys.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.store.base import TTLConfig

from langmem.errors import ConfigurationError
from langmem.stores._writes import chunks, is_minutes

logger = logging.getLogger("langmem.stores")


_TTL_KEYS = tuple(dict.fromkeys([*TTLConfig.__annotations__, "omit_expired"]))

MIN_SWEEP_SECONDS = 0.01
"""The shortest sweep interval: each sweep is a write transaction, and an interval of
``1e-9`` minutes made the sweeper thread loop without pause, holding the write lock."""
MAX_SWEEP_MINUTES = 1e8
"""About 190 years: a thread cannot wait longer (``threading.TIMEOUT_MAX``), so a longer
interval (``inf``) killed the sweeper thread with an ``OverflowError``."""
_SWEEP_RANGE = (
    f"from {MIN_SWEEP_SECONDS} seconds ({MIN_SWEEP_SECONDS / 60:.6f} minutes) to "
    f"{MAX_SWEEP_MINUTES:.0e} minutes"
)


def checked_config(ttl: Any) -> TTLConfig | None:
    """``ttl`` if it is a usable TTLConfig; else a ConfigurationError naming the key (a bad
    ``default_ttl`` used to fail on every put, naming ``ttl`` instead)."""
    if ttl is None:
        return None
    example = "e.g. ttl={'default_ttl': 60, 'refresh_on_read': True}"
    if not isinstance(ttl, Mapping):
        raise ConfigurationError(f"ttl={ttl!r} is not a TTLConfig dict: pass {example}.")
    unknown = sorted(set(ttl) - set(_TTL_KEYS))
    if unknown:
        raise ConfigurationError(
            f"ttl has unknown key(s) {', '.join(map(repr, unknown))}: a TTLConfig has "
            f"{', '.join(_TTL_KEYS)}; {example}."
        )
    for name in ("default_ttl", "sweep_interval_minutes"):
        value = ttl.get(name)
        if value is None:
            continue
        if not is_minutes(value):
            raise ConfigurationError(
                f"ttl[{name!r}]={value!r} is not a number of minutes of 0 or more: pass one, "
                f"or leave it out ({example})."
            )
    interval = ttl.get("sweep_interval_minutes")
    if interval and not _usable_interval(float(interval) * 60.0):
        raise ConfigurationError(
            f"ttl['sweep_interval_minutes']={interval!r} is not usable: a sweep interval is 0 "
            f"(no sweeper) or {_SWEEP_RANGE}. Pass one, e.g. "
            "ttl={'default_ttl': 60, 'sweep_interval_minutes': 5}, or leave it out."
        )
    for name in ("refresh_on_read", "omit_expired"):
        flag = ttl.get(name)
        if flag is not None and not isinstance(flag, bool):
            raise ConfigurationError(
                f"ttl[{name!r}]={flag!r} is not True or False (any non-empty text, even "
                "'false', would turn it on): pass True or False, or leave it out."
            )
    return ttl  # type: ignore[return-value]


def _usable_interval(seconds: float) -> bool:
    return MIN_SWEEP_SECONDS <= seconds <= MAX_SWEEP_MINUTES * 60.0  # False for NaN


def check_sweep_interval(minutes: Any) -> None:
    """Refuse a ``start_ttl_sweeper(sweep_interval_minutes=...)`` outside the sweep range
    (negative, NaN, infinite, too short or too long), naming the value and the fix."""
    if not is_minutes(minutes) or not _usable_interval(float(minutes) * 60.0):
        raise ConfigurationError(
            f"sweep_interval_minutes={minutes!r} is not usable: a sweep interval is "
            f"{_SWEEP_RANGE}. Pass one, e.g. start_ttl_sweeper(sweep_interval_minutes=5), or "
            "leave it out for the TTL config's (else 5 minutes)."
        )


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
        """Call ``sweep`` every ``interval`` seconds; ``path`` names the store in failure logs.
        An interval outside :data:`MIN_SWEEP_SECONDS` .. :data:`MAX_SWEEP_MINUTES` (negative,
        NaN, infinite) raises :class:`ConfigurationError` and starts nothing."""
        check_sweep_interval(interval / 60.0)
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
