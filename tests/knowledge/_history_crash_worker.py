"""Subprocess side of the history crash test: ``python _history_crash_worker.py PATH PAUSE_AT``.

Runs create/update/delete calls of the manage tool against the embedded store, printing
``DONE n`` after each; with ``PAUSE_AT >= 0`` it stops inside the write transaction of that
write batch, after its first half of writes (the memory change) and before the rest (its
history record), prints ``MID`` and sleeps until killed.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from langmem import Guards, configure_trust, create_manage_memory_tool
from langmem.stores import SqliteStore

NS = ("memories", "u")


class PausingStore(SqliteStore):
    pause_at = -1
    write_batches = 0

    def _apply_writes(self, conn: Any, writes: Any, blobs: Any, now: float, **kw: Any) -> None:
        if self.write_batches == self.pause_at:
            half = len(writes) // 2
            super()._apply_writes(conn, writes[:half], blobs, now, **kw)
            print("MID", flush=True)
            time.sleep(60)
            super()._apply_writes(conn, writes[half:], blobs, now, **kw)
        else:
            super()._apply_writes(conn, writes, blobs, now, **kw)
        self.write_batches += 1


def main(path: str, pause_at: str) -> None:
    store = PausingStore(path)
    store.pause_at = int(pause_at)
    # guards off: the deletion cap would hold some deletions and blur the expected sequence
    tool = configure_trust(create_manage_memory_tool(NS, store=store), guards=Guards.off())
    config = {"configurable": {"thread_id": "crash"}}
    keys: list[str] = []
    for n in range(100_000):
        if n % 3 == 0 or not keys:
            keys.append(tool.invoke({"content": f"fact {n}"}, config).split()[-1])
        elif n % 3 == 1:
            tool.invoke({"action": "update", "id": keys[-1], "content": f"fact {n}"}, config)
        else:
            tool.invoke({"action": "delete", "id": keys.pop(0)}, config)
        print(f"DONE {n}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
