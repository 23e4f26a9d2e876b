"""PostgresStore refuses NaN or infinite vectors from the embedding model with the embedded
store's ModelOutputError (tests/stores/test_nan_embeddings.py), not a raw psycopg error, and
writes nothing of the batch."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.errors import ConfigurationError, ModelOutputError
from langmem.stores import PostgresStore
from tests.stores.test_nan_embeddings import PoisonedEmbeddings


@pytest.fixture(scope="module")
def store(pg_module_database: str) -> Iterator[PostgresStore]:
    index = {"dims": 16, "embed": PoisonedEmbeddings(), "fields": ["$"]}
    with PostgresStore.from_url(pg_module_database, index=index) as made:  # type: ignore[arg-type]
        made.put(("n",), "ok", {"text": "green tea"})
        yield made


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_non_finite_document_vector_is_refused_and_nothing_written(
    store: PostgresStore, value: float
) -> None:
    store.embeddings = PoisonedEmbeddings(value)
    try:
        with pytest.raises(ModelOutputError, match=r"NaN or infinite values for the text .*poison"):
            store.batch(
                [
                    PutOp(("n",), "fine", {"text": "black tea"}),
                    PutOp(("n",), "bad", {"text": "poison"}),
                ]
            )
    finally:
        store.embeddings = PoisonedEmbeddings()
    assert store.get(("n",), "bad") is None and store.get(("n",), "fine") is None


async def test_async_puts_queries_and_explain_are_checked(store: PostgresStore) -> None:
    with pytest.raises(ModelOutputError, match="NaN or infinite"):
        await store.aput(("n",), "bad", {"text": "poison"})
    assert await store.aget(("n",), "bad") is None
    with pytest.raises(ModelOutputError, match=r"search query 'poison\?'"):
        await store.asearch(("n",), query="poison?")
    with pytest.raises(ModelOutputError, match=r"search query 'poison'"):
        store.search(("n",), query="poison")
    with pytest.raises(ModelOutputError, match=r"search query 'poison'"):
        await store.aexplain(("n",), "poison")
    scores = [item.score for item in await store.asearch(("n",), query="green tea")]
    assert scores and all(s is not None and math.isfinite(s) for s in scores)


def test_a_reembed_with_a_broken_model_keeps_the_old_vectors(pg_database: str) -> None:
    """As on the embedded store: the re-embed stops before its swap with ModelOutputError
    naming the text (it was pgvector's own error), and the store keeps ranking by its old
    vectors."""
    index = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]}
    with PostgresStore.from_url(pg_database, index=index) as store:  # type: ignore[arg-type]
        store.put(("n",), "ok", {"text": "green tea"})
        store.put(("n",), "other", {"text": "poison oak"})  # fine with the current model
        poisoned = {"dims": 16, "embed": PoisonedEmbeddings(), "fields": ["$"]}
        with pytest.raises(ModelOutputError, match=r"NaN or infinite values for the text .*oak"):
            store.reembed(poisoned)
        with pytest.raises(ConfigurationError, match=r"shape \(2, 16\).*index dims=8"):
            store.reembed({"dims": 8, "embed": HashingEmbeddings(16), "fields": ["$"]})
        ranked = store.search(("n",), query="green tea")
        assert ranked[0].key == "ok" and all(math.isfinite(i.score or 0.0) for i in ranked)
