"""What the hybrid search keeps between searches (session 7: query terms' word ids, the
namespace masks' allowed rows, a table of query-word columns) follows every change, and the
shortcuts (the JSON scanner, the query's norm) give what the long way gives.

Each search is compared with the SQL reference (``_search.rank``: FTS5, term counts from
SQLite, provenance from the values), which keeps none of these.
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _hybrid, _reads, _search
from langmem.stores._vectors import VectorIndex

INDEX: Any = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["text"]}
WORDS = ["tea", "walk", "river", "lives", "lived", "living", "city", "cities", "runs", "the"]


def _reference(search: _hybrid.Search) -> Any:
    s = search
    return _search.rank(
        s.conn, s.vectors, s.query, s.text, s.allowed, s.want, ranking=s.ranking, cache={}
    )


def _alike(store: SqliteStore, monkeypatch: pytest.MonkeyPatch, queries: list[str]) -> int:
    """Search from memory and by the reference; returns how many searches found something."""
    found = 0
    for query in queries:
        for prefix in [(), ("u",), ("u", "a")]:
            mine = store.search(prefix, query=query, limit=15)
            with monkeypatch.context() as patch:
                patch.setattr(_hybrid, "rank", _reference)
                theirs = store.search(prefix, query=query, limit=15)
            assert [(h.key, h.score) for h in mine] == [(h.key, h.score) for h in theirs], query
            found += bool(mine)
    return found


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 5))) + f" c{rng.randint(0, 60)}"


def test_new_words_deletes_and_a_compaction_are_seen_by_the_next_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(2)
    queries = ["living city", "lived c7", "newword tea", "c3 c4 runs", "zzz"]
    with SqliteStore(tmp_path / "s.sqlite", index=INDEX) as store:
        store.batch(
            [
                PutOp(("u", "a" if i % 2 else "b"), f"k{i}", {"text": _text(rng)})
                for i in range(1500)
            ]
        )
        assert _alike(store, monkeypatch, queries)
        # a word no text held: its term's ids were kept empty; now a text holds it
        store.put(("u", "a"), "fresh", {"text": "newword tea living"})
        assert [h.key for h in store.search(("u",), query="newword", limit=3)][:1] == ["fresh"]
        assert _alike(store, monkeypatch, queries)
        # deleting most rows compacts the matrix: word ids and row numbers change
        store.batch([PutOp(("u", "a" if i % 2 else "b"), f"k{i}", None) for i in range(1300)])
        vectors = store._vectors
        assert vectors is not None and vectors.dead == 0  # compacted
        assert _alike(store, monkeypatch, queries) > 5
        assert all(
            h.key not in {f"k{i}" for i in range(1300)}
            for h in store.search((), query="tea", limit=50)
        )


def test_a_query_of_more_terms_than_the_column_table_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(3)
    with SqliteStore(tmp_path / "s.sqlite", index=INDEX) as store:
        store.batch([PutOp(("u", "a"), f"k{i}", {"text": _text(rng)}) for i in range(300)])
        long_query = (
            " ".join(f"c{i}" for i in range(61)) + " " + " ".join(f"x{i}" for i in range(100))
        )
        assert _alike(store, monkeypatch, [long_query, "tea " * 3])


def test_the_allowed_rows_of_a_namespace_follow_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SqliteStore(tmp_path / "s.sqlite", index=INDEX) as store:
        store.batch([PutOp(("u", "a"), f"k{i}", {"text": f"tea c{i}"}) for i in range(40)])
        assert len(store.search(("u", "a"), query="tea", limit=100)) == 40
        store.batch([PutOp(("u", "b"), f"k{i}", {"text": f"tea c{i}"}) for i in range(10)])
        assert len(store.search(("u", "a"), query="tea", limit=100)) == 40
        assert len(store.search((), query="tea", limit=100)) == 50
        store.delete(("u", "a"), "k3")
        assert "k3" not in {h.key for h in store.search(("u", "a"), query="tea", limit=100)}
        assert len(store.search((), query="tea", limit=100)) == 49
        vectors = store._vectors
        assert vectors is not None
        mask = vectors.namespace_mask(("u", "a"))
        rows = vectors.allowed_rows(mask)
        assert rows is not None and rows.tolist() == np.flatnonzero(mask).tolist()
        assert vectors.allowed_rows(vectors.namespace_mask(())) is None or vectors.dead
        assert _alike(store, monkeypatch, ["tea c5", "c3"])


def test_stored_values_read_back_as_json_loads_reads_them(tmp_path: Path) -> None:
    cases = [
        '{"text": "caf\\u00e9 tea", "n": 1.5e3, "l": [1, null, true]}',
        ' {"text": "tea spaced"} ',
        '{"text": "tea big", "n": 123456789012345678901234567890}',
        '{"text": "tea nan", "x": NaN}',
    ]
    for value in cases:
        assert _reads._loads(value) == json.loads(value) or "NaN" in value
    with pytest.raises(json.JSONDecodeError):
        _reads._loads('{"text": "tea"} trailing')
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        store.put(("u",), "a", {"text": "tea spaced"})
        raw = sqlite3.connect(path)  # another client rewrites the value with spaces around it
        raw.execute("UPDATE langmem_items SET value = ? WHERE key = 'a'", (cases[1],))
        raw.commit()
        raw.close()
        assert store.search(("u",), query="tea")[0].value == {"text": "tea spaced"}


def test_the_query_norm_is_numpys() -> None:
    rng = np.random.default_rng(5)
    for scale in (1e-30, 1e-3, 1.0, 1e3, 1e18):
        query = (rng.standard_normal(384) * scale).astype(np.float32)
        with np.errstate(over="ignore"):  # 0 or infinity at the extremes, as before
            norm = float(np.linalg.norm(query))
            expected = (query / norm if norm > 0 else query).astype(np.float32)
            assert VectorIndex.unit(query).tobytes() == expected.tobytes()
        doubled = query.astype(np.float64)  # another dtype takes np.linalg.norm itself
        assert VectorIndex.unit(doubled).dtype == np.float32
    zero = np.zeros(8, dtype=np.float32)
    assert VectorIndex.unit(zero).tolist() == [0.0] * 8


def test_the_whole_store_mask_follows_the_rows_after_room_is_made() -> None:
    index = VectorIndex(2)
    vector = np.array([1.0, 0.0], dtype=np.float32).tobytes()
    index.add([(1, 10, "docs", vector, "some text"), (2, 11, "docs", vector, "more text")])
    assert np.shares_memory(index.namespace_mask(()), index.alive)
    index.reserve(5000)  # replaces every per-row array
    mask = index.namespace_mask(())
    assert np.shares_memory(mask, index.alive)
    assert mask.tolist() == [True, True]
    index.remove([1])
    assert index.namespace_mask(()).tolist() == [False, True]
