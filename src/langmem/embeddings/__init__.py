"""Embeddings for langmem stores: hashing (tests, fallback)."""

from langmem.embeddings._hashing import HashingEmbeddings

__all__ = ["HashingEmbeddings"]
