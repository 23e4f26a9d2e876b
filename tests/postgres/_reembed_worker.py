"""A re-embedding process for test_reembed.py (run as a script, to be killed mid-run).

``URL``: re-embeds the store (opened with 16-dim hashing embeddings) for ``Counting(24)``'s
index in batches of 4, slowly (0.2 s per batch), printing each batch's progress.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from langmem.embeddings import HashingEmbeddings
from langmem.stores import PostgresStore
from tests.postgres.test_reembed import Counting, _index


class Slow(Counting):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        time.sleep(0.2)
        return super().embed_documents(texts)


if __name__ == "__main__":
    store = PostgresStore.from_url(sys.argv[1], index=_index(HashingEmbeddings(16), 16))
    store.reembed(
        _index(Slow(24), 24),
        batch_size=4,
        progress=lambda done, total: print(f"{done}/{total}", flush=True),
    )
