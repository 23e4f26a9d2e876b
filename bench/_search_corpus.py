"""The corpus of bench/search.py: short Zipf-worded texts with random 384-d vectors, served by a
lookup "embedding" (so no model time is measured), shared with bench/search_identity.py.

Only LangGraph and numpy are imported here, so the corpus also builds against older langmem code.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings
from langgraph.store.base import BaseStore, PutOp

DIMS = 384
NAMESPACE = ("bench", "memories")


class LookupEmbeddings(Embeddings):
    """Returns precomputed vectors for known texts (queries included): no model time measured."""

    model_id = "bench-lookup"

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.vectors[t].tolist() for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text].tolist()  # type: ignore[no-any-return]


def corpus(n: int, queries: int, seed: int = 7) -> tuple[list[str], list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(20_000)]
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    words = rng.choice(len(vocab), size=(n + queries, 12), p=weights)
    texts = [" ".join(vocab[w] for w in row) + f" item{i}" for i, row in enumerate(words)]
    vectors = rng.standard_normal((n + queries, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries_text = [" ".join(t.split()[:5]) + f" q{i}" for i, t in enumerate(texts[n:])]
    return texts[:n], queries_text, vectors


def load(store: BaseStore, texts: list[str], chunk: int = 2000) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), chunk):
        store.batch(
            [
                PutOp(NAMESPACE, f"k{i}", {"text": texts[i]})
                for i in range(start, min(start + chunk, len(texts)))
            ]
        )
    return time.perf_counter() - started


def baseline_src(ref: str, folder: Path) -> Path:
    """``src/`` of git ``ref`` extracted under ``folder`` (once), for a bench's ``--baseline``:
    put the returned folder on ``PYTHONPATH`` to run the bench on that code."""
    code = folder / "baseline"
    if not code.exists():
        code.mkdir()
        repo = Path(__file__).resolve().parent.parent
        archive = subprocess.run(
            ["git", "-C", str(repo), "archive", ref, "src"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
    return code / "src"
