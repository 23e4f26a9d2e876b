"""The whole value (field ``"$"``, the default) is indexed with its characters as they are on
every supported LangGraph: LangGraph 1.0.0 wrote ``\\u00e8`` for ``è``, so with the lowest
allowed version a search for "crème" found neither the word nor the meaning."""

from __future__ import annotations

from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _writes


def test_the_whole_value_keeps_its_characters() -> None:
    op = PutOp(("a",), "k", {"text": "likes crème brûlée ☕", "b": 1})
    texts = _writes.texts_of(op, _writes.index_paths(["$"]))
    assert texts == [("$", '{"b": 1, "text": "likes crème brûlée ☕"}')]


def test_a_non_ascii_word_of_the_whole_value_is_found() -> None:
    store = SqliteStore(":memory:", index={"dims": 16, "embed": HashingEmbeddings(16)})
    store.put(("u",), "k1", {"text": "a flight lands at 7:45"})
    store.put(("u",), "k2", {"text": "likes crème brûlée"})
    (item, why), *_ = store.explain(("u",), "crème brûlée", limit=2)
    assert item.key == "k2"
    assert set(why.matched) >= {"creme", "brulee"} or why.bm25 > 0
    assert why.cosine > 0.5
