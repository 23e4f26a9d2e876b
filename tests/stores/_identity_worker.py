"""Subprocess side of the index-identity soak: ``python _identity_worker.py PATH SEED STEPS``.

Each process opens the shared file with random embedders and index configs (same dims with
different models, other dims, other fields, or no index at all), re-embeds it now and then, and
runs random puts, updates and searches. Every search runs in one batch with a listing of the
namespace (one snapshot), so its top hit can be checked against an exact reference computed
with the searching handle's own embedder and fields. A refusal (IndexMismatchError) is fine; a
top hit that differs from the reference is a silent vector mix.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings
from langgraph.store.base import PutOp, SearchOp

from langmem.errors import IndexMismatchError
from langmem.stores import SqliteStore
from langmem.stores._writes import index_paths, texts_of

WORDS = [
    "tea",
    "coffee",
    "lisbon",
    "paris",
    "tokyo",
    "peanut",
    "allergy",
    "dog",
    "cat",
    "piano",
    "guitar",
    "chess",
    "river",
    "mountain",
    "bread",
    "cheese",
    "winter",
    "summer",
    "train",
    "bicycle",
]
NS = ("shared",)


class SaltedEmbeddings(Embeddings):
    """A word-hashing model whose buckets depend on a salt: same dims, different model."""

    def __init__(self, salt: int, dims: int) -> None:
        self.salt, self.dims = salt, dims
        self.model_id = f"salted-{salt}-{dims}"

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dims
        for word in text.lower().replace('"', " ").replace(":", " ").split():
            digest = hashlib.blake2b(f"{self.salt}/{word}".encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % self.dims] += 1.0 if digest[4] & 1 else -1
        return vector

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


def random_index(rng: random.Random) -> dict[str, Any] | None:
    if rng.random() < 0.15:
        return None
    dims = rng.choice((16, 32))
    fields = rng.choice((["text"], ["text", "tag"], ["$"]))
    key = rng.choice(("fields", "text_fields"))
    return {"dims": dims, "embed": SaltedEmbeddings(rng.choice((0, 1)), dims), key: fields}


def reference_best(store: SqliteStore, query: str, items: list[Any]) -> float | None:
    """The best cosine of ``query`` over every listed item's texts, with ``store``'s index."""
    assert store.embeddings is not None and store.index_config is not None
    paths = index_paths(store.index_config["fields"])
    q = np.asarray(store.embeddings.embed_query(query), dtype=np.float64)
    best: float | None = None
    for item in items:
        texts = [t for _, t in texts_of(PutOp(NS, item.key, item.value), paths)]
        if not texts:
            continue
        docs = np.asarray(store.embeddings.embed_documents(texts), dtype=np.float64)
        norms = np.linalg.norm(docs, axis=1) * max(np.linalg.norm(q), 1e-12)
        score = float(np.max(docs @ q / np.maximum(norms, 1e-12)))
        best = score if best is None else max(best, score)
    return best


def main(path: str, seed: int, steps: int) -> None:
    rng = random.Random(seed)
    store: SqliteStore | None = None
    last_good: dict[str, Any] | None = None  # reopened often, so most steps get to run
    counts = {"searches_checked": 0, "mixes": 0, "refused": 0, "reembeds": 0, "writes": 0}
    problems: list[str] = []
    for step in range(steps):
        if store is None:
            index = last_good if last_good and rng.random() < 0.7 else random_index(rng)
            try:
                store = SqliteStore(path, index=index, hybrid=False)  # type: ignore[arg-type]
                last_good = index
            except IndexMismatchError:
                counts["refused"] += 1
                if index is not None and rng.random() < 0.3:
                    with SqliteStore(path) as plain:
                        plain.reembed(index)  # type: ignore[arg-type]
                    counts["reembeds"] += 1
                continue
        try:
            if rng.random() < 0.5:
                words = rng.sample(WORDS, 3)
                value = {"text": " ".join(words[:2]), "tag": words[2], "by": seed}
                store.put(NS, f"k{rng.randrange(12)}", value)
                counts["writes"] += 1
            elif store.index_config is not None:
                query = " ".join(rng.sample(WORDS, 2))
                top, listing = store.batch(
                    [SearchOp(NS, query=query, limit=1), SearchOp(NS, limit=1000)]
                )
                best = reference_best(store, query, listing)  # type: ignore[arg-type]
                got = top[0].score if top else None  # type: ignore[index]
                counts["searches_checked"] += 1
                if (best is None) != (got is None) or (
                    best is not None and got is not None and abs(best - got) > 1e-4
                ):
                    counts["mixes"] += 1
                    problems.append(f"step {step}: {query!r} got {got} expected {best}")
            if rng.random() < 0.1:
                store.close()
                store = None
        except IndexMismatchError:
            counts["refused"] += 1
            store.close()
            store = None
    if store is not None:
        store.close()
    print(json.dumps({**counts, "problems": problems[:5]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
