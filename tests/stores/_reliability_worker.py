"""Subprocess side of the reliability tests: ``python _reliability_worker.py CMD PATH ...``."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from langgraph.store.base import GetOp, PutOp, SearchOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore

INDEX: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}


def mixed(path: str, name: str, batches: str) -> None:
    """Many mixed read/write batches; report how many raised.

    Says ``ready`` once its store is open, then starts when the parent answers on stdin, so
    both writers start together however slowly each process comes up."""
    store = SqliteStore(path, index=INDEX, timeout=30)
    print("ready", flush=True)
    sys.stdin.readline()
    failures: list[str] = []
    started = time.time()
    for i in range(int(batches)):
        ops: list[Any] = [
            PutOp((name,), f"k{i}", {"text": f"{name} note {i} about topic {i % 7}"}),
            PutOp(("shared",), f"{name}-{i % 10}", {"text": f"shared slot by {name} round {i}"}),
            SearchOp(("shared",), query=f"round {i}", limit=5),
            GetOp((name,), f"k{max(i - 1, 0)}"),
        ]
        if i % 5 == 4:
            ops.append(PutOp((name,), f"k{i - 2}", None))
        try:
            results = store.batch(ops)
            if i > 0 and i % 5 != 0 and results[3] is None:
                failures.append(f"batch {i}: previous put not visible")
        except Exception as exc:  # counted, reported to the parent
            failures.append(f"batch {i}: {type(exc).__name__}: {exc}")
    print(json.dumps({"failures": failures, "span": [started, time.time()]}), flush=True)


class PausingStore(SqliteStore):
    """Stops in the middle of the write transaction of batch ``pause_at`` and says so."""

    pause_at = -1
    batches_done = 0

    def _apply_writes(self, conn: Any, writes: Any, blobs: Any, now: float, **kw: Any) -> None:
        if self.batches_done == self.pause_at:
            half = len(writes) // 2
            super()._apply_writes(conn, writes[:half], blobs, now, **kw)
            print("MID", flush=True)
            time.sleep(60)
            super()._apply_writes(conn, writes[half:], blobs, now, **kw)
        else:
            super()._apply_writes(conn, writes, blobs, now, **kw)


def crash(path: str, pause_at: str) -> None:
    """Commit batches of 50 puts, announcing each; hang mid-transaction in batch ``pause_at``."""
    store = PausingStore(path, index=INDEX)
    store.pause_at = int(pause_at)
    for batch in range(1000):
        store.batch(
            [
                PutOp(("crash",), f"b{batch}-{j}", {"text": f"batch {batch} item {j}"})
                for j in range(50)
            ]
        )
        store.batches_done += 1
        print(f"COMMITTED {batch}", flush=True)


def searcher(path: str) -> None:
    """Answer ``search QUERY`` lines from stdin with the keys found, one JSON list per line."""
    store = SqliteStore(path, index=INDEX)
    store.search(("live",), query="warm up")  # loads the matrix before the other side writes
    print("READY", flush=True)
    for line in sys.stdin:
        query = line.strip()
        if not query:
            break
        hits = store.search(("live",), query=query, limit=3)
        print(
            json.dumps([h.key for h in hits if h.score is not None and h.score > 0.5]), flush=True
        )


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"mixed": mixed, "crash": crash, "searcher": searcher}[command](*args)
