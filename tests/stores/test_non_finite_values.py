"""Infinite numbers in a value no longer break filtered searches of the embedded store; NaN is
refused before writing. Before, the value was stored as ``Infinity``/``NaN`` (not JSON to
SQLite), and every filtered search of its namespace (the memory history's too) failed with an
error that called the file damaged and advised moving it aside."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from langmem.errors import InvalidInputError, StoreFileError
from langmem.knowledge import History
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

NS = ("notes", "u1")


def _store(path: Path | str = ":memory:") -> SqliteStore:
    return SqliteStore(path, index={"dims": 16, "embed": HashingEmbeddings(16)})


def test_infinite_numbers_round_trip_and_filters_work() -> None:
    store = _store()
    store.put(NS, "tea", {"text": "tea", "kind": "drink"})
    odd = {"text": "Infinity NaN", "score": math.inf, "l": [1, -math.inf, {"z": math.inf}]}
    store.put(NS, "odd", odd)
    assert store.get(NS, "odd").value == odd  # type: ignore[union-attr]
    assert [i.key for i in store.search(NS, filter={"kind": "drink"})] == ["tea"]
    assert [i.key for i in store.search(NS, query="tea", filter={"kind": "drink"})] == ["tea"]
    assert [i.key for i in store.search(NS, filter={"score": {"$gt": 5}})] == ["odd"]
    assert [i.key for i in store.search((), filter={"kind": "drink"})] == ["tea"]


async def test_nan_is_refused_naming_where_and_nothing_is_written() -> None:
    store = _store()
    with pytest.raises(InvalidInputError, match=r"NaN at value\['x'\]\[1\]\['y'\].*None"):
        store.put(NS, "bad", {"x": [1, {"y": math.nan}]})
    with pytest.raises(InvalidInputError, match="holds NaN"):
        await store.aput(NS, "bad", {"x": math.nan})
    assert store.get(NS, "bad") is None


def test_the_history_of_a_namespace_with_infinity_still_works() -> None:
    store = _store()
    history = History(store)
    history.put(NS, "a", {"content": "far", "distance": math.inf})
    history.put(NS, "b", {"content": "near"})
    assert [r["op"] for r in history.history(NS, "a")] == ["create"]


def test_a_file_holding_nan_from_an_older_version_is_not_called_damaged(tmp_path: Path) -> None:
    """Its filtered searches work (values read in Python: tests/stores/test_legacy_numbers.py);
    a file whose values SQLite cannot read for another reason still gets the clear error."""
    path = tmp_path / "old.sqlite"
    store = _store(path)
    store.put(NS, "x", {"text": "x", "n": 1})
    store.close()
    with sqlite3.connect(path) as conn:  # what an earlier version wrote for {"n": nan}
        conn.execute('UPDATE langmem_items SET value = \'{"text":"x","n":NaN}\'')
    store = _store(path)
    assert [i.key for i in store.search(NS, filter={"text": "x"})] == ["x"]
    store.close()
    with sqlite3.connect(path) as conn:  # not JSON at all, even to Python
        conn.execute('UPDATE langmem_items SET value = \'{"text": "x", "n": nan\'')
    store = _store(path)
    with pytest.raises(StoreFileError, match=r"not damaged.*not JSON even so.*json_valid"):
        store.search(NS, filter={"text": "x"})
    store.close()


def test_a_copy_between_embedded_stores_keeps_filters_working(tmp_path: Path) -> None:
    from langmem.stores import copy_store

    source = _store(tmp_path / "a.sqlite")
    source.put(NS, "far", {"text": "far", "distance": math.inf})
    source.put(NS, "near", {"text": "near", "kind": "k"})
    target = _store(tmp_path / "b.sqlite")
    copy_store(source, target)
    assert [i.key for i in target.search(NS, filter={"kind": "k"})] == ["near"]
    assert target.get(NS, "far").value["distance"] == math.inf  # type: ignore[union-attr]
