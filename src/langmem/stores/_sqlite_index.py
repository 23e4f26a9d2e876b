"""The embedded store's index: configuring it, claiming or adopting the file's, re-embedding.

:class:`IndexedFile` is the base of :class:`~langmem.stores.SqliteStore` that sets up its
vector index (``_identity`` builds the embedder and the identity a file records), records it
in the file or refuses a file indexed otherwise, adopts the file's index when the handle was
opened without one, embeds texts, and changes the file's index (:meth:`IndexedFile.reembed`,
through ``_reembed``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langgraph.store.base import IndexConfig

from langmem.errors import ConfigurationError
from langmem.stores import _identity, _reembed, _writes
from langmem.stores._sqlite_matrix import MatrixSync
from langmem.stores._vectors import VectorIndex

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings


class IndexedFile(MatrixSync):
    """A store handle's index configuration and embedder."""

    index_config: dict[str, Any] | None
    embeddings: Embeddings | None
    _fields: _writes.IndexPaths

    def _configure_index(self, index: IndexConfig | dict[str, Any]) -> None:
        config, embeddings, identity = _identity.index_setup(index)
        self.embeddings = embeddings
        self._fields = _writes.index_paths(config["fields"])
        self.index_config = config
        self._vectors = VectorIndex(identity.dims)
        self._loaded = False
        self._term_forms.clear()
        self._last_seq = 0
        self._synced_state = None
        self._synced_generation = -1
        self._identity = identity

    def _claim(self) -> None:
        """Record this handle's index in the file, or refuse a file indexed otherwise."""
        wanted = self._identity
        assert wanted is not None
        with self._read() as conn:
            found, _ = _identity.recorded(conn)
        if found == wanted:  # the usual case: no write lock needed
            return
        if self._read_only is not None:  # nothing can be recorded: refuse only another index
            if found is not None and not found.same(wanted):
                raise _identity.mismatch(self.path, found, wanted)
            return  # a legacy record, or none (a file never indexed has no vectors to rank)
        with self._write() as conn:
            found, generation = _identity.recorded(conn)
            if found is not None and not found.same(wanted):
                raise _identity.mismatch(self.path, found, wanted)
            if found is None or found != wanted:
                _identity.record(conn, wanted, generation)

    def _adopt(self) -> None:
        """A handle opened without an index takes the file's, when langmem can rebuild its
        embeddings; otherwise its writes of indexed items are refused (see ``_check``)."""
        with self._read() as conn:
            found, _ = _identity.recorded(conn)
        if found is None:
            return
        embeddings = _identity.rebuild(found)
        if embeddings is not None:
            fields = list(found.fields) if found.fields else ["$"]
            self._configure_index({"dims": found.dims, "embed": embeddings, "fields": fields})

    def reembed(
        self,
        index: IndexConfig | dict[str, Any] | None = None,
        *,
        progress: Callable[[int, int], object] | None = None,
        batch_size: int = 64,
        allow_unindexed: bool = False,
    ) -> int:
        """Re-embed every indexed item for ``index`` (default: this handle's), and record it.

        The explicit way to change a file's embedder, dims or fields. Texts are embedded in
        batches of ``batch_size`` outside any lock, calling ``progress(done, total)`` after each
        batch; then one write transaction swaps every vector (texts written meanwhile are
        embedded inside it) and records the new index. Until then, other handles keep working
        with the old vectors; afterwards, handles with another index refuse to rank or write
        (:class:`~langmem.errors.IndexMismatchError`) until reopened with the new index. When
        ``fields`` change, texts are taken from each item's value at the new fields; items that
        have no vectors (``put(..., index=False)``) stay unindexed.

        New fields that find no text in some indexed items are refused
        (:class:`~langmem.errors.InvalidInputError`, naming how many and one of them, before
        anything is embedded): those items would lose their vectors for good. Pass
        ``allow_unindexed=True`` to re-embed anyway (they then stay unsearchable by meaning).

        Returns:
            How many texts were embedded.

        Example:
            >>> from langmem.embeddings import HashingEmbeddings
            >>> from langmem.stores import SqliteStore
            >>> store = SqliteStore(":memory:", index={"dims": 8, "embed": HashingEmbeddings(8)})
            >>> store.put(("a",), "1", {"text": "green tea"})
            >>> store.reembed({"dims": 16, "embed": HashingEmbeddings(16)})
            1
        """
        self._refuse_writes()
        _reembed.check_flag(allow_unindexed)
        if index is None:
            if self.index_config is None:
                raise ConfigurationError(
                    f"reembed() on {self.path!r}: this handle has no index; pass one, e.g. "
                    "store.reembed({'dims': 384, 'embed': <embeddings>, 'fields': ['$']})."
                )
            index = self.index_config
        config, embeddings, identity = _identity.index_setup(index)
        fields = _writes.index_paths(config["fields"])
        size = max(1, int(batch_size))
        with self._read() as conn:
            texts = _reembed.texts(conn, fields, identity, allow_unindexed=allow_unindexed)
        if not texts:  # no vector shows the embedder's length: ask it
            _reembed.check_dims(embeddings, identity.dims)
        vectors: dict[bytes, bytes] = {}
        pending = list(texts)
        total = len(pending)
        for start in range(0, total, size):
            chunk = pending[start : start + size]
            batch = [texts[h] for h in chunk]
            blobs = _writes.to_blobs(
                embeddings.embed_documents(batch), len(chunk), identity.dims, batch
            )
            vectors.update(zip(chunk, blobs))
            if progress is not None:
                progress(min(start + size, total), total)
        with self._lock, self._write() as conn:
            count = _reembed.swap(
                conn, fields, vectors, embeddings, identity, allow_unindexed=allow_unindexed
            )
        self._configure_index(config)
        self._refresh(force=True)
        return count

    def reindex(self) -> int:
        """Re-embed every stored text with this handle's index (see :meth:`reembed`)."""
        if self.index_config is None:
            return 0
        return self.reembed()

    def _embed_documents(self, texts: list[str]) -> list[bytes]:
        assert self.embeddings is not None
        vectors = self.embeddings.embed_documents(texts)
        return _writes.to_blobs(vectors, len(texts), self._dims(), texts)

    async def _aembed_documents(self, texts: list[str]) -> list[bytes]:
        assert self.embeddings is not None
        vectors = await self.embeddings.aembed_documents(texts)
        return _writes.to_blobs(vectors, len(texts), self._dims(), texts)
