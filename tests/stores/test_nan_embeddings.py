"""An embedding model that returns NaN or infinite values (fp16 overflow, a broken provider) is
refused: stored, one such vector gave every search NaN scores; a re-embed made all of them so."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from langmem.errors import ModelOutputError
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings


class PoisonedEmbeddings(Embeddings):
    """Hashing vectors, except for texts holding ``poison``: those get ``value`` everywhere."""

    def __init__(self, value: float = math.nan) -> None:
        self.value = value
        self.inner = HashingEmbeddings(16)

    def _one(self, text: str) -> list[float]:
        return [self.value] * 16 if "poison" in text else self.inner.embed_query(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._one(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._one(text)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    made = SqliteStore(tmp_path / "n.sqlite", index={"dims": 16, "embed": PoisonedEmbeddings()})
    made.put(("n",), "ok", {"text": "green tea"})
    return made


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_non_finite_document_vector_is_refused_and_nothing_written(
    tmp_path: Path, value: float
) -> None:
    store = SqliteStore(
        tmp_path / "v.sqlite", index={"dims": 16, "embed": PoisonedEmbeddings(value)}
    )
    with pytest.raises(ModelOutputError, match=r"NaN or infinite values for the text .*poison"):
        store.put(("n",), "bad", {"text": "poison ivy"})
    assert store.get(("n",), "bad") is None


async def test_async_puts_and_queries_are_checked(store: SqliteStore) -> None:
    with pytest.raises(ModelOutputError, match="NaN or infinite"):
        await store.aput(("n",), "bad", {"text": "poison"})
    with pytest.raises(ModelOutputError, match=r"search query 'poison\?'"):
        await store.asearch(("n",), query="poison?")
    scores = [item.score for item in await store.asearch(("n",), query="green tea")]
    assert scores and all(s is not None and math.isfinite(s) for s in scores)


def test_a_reembed_with_a_broken_model_keeps_the_old_vectors(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "r.sqlite", index={"dims": 16, "embed": HashingEmbeddings(16)})
    store.put(("n",), "ok", {"text": "green tea"})
    store.put(("n",), "other", {"text": "poison oak"})  # fine with the current model
    with pytest.raises(ModelOutputError, match="poison oak"):
        store.reembed({"dims": 16, "embed": PoisonedEmbeddings(), "fields": ["$"]})
    ranked = store.search(("n",), query="green tea")
    assert ranked[0].key == "ok" and all(math.isfinite(i.score or 0.0) for i in ranked)
