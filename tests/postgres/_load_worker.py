"""A client process for test_reliability.py (run as a script).

``mixed URL NAME N``: N rounds of put + search + get, printing errors; ``batches URL NAME``:
batches of 1000 puts, forever (to be killed mid-batch).
"""

from __future__ import annotations

import sys

from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import PostgresStore

INDEX = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}


def mixed(url: str, name: str, rounds: int) -> None:
    store = PostgresStore.from_url(url, index=INDEX, pool_size=2, setup=False)  # type: ignore[arg-type]
    errors = 0
    for i in range(rounds):
        try:
            store.put((name,), f"k{i}", {"text": f"note {i} written by {name}"})
            store.search((name,), query=f"note {i}", limit=5)
            store.search((), query="written by", limit=5)
            if store.get((name,), f"k{i}") is None:
                print(f"lost k{i}", flush=True)
                errors += 1
        except Exception as exc:
            print(f"error: {exc!r}", flush=True)
            errors += 1
    store.close()
    print(f"errors={errors}", flush=True)


def batches(url: str, name: str) -> None:
    store = PostgresStore.from_url(url, index=INDEX, pool_size=2, setup=False)  # type: ignore[arg-type]
    n = 0
    while True:
        store.batch(
            [
                PutOp((name, f"b{n}"), f"i{i}", {"text": f"item {i} of batch {n}"})
                for i in range(1000)
            ]
        )
        print(f"committed b{n}", flush=True)
        n += 1


if __name__ == "__main__":
    kind, url, name = sys.argv[1:4]
    if kind == "mixed":
        mixed(url, name, int(sys.argv[4]))
    else:
        batches(url, name)
