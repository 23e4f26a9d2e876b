"""Deterministic, dependency-free embeddings: for tests, and as the loud fallback."""

from __future__ import annotations

import hashlib
import itertools
import math
import re

from langchain_core.embeddings import Embeddings

from langmem.errors import ConfigurationError

_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbeddings(Embeddings):
    """Embed text by hashing its words and word bigrams into ``dims`` signed buckets.

    The same text always gives the same unit vector, on every machine and Python version
    (hashes come from BLAKE2b, not from ``hash()``). Texts sharing words get similar vectors,
    which is enough for tests of search plumbing; it is not a semantic model.

    Example:
        >>> emb = HashingEmbeddings(dims=16)
        >>> emb.embed_query("tea") == emb.embed_query("tea")
        True
        >>> len(emb.embed_documents(["a", "b"]))
        2
    """

    model_id = "langmem-hashing"

    def __init__(self, dims: int = 384) -> None:
        if not isinstance(dims, int) or dims <= 0:
            raise ConfigurationError(f"dims={dims!r} must be a positive int, such as 384.")
        self.dims = dims

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dims
        words = _TOKEN.findall(text.lower())
        features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
        for feature in features:
            digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dims
            sign = 1.0 if digest[4] & 1 else -1.0
            vector[bucket] += sign
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            return vector
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)
