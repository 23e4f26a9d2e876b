"""PostgresStore refuses the writes the embedded store refuses (tests/stores/test_odd_writes.py),
with the same errors and before anything is written, plus what PostgreSQL cannot hold (NUL,
NaN or infinity in a value); odd but valid input round-trips."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from langgraph.store.base import InvalidNamespaceError, PutOp

from langmem.errors import InvalidInputError, LangMemError
from langmem.stores import PostgresStore
from langmem.testing import HashingEmbeddings

NS = ("notes",)


@pytest.fixture(scope="module")
def opened(pg_module_database: str) -> Iterator[PostgresStore]:
    index = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["$"]}
    with PostgresStore.from_url(pg_module_database, index=index) as made:  # type: ignore[arg-type]
        yield made


@pytest.fixture
def store(opened: PostgresStore) -> PostgresStore:
    with opened._transaction() as cur:
        cur.execute("DELETE FROM store")
        cur.execute("DELETE FROM store_vectors")
    opened.put(NS, "kept", {"text": "already here"})
    return opened


def _unchanged(store: PostgresStore) -> None:
    items = store.search(NS, limit=50)
    assert [(i.key, i.value) for i in items] == [("kept", {"text": "already here"})]
    assert store.list_namespaces() == [NS]
    with store._transaction() as cur:
        cur.execute("SELECT count(*) AS n FROM store_vectors")
        assert cur.fetchone()["n"] == 1


@pytest.mark.parametrize("value", [[], ["a", "b"], "text", 5])
def test_a_value_that_is_not_a_dict_is_refused(store: PostgresStore, value: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"not a dict.*Nothing was written"):
        store.put(NS, "new", value)
    _unchanged(store)


@pytest.mark.parametrize("ttl", [-1, math.nan, "5", True])
def test_a_ttl_that_is_not_minutes_is_refused(store: PostgresStore, ttl: Any) -> None:
    with pytest.raises(InvalidInputError, match=rf"ttl={ttl!r}.*minutes"):
        store.put(NS, "new", {"text": "x"}, ttl=ttl)
    _unchanged(store)


@pytest.mark.parametrize("ttl", [0.5, np.float32(2), np.int64(3), math.inf, 1e300])
def test_numeric_ttls_are_kept(store: PostgresStore, ttl: Any) -> None:
    store.put(NS, "new", {"text": "x"}, ttl=ttl)
    item = store.get(NS, "new", refresh_ttl=False)
    assert item is not None and item.value == {"text": "x"}
    with store._transaction() as cur:
        cur.execute("SELECT ttl_minutes AS m FROM store WHERE key = 'new'")
        assert cur.fetchone()["m"] == min(float(ttl), 1e11)  # past 190,000 years: kept so


def test_a_string_namespace_is_not_split_into_letters(store: PostgresStore) -> None:
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
    store: PostgresStore, namespace: tuple[str, ...], key: str, value: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInputError, match="lone surrogate"):
        store.put(namespace, key, value)
    _unchanged(store)


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("k", {"text": "a\x00b"}, r"value\['text'\]"),
        ("k", {"list": ["ok", {"deep": "\x00"}]}, r"value\['list'\]\[1\]\['deep'\]"),
        ("k", {"a\x00": 1}, r"the name of value\['a\\x00'\]"),
        ("k\x00", {"text": "x"}, "position 1"),
    ],
)
def test_nul_is_refused_naming_where_and_the_fix(
    store: PostgresStore, key: str, value: dict[str, Any], where: str
) -> None:
    with pytest.raises(InvalidInputError, match=rf"{where}.*NUL.*Nothing was written.*Strip"):
        store.put(NS, key, value)
    _unchanged(store)
    assert "\\\\u0000" not in where  # an escaped backslash is no NUL:
    store.put(NS, "escaped", {"text": "a\\u0000b"})
    assert store.get(NS, "escaped").value == {"text": "a\\u0000b"}  # type: ignore[union-attr]


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_in_a_value_are_refused(store: PostgresStore, number: float) -> None:
    with pytest.raises(InvalidInputError, match=r"value\['x'\]\[0\].*no NaN or infinite"):
        store.put(NS, "k", {"x": [number]})
    _unchanged(store)


def test_a_bad_op_in_a_batch_writes_nothing_of_the_batch(store: PostgresStore) -> None:
    ops = [PutOp(NS, "good", {"text": "fine"}), PutOp(NS, "bad", {"text": "x"}, ttl=-1)]
    with pytest.raises(InvalidInputError, match="ttl=-1"):
        store.batch(ops)
    with pytest.raises(InvalidInputError, match="NUL"):
        store.batch([PutOp(NS, "good", {"text": "fine"}), PutOp(NS, "bad", {"t": "\x00"})])
    _unchanged(store)


async def test_async_writes_are_checked_the_same_way(store: PostgresStore) -> None:
    with pytest.raises(InvalidInputError, match="not a dict"):
        await store.aput(NS, "new", [])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="lone surrogate"):
        await store.aput(NS, "new", {"text": "\ud800"})
    with pytest.raises(InvalidInputError, match="NUL"):
        await store.aput(NS, "new", {"text": "\x00"})
    with pytest.raises(InvalidInputError, match="ttl=nan"):
        await store.aput(NS, "new", {"text": "x"}, ttl=math.nan)
    with pytest.raises(InvalidNamespaceError):
        await store.aput("abc", "k", {"text": "x"})  # type: ignore[arg-type]
    _unchanged(store)


@pytest.mark.parametrize("query", [5, ["tea"], b"tea"])
async def test_a_query_that_is_not_text_is_named(store: PostgresStore, query: Any) -> None:
    with pytest.raises(InvalidInputError, match="query is text"):
        store.search(NS, query=query)
    with pytest.raises(InvalidInputError, match="query is text"):
        await store.asearch(NS, query=query)


def test_reads_of_what_postgres_cannot_hold_are_named(store: PostgresStore) -> None:
    with pytest.raises(InvalidInputError, match="No item has such a key here"):
        store.get(NS, "a\x00")
    with pytest.raises(InvalidInputError, match=r"filter\['text'\]"):
        store.search(NS, filter={"text": "a\x00"})
    assert store.search(NS, query="already\x00here")[0].key == "kept"


def test_odd_but_valid_keys_and_values_round_trip(store: PostgresStore) -> None:
    odd = {
        "": {"text": "empty key"},
        "a.b/c": {"nested": {"list": [1, {"deep": None}], "emoji": "🙂"}},
        "k" * 5000: {"text": "long key"},
        "🙂": {"float": 2.5, "escaped": "\\u0000"},
    }
    for key, value in odd.items():
        store.put(NS, key, value)
    for key, value in odd.items():
        item = store.get(NS, key)
        assert item is not None and item.value == value
    store.put(("é", "日本", "x" * 2000), "k", {"text": "unicode namespace"})
    assert ("é", "日本", "x" * 2000) in store.list_namespaces()
