"""Stores for langmem: the embedded SQLite default, and opening a store from a URL.

- :class:`SqliteStore`: a LangGraph ``BaseStore`` in one SQLite file; exact hybrid search
  (dense cosine fused with BM25), TTL, safe for several processes; ``explain()`` shows why a
  result ranked where it did.
- :mod:`langmem.stores.ranking`: the hybrid ranking rule every backend applies
  (:class:`Ranking` parameters, :class:`Explanation` of a score).
- :class:`PostgresStore`: LangGraph's PostgreSQL + pgvector store on a pool, with the same
  hybrid ranking, for many processes (``pip install 'langmem[postgres]'``).
- :func:`open_store`: ``sqlite:///path``, ``memory://``, ``postgresql://...`` (and a file
  path) to a ready store.
- :func:`copy_store`: every item, timestamp and vector from one store to another (SQLite <->
  PostgreSQL), with a :func:`progress_bar`.
- :func:`default_store`: the per-process store langmem falls back to (``LANGMEM_STORE``).
- :class:`Reranker`: what ``Ranking(rerank=...)`` takes, an optional re-ranker of a search's
  best results (a cross-encoder, an API, an LLM).
"""

from langmem.stores._copy import copy_store, progress_bar
from langmem.stores._open import default_store, open_store
from langmem.stores._rerank import Reranker
from langmem.stores._sqlite import SqliteStore
from langmem.stores.ranking import Explanation, Ranking

__all__ = [
    "Explanation",
    "PostgresStore",
    "Ranking",
    "Reranker",
    "SqliteStore",
    "copy_store",
    "default_store",
    "open_store",
    "progress_bar",
]
_LAZY_EXPORTS = ("PostgresStore",)


def __getattr__(name: str) -> object:
    # PostgresStore imports psycopg and LangGraph's Postgres package: only when asked for
    if name == "PostgresStore":
        from langmem.stores._postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module 'langmem.stores' has no attribute {name!r}")
