"""``reembed(index)`` with new fields that find no text in some indexed memories is refused by
the store itself (it was only the CLI's check, which read every stored value): those memories
would lose their vectors for good, since a re-embed only re-embeds memories that have vectors.
``allow_unindexed=True`` re-embeds anyway. The PostgreSQL twin runs the same cases
(tests/postgres/test_reembed_unindexed.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore

from langmem.errors import ConfigurationError, InvalidInputError
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

NS = ("memories", "alice")


def index(*fields: str) -> Any:
    return {"dims": 32, "embed": HashingEmbeddings(32), "fields": list(fields)}


def seed(store: BaseStore) -> None:
    store.put(NS, "a1", {"content": "runs a marathon", "kind": "fact"})
    store.put(NS, "a2", {"content": "likes green tea", "kind": "taste"})
    store.put(("memories", "bob"), "b1", {"content": "plays chess"})  # no kind
    store.put(NS, "plain", {"text": "never indexed"}, index=False)


def found(store: BaseStore, query: str) -> list[str]:
    return [i.key for i in store.search(("memories",), query=query, limit=1)]


def check_refused_then_allowed(store: Any, fields_before: list[str]) -> None:
    seed(store)
    before = found(store, "plays chess")
    with pytest.raises(InvalidInputError) as refused:
        store.reembed(index("contnet"))
    assert str(refused.value).startswith(
        "fields 'contnet' find no text in 3 of the 3 indexed memories (e.g. key 'a1' in "
        "'memories/alice'): re-embedding would leave them without vectors for good"
    )
    assert "Nothing was re-embedded" in str(refused.value)
    assert "or allow it (allow_unindexed=True) if those" in str(refused.value)
    assert store.index_config["fields"] == fields_before  # nothing changed
    assert found(store, "plays chess") == before == ["b1"]
    with pytest.raises(InvalidInputError, match=r"fields 'kind' find no text in 1 of the 3 "):
        store.reembed(index("kind"))  # bob's memory has no kind
    # several fields: a memory is kept when any of them finds text
    assert store.reembed(index("kind", "content")) == 5
    with pytest.raises(ConfigurationError, match=r"allow_unindexed='yes'"):
        store.reembed(index("kind"), allow_unindexed="yes")
    # allowed: the memories the fields find are re-embedded, the other one loses its vectors
    assert store.reembed(index("kind"), allow_unindexed=True) == 2
    assert store.index_config["fields"] == ["kind"]
    assert [i.key for i in store.search(("memories",), query="taste", limit=1)] == ["a2"]
    scored = [i.key for i in store.search(("memories",), query="plays chess") if i.score]
    assert "b1" not in scored
    # the same fields again keep every text: nothing to refuse
    assert store.reembed() == 2


def test_sqlite_refuses_fields_that_find_no_text(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "m.db", index=index("content"), hybrid=False) as store:
        check_refused_then_allowed(store, ["content"])


class EightDims(HashingEmbeddings):
    """Hashing embeddings of 8 values, whatever dims the index claims."""

    def __init__(self) -> None:
        super().__init__(8)


class Replying(HashingEmbeddings):
    """An embedder that answers ``reply`` whatever it is asked."""

    def __init__(self, reply: Any) -> None:
        super().__init__(8)
        self.reply = reply

    def embed_documents(self, texts: list[str]) -> Any:
        return self.reply


def check_dims_of_the_model(store: Any) -> None:
    """With nothing stored to embed, a ``dims`` other than the model's was recorded, and every
    later put failed; now the model is asked (one probe text)."""
    with pytest.raises(ConfigurationError) as refused:
        store.reembed({"dims": 3, "embed": EightDims(), "fields": ["content"]})
    assert "dims=3 does not match the embeddings" in str(refused.value)
    assert "returns vectors of 8 values" in str(refused.value)
    assert "Fix: pass dims=8 (CLI: --dims 8" in str(refused.value)
    for reply in ([[None] * 8], [], [[]], [[1.0], [2.0]]):  # a broken embedder: said so
        with pytest.raises(ConfigurationError) as broken:
            store.reembed({"dims": 8, "embed": Replying(reply), "fields": ["content"]})
        assert f"answered {reply!r} for one text: not one vector of numbers" in str(broken.value)
        assert "pass dims=" not in str(broken.value)
    assert store.reembed({"dims": 8, "embed": EightDims(), "fields": ["content"]}) == 0
    store.put(NS, "a1", {"content": "runs a marathon"})
    assert [i.key for i in store.search(NS, query="marathon")] == ["a1"]


def test_sqlite_asks_the_model_its_dims(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "m.db", index=index("content")) as store:
        check_dims_of_the_model(store)
