"""The embedded store refuses writes it would store wrongly (and says why), and keeps odd but
valid ones exactly."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langgraph.store.base import InvalidNamespaceError

from langmem.errors import InvalidInputError, LangMemError
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

NS = ("notes",)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    index = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["$"]}
    store = SqliteStore(tmp_path / "odd.sqlite", index=index)  # type: ignore[arg-type]
    store.put(NS, "kept", {"text": "already here"})
    return store


def _unchanged(store: SqliteStore) -> None:
    items = store.search(NS, limit=50)
    assert [(i.key, i.value) for i in items] == [("kept", {"text": "already here"})]
    assert store.list_namespaces() == [NS]


@pytest.mark.parametrize("value", [[], ["a", "b"], "text", 5])
def test_a_value_that_is_not_a_dict_is_refused(store: SqliteStore, value: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"not a dict.*Nothing was written"):
        store.put(NS, "new", value)
    _unchanged(store)


@pytest.mark.parametrize("ttl", [-1, math.nan, "5", True])
def test_a_ttl_that_is_not_minutes_is_refused(store: SqliteStore, ttl: Any) -> None:
    with pytest.raises(InvalidInputError, match=rf"ttl={ttl!r}.*minutes"):
        store.put(NS, "new", {"text": "x"}, ttl=ttl)
    _unchanged(store)


@pytest.mark.parametrize("ttl", [0.5, np.float32(2), np.int64(3), math.inf])
def test_numeric_ttls_are_kept(store: SqliteStore, ttl: Any) -> None:
    store.put(NS, "new", {"text": "x"}, ttl=ttl)
    item = store.get(NS, "new", refresh_ttl=False)
    assert item is not None and item.value == {"text": "x"}


def test_a_string_namespace_is_not_split_into_letters(store: SqliteStore) -> None:
    with pytest.raises(InvalidNamespaceError, match=r"\('abc',\)") as caught:
        store.put("abc", "k", {"text": "x"})  # type: ignore[arg-type]
    assert isinstance(caught.value, LangMemError)
    with pytest.raises(InvalidNamespaceError):
        store.search("notes", query="x")  # type: ignore[arg-type]
    _unchanged(store)


@pytest.mark.parametrize(
    ("namespace", "key", "value"),
    [
        (NS, "k", {"text": "bad \ud800 text"}),
        (NS, "k\udcff", {"text": "x"}),
        (("a\ud800",), "k", {}),
    ],
)
def test_lone_surrogates_are_refused_before_anything_is_written(
    store: SqliteStore, namespace: tuple[str, ...], key: str, value: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInputError, match="lone surrogate"):
        store.put(namespace, key, value)
    _unchanged(store)


async def test_async_writes_are_checked_the_same_way(store: SqliteStore) -> None:
    with pytest.raises(InvalidInputError, match="not a dict"):
        await store.aput(NS, "new", [])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="lone surrogate"):
        await store.aput(NS, "new", {"text": "\ud800"})
    _unchanged(store)


@pytest.mark.parametrize("query", [5, ["tea"], b"tea"])
def test_a_query_that_is_not_text_is_named(store: SqliteStore, query: Any) -> None:
    with pytest.raises(InvalidInputError, match="query is text"):
        store.search(NS, query=query)


def test_odd_but_valid_keys_and_values_round_trip(store: SqliteStore) -> None:
    odd = {
        "": {"text": "empty key"},
        "a.b/c": {"nested": {"list": [1, {"deep": None}], "emoji": "🙂"}},
        "k" * 5000: {"text": "long key"},
        "🙂": {"nan": math.inf},
    }
    for key, value in odd.items():
        store.put(NS, key, value)
    for key, value in odd.items():
        item = store.get(NS, key)
        assert item is not None and item.value == value
    store.put(("é", "日本", "x" * 2000), "k", {"text": "unicode namespace"})
    assert ("é", "日本", "x" * 2000) in store.list_namespaces()
