"""Embeddings for langmem stores, all offline.

- :class:`MiniLMEmbeddings`: all-MiniLM-L6-v2 (384 dims) run by numpy; no torch.
- :class:`SentenceTransformerEmbeddings`: the same model through sentence-transformers.
- :func:`default_embeddings`: the best of those that is installed, else a loud fallback to
- :class:`HashingEmbeddings`: deterministic and dependency-free (tests, fallback).
"""

from langmem.embeddings._default import (
    EmbeddingFallbackWarning,
    SentenceTransformerEmbeddings,
    default_embeddings,
)
from langmem.embeddings._hashing import HashingEmbeddings
from langmem.embeddings._minilm import MiniLMEmbeddings, minilm_model_dir

__all__ = [
    "EmbeddingFallbackWarning",
    "HashingEmbeddings",
    "MiniLMEmbeddings",
    "SentenceTransformerEmbeddings",
    "default_embeddings",
    "minilm_model_dir",
]
