"""Subprocess side of the two-process history race test:
``python _history_race_worker.py PATH NAME WRITES``.

Writes one memory ``WRITES`` times through :class:`~langmem.History`, pausing a little after
each read of it, so that the other process writes in between.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from langgraph.store.base import GetOp

from langmem import History
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

NS = ("memories", "race")


class SlowReads(SqliteStore):
    def batch(self, ops: Any) -> Any:
        ops = list(ops)
        result = super().batch(ops)
        if all(isinstance(op, GetOp) for op in ops):
            time.sleep(0.03)
        return result


def main(path: str, name: str, writes: str) -> None:
    store = SlowReads(path, index={"dims": 64, "embed": HashingEmbeddings(64)})
    history = History(store)
    for n in range(int(writes)):
        history.put(NS, "k", {"content": f"{name} {n}"})
    store.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
