"""Values holding NaN or Infinity as earlier versions wrote them (not JSON to SQLite before
3.42): filters on the namespace's other fields, ranked searches and explain work, by reading
values in Python; NaN equals nothing and is in no range, infinity is infinity. Rows are written
here in the old form directly, as an earlier version left them."""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from pathlib import Path

import pytest

from langmem.stores import SqliteStore
from langmem.stores._legacy_numbers import json_extract
from langmem.testing import HashingEmbeddings

NS = ("notes", "u1")
OLD = (
    '{"text":"tea at noon","kind":"drink","n":NaN,"far":Infinity,"near":-Infinity,'
    '"created_at":"2025-01-01T00:00:00+00:00","thread_id":"t1"}'
)
NEW = OLD.replace("NaN", "null").replace("-Infinity", "-1e999").replace("Infinity", "1e999")


def _store(path: Path) -> SqliteStore:
    return SqliteStore(path, index={"dims": 16, "embed": HashingEmbeddings(16)})


def _file(path: Path, old_value: str) -> None:
    store = _store(path)
    at = {"created_at": "2025-01-02T00:00:00+00:00"}  # recency reads it: the same in both files
    store.put(NS, "x", {"text": "tea at noon", "kind": "drink", "n": 1})
    store.put(NS, "y", {"text": "green tea", "kind": "drink", "n": 2, "thread_id": "t1", **at})
    store.put(NS, "z", {"text": "coffee", "kind": "food", "n": 3, **at})
    store.close()
    with sqlite3.connect(path) as conn:  # what an earlier version wrote
        conn.execute("UPDATE langmem_items SET value = ? WHERE key = 'x'", (old_value,))


def _keys(items: list[object]) -> list[str]:
    return sorted(i.key for i in items)  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_filters_on_other_fields_work(
    tmp_path: Path, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    _file(tmp_path / "old.sqlite", OLD)
    store = _store(tmp_path / "old.sqlite")

    async def search(**kw: object) -> list[str]:
        if mode == "sync":
            return _keys(store.search(NS, **kw))  # type: ignore[arg-type]
        return _keys(await store.asearch(NS, **kw))  # type: ignore[arg-type]

    with caplog.at_level(logging.WARNING, logger="langmem"):
        assert await search(filter={"kind": "drink"}) == ["x", "y"]
    assert await search(filter={"kind": "drink"}, query="tea") == ["x", "y"]
    assert await search(filter={"n": {"$gt": 0}}) == ["y", "z"]  # NaN is in no range
    assert await search(filter={"n": {"$lte": 5}}) == ["y", "z"]
    assert await search(filter={"far": {"$gt": 1e308}}) == ["x"]  # infinity is infinity
    assert await search(filter={"near": {"$lt": -1e308}}) == ["x"]
    assert await search(filter={"thread_id": "t1"}) == ["x", "y"]
    assert math.isnan(store.get(NS, "x").value["n"])  # type: ignore[union-attr]
    warned = [r.getMessage() for r in caplog.records if "NaN or Infinity" in r.getMessage()]
    assert len(warned) == 1 and str(tmp_path / "old.sqlite") in warned[0]
    assert "json_valid" in warned[0]
    store.put(NS, "w", {"text": "water", "kind": "drink"})  # writes go on
    assert await search(filter={"kind": "drink"}) == ["w", "x", "y"]
    store.close()


def test_ranking_is_that_of_the_file_written_in_the_current_form(tmp_path: Path) -> None:
    """Reading values in Python changes no score: the same file with the row written as this
    version writes it (NaN as null) ranks the same items with the same scores."""
    _file(tmp_path / "old.sqlite", OLD)
    _file(tmp_path / "new.sqlite", NEW)
    old, new = _store(tmp_path / "old.sqlite"), _store(tmp_path / "new.sqlite")
    for query in ("tea", "tea at noon", "coffee"):
        # (recency reads the clock at each search: scores agree to ~1e-12, not bit for bit)
        a = [(h.key, round(e.score, 9), e.thread) for h, e in old.explain(NS, query)]
        b = [(h.key, round(e.score, 9), e.thread) for h, e in new.explain(NS, query)]
        assert a == b and len(a) == 3
        assert [h.key for h in old.search(NS, query=query)] == [key for key, _, _ in a]
    old.close()
    new.close()


def test_the_python_reader_returns_what_sqlite_returns() -> None:
    conn = sqlite3.connect(":memory:")
    values = [
        {"a": "x", "b": 1, "c": 2.5, "d": True, "e": False, "f": None},
        {"a": {"b": [1, {"c": "é"}]}, "big": 2**70, "neg": -(2**63), "s": "Zoë"},
        {"a": [1, 2, 3], "b": {}, "c": []},
    ]
    paths = ["$", "$.a", "$.b", "$.c", "$.d", "$.e", "$.f", "$.a.b", "$.a.b[1].c", "$.a[2]"]
    paths += ["$.big", "$.neg", "$.s", "$.missing", "$.a[9]"]
    for value in values:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        for path in paths:
            (builtin,) = conn.execute("SELECT json_extract(?, ?)", (text, path)).fetchone()
            assert json_extract(text, path) == builtin, (value, path)
    assert json_extract('{"n":NaN,"i":-Infinity}', "$.n") is None
    assert json_extract('{"n":NaN,"i":-Infinity}', "$.i") == -math.inf
    with pytest.raises(ValueError):
        json_extract("not json", "$.a")
