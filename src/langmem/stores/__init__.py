"""Stores for langmem: the embedded SQLite default, and opening a store from a URL.

- :class:`SqliteStore`: a LangGraph ``BaseStore`` in one SQLite file; exact hybrid search
  (dense cosine fused with BM25), TTL, safe for several processes; ``explain()`` shows why a
  result ranked where it did.
- :mod:`langmem.stores.ranking`: the hybrid ranking rule every backend applies
  (:class:`Ranking` parameters, :class:`Explanation` of a score).
- :func:`open_store`: ``sqlite:///path``, ``memory://`` (and a file path) to a ready store.
- :func:`default_store`: the per-process store langmem falls back to (``LANGMEM_STORE``).
"""

from langmem.stores._open import default_store, open_store
from langmem.stores._sqlite import SqliteStore
from langmem.stores.ranking import Explanation, Ranking

__all__ = ["Explanation", "Ranking", "SqliteStore", "default_store", "open_store"]
