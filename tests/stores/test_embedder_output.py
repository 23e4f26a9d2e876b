"""An embedding function that returns the wrong number of vectors, or things that are not
number vectors, is refused naming what it returned and the rule, with nothing written."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from langgraph.store.base import PutOp

from langmem.errors import ConfigurationError
from langmem.stores import SqliteStore


class _Broken(Embeddings):
    def __init__(self, reply: Any) -> None:
        self.reply = reply

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.reply  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return [0.1] * 4


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        ([[0.1] * 4], "returned 1 vector(s) for 3 texts: it must return one vector per text"),
        (["abc", "def", "ghi"], "which is not a list of number vectors"),
        ([[0.1] * 4, {"x": 1}, [0.2] * 4], "which is not a list of number vectors"),
    ],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_wrong_embedder_output_is_named(reply: Any, named: str, mode: str) -> None:
    store = SqliteStore(":memory:", index={"dims": 4, "embed": _Broken(reply), "fields": ["$"]})
    ops = [PutOp(("a",), f"k{i}", {"content": f"text {i}"}) for i in range(3)]
    with pytest.raises(ConfigurationError) as caught:
        if mode == "sync":
            store.batch(ops)
        else:
            asyncio.run(store.abatch(ops))
    assert named in str(caught.value)
    assert store.search(("a",)) == []
