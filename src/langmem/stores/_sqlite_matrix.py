"""The embedded store's vector matrix, kept in line with its file.

:class:`MatrixSync` is the base of :class:`~langmem.stores.SqliteStore` that owns the handle's
in-memory matrix (``_vectors``) and what goes with it: the items' threads and times, the lexical
side's word counts, and the matrix cache beside the file (``_snapshot``). The first batch that
ranks loads the matrix (from the cache when it is valid and undamaged, else from SQLite, then
writes the cache); every later one applies the file's change log since the last sync
(``_sync.sync_vectors``), inside its own transaction, so scores and values come from the same
snapshot.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langmem.stores import _identity, _search, _snapshot
from langmem.stores._identity import IndexIdentity
from langmem.stores._origins import ItemOrigins
from langmem.stores._search import Forms
from langmem.stores._sqlite_transactions import Transactions
from langmem.stores._sync import sync_vectors
from langmem.stores._vectors import VectorIndex


class MatrixSync(Transactions):
    """A store handle's vector matrix and the state of the file it reflects."""

    _vectors: VectorIndex | None
    _loaded: bool  # whether the matrix was loaded (on the first ranked read)
    _cache: Path | None  # a copy of the matrix for new processes (read-only: read, not written)
    _cache_due: bool  # the first load was slow: write the copy after the read
    _cache_origins: bool  # the copy holds the items' origins (or none was read)
    _cache_postings: bool  # the copy holds the word postings (or none were built)
    _identity: IndexIdentity | None  # what this handle embeds with
    _synced_generation: int  # re-embed generation of the file the matrix reflects
    # The state of the file (see ``_state``) the matrix reflects, and the identity recorded
    # in the file at a known state: a ranked batch on an unchanged file skips both reads.
    _synced_state: tuple[int, int] | None
    _recorded: tuple[tuple[int, int], IndexIdentity | None, int] | None
    _origins: _search.Origins  # item -> thread and time, at ``_synced_state``
    _item_origins: ItemOrigins  # every item's thread and time, kept current
    _term_forms: dict[str, Forms]  # query term -> stored words (lexical IDF)
    _last_seq: int  # the last vector change the matrix reflects

    def _init_matrix(self) -> None:
        """No matrix yet (after :meth:`_open_file`)."""
        self._vectors = None
        self._loaded = False
        self._cache = _snapshot.cache_path(self.path if self._read_only is None else self._file)
        self._cache_due = False
        self._cache_origins = True
        self._cache_postings = True
        self._identity = None
        self._synced_generation = -1
        self._synced_state = None
        self._recorded = None
        self._origins = {}
        self._item_origins = ItemOrigins()
        self._term_forms = {}
        self._last_seq = 0

    def _refresh(self, *, force: bool = False) -> None:
        """Bring the matrix up to date with the file; cheap when nobody else wrote (nothing to
        do before the first ranked read loads it)."""
        if self._vectors is None or not self._loaded:
            return
        with self._lock:
            conn = self._conn
            if not force and self._state(conn) == self._synced_state:
                return
            conn.execute("BEGIN")
            try:
                state = self._state(conn)
                found, generation = self._recorded_identity(conn, state)
                if found is not None and self._identity and not found.same(self._identity):
                    return  # re-embedded elsewhere: the next op refuses
                if force:
                    self._synced_state = None
                self._sync(conn, generation, state)
            finally:
                conn.execute("COMMIT")

    def _recorded_identity(
        self, conn: sqlite3.Connection, state: tuple[int, int]
    ) -> tuple[IndexIdentity | None, int]:
        """The index identity recorded in the file at ``state`` (read again once it changed)."""
        known = self._recorded
        if known is not None and known[0] == state:
            return known[1], known[2]
        found, generation = _identity.recorded(conn)
        self._recorded = (state, found, generation)
        return found, generation

    def _sync(self, conn: sqlite3.Connection, generation: int, state: tuple[int, int]) -> None:
        """Apply the file's vector changes to the matrix, inside the caller's transaction
        (nothing to read when the file is still at the ``state`` last synced)."""
        assert self._vectors is not None
        cache = self._cache if not self._loaded else None
        cached = None
        if state != self._synced_state or cache is not None:
            self._origins.clear()  # values may change without their texts: any write counts
            self._item_origins.stale = True  # read the log of items written (on next use)
            cached = None
            if cache is not None:
                cached = _snapshot.load(
                    conn,
                    self._vectors,
                    cache,
                    self._item_origins,
                    rewrite=self._read_only is None,
                )
                self._cache_origins = self._item_origins.loaded
                self._cache_postings = self._vectors.lexicon.postings() is not None
            if cached is not None:
                self._last_seq = cached
            applied = sync_vectors(conn, self._vectors, self._last_seq)
            if applied is not None:
                self._last_seq = applied
                self._term_forms.clear()
        self._synced_state = state
        self._synced_generation = generation
        self._loaded = True
        if cache is not None and len(self._vectors) >= _snapshot.MIN_ROWS:
            behind = self._last_seq - (cached if cached is not None else 0)
            self._cache_due = cached is None or behind > _snapshot.STALE_SHARE * len(self._vectors)

    def _save_cache(self) -> None:
        """After a slow first load: write the matrix cache (outside any transaction)."""
        with self._lock:
            kept = self._item_origins
            # a cache written without the items' origins is written again once they are read
            if not self._cache_due and not self._cache_origins and kept.loaded and kept.usable:
                self._cache_origins = True
                self._cache_due = len(self._vectors or ()) >= _snapshot.MIN_ROWS
            vectors = self._vectors
            if (
                not self._cache_postings
                and not self._cache_due
                and vectors is not None
                and vectors.lexicon.postings() is not None
            ):
                self._cache_postings = True  # built since the copy was written: write them too
                self._cache_due = len(vectors) >= _snapshot.MIN_ROWS
            if self._read_only is not None:
                self._cache_due = False  # nothing is written beside a read-only file
            if self._cache_due and self._cache is not None and vectors is not None:
                self._cache_due = False
                _snapshot.save(self._conn, vectors, self._cache, self._last_seq, kept)
                self._cache_origins = kept.loaded and kept.usable
                self._cache_postings = vectors.lexicon.postings() is not None

    def _dims(self) -> int:
        return self._vectors.dims if self._vectors is not None else 0
