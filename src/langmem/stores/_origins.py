"""Each item's thread and time in memory, for the provenance of ranked searches.

The default ranking reads every candidate item's ``thread_id`` and ``created_at`` (the thread
boost and recency). Reading them from the items' values with SQL and parsing the timestamps
took a sixth of a 10k-item search, and any write emptied the store's cache of them. So a
store keeps them for every item, in two arrays indexed by item id (the time in Unix seconds,
NaN for none; the thread as a small integer code, -1 for none), loaded once by the first
ranked search that needs them, then kept current through ``langmem_item_changes``: triggers
(migration 8) log every item inserted or whose value or creation time changes, by any writer,
and the store reads again only the items logged since it last looked (all of them when it fell
behind the pruned log). The values are those :func:`._search._provenance` reads (the same SQL
expressions, parsed by the same function), so a search ranks the same with or without them.

Item ids are SQLite rowids, dense in practice; a file whose largest id is far above its item
count (more than :data:`_SPARSE` times, plus a million) is not kept in memory (searches read
the provenance with SQL as before), nor is a file without the log.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import numpy as np

from langmem.stores._search import _FIELD, _seconds
from langmem.stores._writes import chunks

if TYPE_CHECKING:
    from numpy.typing import NDArray

_BOUNDS = (
    "SELECT (SELECT MIN(seq) FROM langmem_item_changes),"
    " (SELECT MAX(seq) FROM langmem_item_changes)"
)  # two B-tree seeks (one aggregate would scan the log)
_ALL = (
    f"SELECT id, {_FIELD.format('thread_id')}, {_FIELD.format('created_at')}, created_at"
    " FROM langmem_items"
)
_SPARSE = 8
_SPARSE_FLOOR = 1_000_000


class ItemOrigins:
    """Item id -> thread and time, as arrays (see the module docstring).

    Example:
        >>> import sqlite3
        >>> from langmem.stores._connection import connect
        >>> conn = connect(":memory:", 5.0)
        >>> _ = conn.execute(
        ...     "INSERT INTO langmem_items (prefix, key, value, created_at, updated_at)"
        ...     " VALUES ('a', 'k', '{\\"thread_id\\": \\"t1\\"}', '2024-01-01T00:00:00+00:00',"
        ...     " '2024-01-01T00:00:00+00:00')")
        >>> origins = ItemOrigins()
        >>> origins.ready(conn)
        True
        >>> times, threads = origins.of(np.array([1]))
        >>> times.tolist(), [origins.names[t] for t in threads.tolist()]
        ([1704067200.0], ['t1'])
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget everything (loaded again on next use)."""
        self.loaded = False
        self.usable = False
        self.stale = True  # the file may have changed since the last look at the log
        self.seq = 0
        self.times: NDArray[np.float64] = np.zeros(0, dtype=np.float64)
        self.threads: NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self.names: list[str] = []
        self._codes: dict[str, int] = {}
        self._items = 0

    def install(
        self, times: NDArray[np.float64], threads: NDArray[np.int32], names: list[str], seq: int
    ) -> None:
        """Take arrays saved at item change ``seq`` (checked against the log on next use)."""
        self.clear()
        self.times, self.threads, self.names, self.seq = times, threads, names, seq
        self._codes = {name: code for code, name in enumerate(names)}
        self._items = len(times)
        self.loaded = self.usable = True

    def ready(self, conn: sqlite3.Connection) -> bool:
        """Inside a read transaction: bring the arrays to this snapshot of the file (loading
        them the first time); returns whether they can be used."""
        if self.loaded and not self.stale:
            return self.usable
        try:
            low, high = conn.execute(_BOUNDS).fetchone()
        except sqlite3.OperationalError:  # no log in this file
            self.clear()
            self.stale = False
            return False
        high = int(high or 0)
        if not self.loaded or (low is not None and int(low) > self.seq + 1):
            self.clear()
            self._put(conn.execute(_ALL).fetchall(), everything=True)
        elif high != self.seq:
            changed = [
                item
                for (item,) in conn.execute(
                    "SELECT DISTINCT item_id FROM langmem_item_changes WHERE seq > ?", (self.seq,)
                )
            ]
            for chunk in chunks(changed):
                sql = f"{_ALL} WHERE id IN ({','.join('?' * len(chunk))})"
                self._put(conn.execute(sql, chunk).fetchall(), everything=False)
        self.seq = high
        self.loaded = True
        self.stale = False
        return self.usable

    def _put(self, rows: list[tuple[int, object, object, object]], *, everything: bool) -> None:
        if everything:
            self._items = len(rows)
        else:
            self._items += len(rows)  # an upper bound: updated items count again
        if not rows:
            self.usable = self.usable or everything
            return
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        top = int(ids.max())
        if top >= _SPARSE * max(self._items, 1) + _SPARSE_FLOOR or int(ids.min()) < 0:
            self.usable = False
            return
        if top >= len(self.times):
            size = max(top + 1, 2 * len(self.times), 1024)
            times = np.full(size, np.nan, dtype=np.float64)
            times[: len(self.times)] = self.times
            threads = np.full(size, -1, dtype=np.int32)
            threads[: len(self.threads)] = self.threads
            self.times, self.threads = times, threads
        codes = self._codes
        names = self.names
        found_threads: list[int] = []
        found_times: list[float] = []
        for _, thread, *stamps in rows:
            seconds = _seconds(*stamps)
            found_times.append(np.nan if seconds is None else seconds)
            if thread is None:
                found_threads.append(-1)
                continue
            name = str(thread)
            code = codes.get(name)
            if code is None:
                code = codes[name] = len(names)
                names.append(name)
            found_threads.append(code)
        self.times[ids] = found_times
        self.threads[ids] = found_threads
        self.usable = self.usable or everything

    def of(self, items: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.int32]]:
        """The time (NaN: none) and thread code (-1: none) of each item id."""
        inside = items < len(self.times)
        if inside.all():
            return self.times[items], self.threads[items]
        times = np.full(len(items), np.nan, dtype=np.float64)
        threads = np.full(len(items), -1, dtype=np.int32)
        times[inside] = self.times[items[inside]]
        threads[inside] = self.threads[items[inside]]
        return times, threads
