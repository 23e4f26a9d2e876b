"""Opening and loading the embedded store: stored text lengths, the lazy matrix, the matrix cache.

Every test compares against what a store without the shortcut computes (lengths analyzed from
the texts, a matrix loaded row by row from SQLite), so a shortcut can never change a score.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langgraph.store.base import Item

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _lengths, _migrations, _snapshot, copy_store
from langmem.stores import ranking as rules
from langmem.stores._migrations import MIGRATIONS

WORDS = "tea coffee Berlin Lisbon marathon jazz piano vegan cycling garden lives lived living"


def _index(dims: int = 32) -> Any:
    return {"dims": dims, "embed": HashingEmbeddings(dims), "fields": ["text"]}


def _text(i: int) -> str:
    words = WORDS.split()
    return " ".join(words[(i * k) % len(words)] for k in range(1, 2 + i % 7)) + f" note {i}"


def _fill(store: SqliteStore, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        store.put(("u", f"user-{i % 3}"), f"k{i}", {"text": _text(i)})


def _stored(path: Path) -> list[tuple[str, int | None]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT text, lm_length FROM langmem_vectors ORDER BY id").fetchall()
    finally:
        conn.close()


def _assert_lengths_exact(path: Path) -> None:
    rows = _stored(path)
    assert rows and all(length == rules.length(text) for text, length in rows)


def _explained(store: SqliteStore, query: str) -> list[tuple[str, Any]]:
    return [(item.key, why) for item, why in store.explain(("u",), query, limit=8)]


def _total(store: SqliteStore) -> int:
    store.search(("u",), query="tea")  # a ranked read loads and syncs the matrix
    assert store._vectors is not None
    return store._vectors.total_length


def _expected_total(path: Path) -> int:
    return sum(rules.length(text) for text, _ in _stored(path))


# -- stored lengths ------------------------------------------------------------------------------


def test_every_write_path_stores_each_texts_analyzed_length(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path, index=_index())
    _fill(store, 12)
    store.put(("u", "user-0"), "k0", {"text": "Alice moved to Porto, living there"})  # update
    store.delete(("u", "user-1"), "k1")
    when = time.time()
    restored = Item(
        value={"text": "restored: jazz piano lessons"},
        key="r1",
        namespace=("u", "user-9"),
        created_at=datetime.fromtimestamp(when, tz=timezone.utc),
        updated_at=datetime.fromtimestamp(when, tz=timezone.utc),
    )
    store.restore([restored])
    _assert_lengths_exact(path)
    store.reembed(_index(48))  # every vector row is written again
    _assert_lengths_exact(path)
    assert _total(store) == _expected_total(path)
    copy = SqliteStore(tmp_path / "copy.sqlite", index=_index(48))
    copy_store(store, copy)
    _assert_lengths_exact(tmp_path / "copy.sqlite")
    assert _total(copy) == _total(store)


def test_migration_fills_the_lengths_of_a_file_written_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite"
    with monkeypatch.context() as patch:  # a file as langmem wrote it before migration 5
        patch.setattr(_migrations, "MIGRATIONS", MIGRATIONS[:4])
        old = SqliteStore(path, index=_index())
        _fill(old, 9)
        old.close()
    conn = sqlite3.connect(path)
    assert "lm_length" not in {row[1] for row in conn.execute("PRAGMA table_info(langmem_vectors)")}
    conn.close()
    upgraded = SqliteStore(path, index=_index())
    _assert_lengths_exact(path)
    assert _total(upgraded) == _expected_total(path)


def test_rows_without_a_length_are_analyzed_when_a_search_needs_the_total(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path, index=_index())
    _fill(store, 6)
    # another writer (an older langmem, say) leaves some lengths out
    conn = sqlite3.connect(path)
    conn.execute("UPDATE langmem_vectors SET lm_length = NULL WHERE id % 2 = 0")
    conn.commit()
    conn.close()
    fresh = SqliteStore(path, index=_index())
    assert _total(fresh) == _expected_total(path)
    fresh.delete(("u", "user-0"), "k0")
    fresh.delete(("u", "user-1"), "k1")
    assert _total(fresh) == _expected_total(path)


def test_lengths_counted_by_another_analyzer_are_recounted_or_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path, index=_index())
    _fill(store, 6)
    store.close()
    conn = sqlite3.connect(path)  # as if another langmem version had counted them differently
    conn.execute("UPDATE langmem_vectors SET lm_length = lm_length + 7")
    conn.execute("UPDATE langmem_meta SET value = 'v0:other' WHERE key = ?", (_lengths.META_KEY,))
    conn.commit()
    conn.close()
    reopened = SqliteStore(path, index=_index())  # re-counts with this analyzer
    _assert_lengths_exact(path)
    assert _total(reopened) == _expected_total(path)
    # a process whose analyzer differs from the file's ignores the stored lengths...
    monkeypatch.setattr(_lengths, "analyzer", lambda: "v0:other")
    conn = sqlite3.connect(path)
    conn.execute("UPDATE langmem_vectors SET lm_length = lm_length + 7")
    conn.execute("UPDATE langmem_meta SET value = 'v9:newer' WHERE key = ?", (_lengths.META_KEY,))
    conn.commit()
    conn.close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert not _lengths.current(conn)
    conn.close()
    reader = SqliteStore(f"file:{path}?mode=ro")  # cannot re-count a read-only file
    assert reader._vectors is not None
    assert _total(reader) == _expected_total(path)
    # ...and writes none of its own
    reader.close()
    writer = SqliteStore(path, index=_index())  # re-counts, then writes lengths for "v0:other"
    writer.put(("u", "user-0"), "new", {"text": "jazz piano and tea"})
    assert _stored(path)[-1][1] == rules.length("jazz piano and tea")


# -- the matrix loads on the first ranked read only ---------------------------------------------


def test_reads_and_writes_without_a_query_never_load_the_matrix(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _fill(SqliteStore(path, index=_index()), 5)
    store = SqliteStore(path, index=_index())
    store.put(("u", "user-0"), "new", {"text": "green tea"})
    assert store.get(("u", "user-0"), "new") is not None
    assert len(store.search(("u",), limit=50)) == 6
    assert store.list_namespaces(prefix=("u",)) == [("u", f"user-{i}") for i in range(3)]
    store.delete(("u", "user-0"), "new")
    assert store._vectors is not None and len(store._vectors) == 0 and not store._loaded
    assert store.search(("u",), query="tea", limit=3)
    assert store._loaded and len(store._vectors) == 5
    other = SqliteStore(path, index=_index())
    other.put(("u", "user-2"), "late", {"text": "a late note about tea"})
    assert "late" in [hit.key for hit in store.search(("u",), query="late note tea", limit=3)]


# -- the matrix cache ---------------------------------------------------------------------------


def _uncached(path: Path, monkeypatch: pytest.MonkeyPatch) -> SqliteStore:
    with monkeypatch.context() as patch:
        patch.setenv(_snapshot.ENV, "0")
        return SqliteStore(path, index=_index())


def _loaded_from_cache(store: SqliteStore) -> bool:
    assert store._vectors is not None
    return store._vectors.installed


QUERIES = ["tea Berlin", "living lives", "note 7", "jazz piano vegan garden"]


def _cached(tmp_path: Path, count: int) -> tuple[Path, SqliteStore]:
    """A store file of ``count`` texts whose first search wrote the matrix cache."""
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path, index=_index())
    _fill(store, count)
    store.search(("u",), query="tea")  # loads from SQLite and writes the cache
    return path, store


def _assert_same_ranking(store: SqliteStore, reference: SqliteStore, queries: list[str]) -> None:
    for query in queries:
        assert _explained(store, query) == _explained(reference, query)


@pytest.mark.usefixtures("small_cache")
def test_a_new_handle_loads_the_cache_and_ranks_exactly_as_from_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, first = _cached(tmp_path, 40)
    cache = Path(f"{path}{_snapshot.SUFFIX}")
    assert cache.exists() and not _loaded_from_cache(first)
    second = SqliteStore(path, index=_index())
    reference = _uncached(path, monkeypatch)
    _assert_same_ranking(second, reference, QUERIES)
    assert _loaded_from_cache(second) and not _loaded_from_cache(reference)
    vectors, expected = second._vectors, reference._vectors
    assert vectors is not None and expected is not None
    assert vectors.total_length == expected.total_length == _expected_total(path)
    rows = np.argsort(vectors.vector_ids[: vectors.size])
    ref_rows = np.argsort(expected.vector_ids[: expected.size])
    assert np.array_equal(vectors.matrix[rows], expected.matrix[ref_rows])  # bit for bit
    # the cached handle keeps up with writes like any other
    second.put(("u", "user-1"), "k3", {"text": "Porto, and nothing else"})
    first.delete(("u", "user-2"), "k5")
    _assert_same_ranking(second, reference, [*QUERIES, "Porto"])


@pytest.mark.usefixtures("small_cache")
def test_changes_after_the_cache_are_applied_from_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, writer = _cached(tmp_path, 40)
    # other processes write after the cache was made: puts, updates, deletes, a TTL sweep
    _fill(writer, 5, start=40)
    writer.put(("u", "user-0"), "k0", {"text": "k0 now says Lisbon jazz"})
    writer.delete(("u", "user-1"), "k1")
    writer.put(("u", "user-2"), "short", {"text": "expiring tea note"}, ttl=0.0001)
    time.sleep(0.05)
    assert writer.sweep_ttl() == 1
    fresh = SqliteStore(path, index=_index())
    reference = _uncached(path, monkeypatch)
    _assert_same_ranking(fresh, reference, [*QUERIES, "Lisbon jazz"])
    assert _loaded_from_cache(fresh)
    assert fresh._vectors is not None and fresh._vectors.total_length == _expected_total(path)


@pytest.mark.usefixtures("small_cache")
@pytest.mark.parametrize("damage", ["token", "truncated", "garbage", "reembedded", "pruned"])
def test_a_cache_that_does_not_match_the_file_is_never_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    path, store = _cached(tmp_path, 30)
    cache = Path(f"{path}{_snapshot.SUFFIX}")
    conn = sqlite3.connect(path)
    if damage == "token":  # e.g. a backup restored from before the cache was written
        conn.execute("UPDATE langmem_meta SET value = 'x' WHERE key = ?", (_snapshot.META_KEY,))
    elif damage == "truncated":
        cache.write_bytes(cache.read_bytes()[:-100])
    elif damage == "garbage":
        cache.write_bytes(b"not a cache at all")
    elif damage == "pruned":  # the log no longer holds every change after the cache
        store.put(("u", "user-0"), "k0", {"text": "rewritten after the cache"})
        conn.execute(
            "DELETE FROM langmem_changes WHERE seq < (SELECT MAX(seq) FROM langmem_changes)"
        )
    conn.commit()
    conn.close()
    if damage == "reembedded":
        store.reembed(_index())  # same model, new vectors and generation
    fresh = SqliteStore(path, index=_index())
    reference = _uncached(path, monkeypatch)
    _assert_same_ranking(fresh, reference, QUERIES)
    assert not _loaded_from_cache(fresh)
    # the fresh handle loaded from SQLite and wrote a valid cache again
    again = SqliteStore(path, index=_index())
    assert _explained(again, "tea") == _explained(reference, "tea")
    assert _loaded_from_cache(again)


def test_no_cache_for_small_stores_memory_stores_or_when_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = tmp_path / "small.sqlite"
    store = SqliteStore(small, index=_index())
    _fill(store, 12)
    store.search(("u",), query="tea")
    assert not Path(f"{small}{_snapshot.SUFFIX}").exists()  # below MIN_ROWS
    monkeypatch.setattr(_snapshot, "MIN_ROWS", 10)
    memory = SqliteStore(":memory:", index=_index())
    _fill(memory, 12)
    assert memory.search(("u",), query="tea") and memory._cache is None
    monkeypatch.setenv(_snapshot.ENV, "0")
    off = tmp_path / "off.sqlite"
    store = SqliteStore(off, index=_index())
    _fill(store, 12)
    store.search(("u",), query="tea")
    assert not Path(f"{off}{_snapshot.SUFFIX}").exists()


@pytest.mark.usefixtures("small_cache")
def test_processes_writing_the_same_file_keep_a_cached_load_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    index = _index(64)  # the worker's index
    store = SqliteStore(path, index=index)
    for i in range(30):
        store.put(("shared",), f"seed-{i}", {"text": f"seed note {i} about topic {i % 7}"})
    store.search(("shared",), query="topic")  # writes the cache
    worker = str(Path(__file__).with_name("_reliability_worker.py"))
    writers = [
        subprocess.Popen(
            [sys.executable, worker, "mixed", str(path), name, "25"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    for writer in writers:  # both load the cached matrix, then write and search together
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert json.loads(out.strip().splitlines()[-1])["failures"] == []
    fresh = SqliteStore(path, index=index)
    with monkeypatch.context() as patch:
        patch.setenv(_snapshot.ENV, "0")
        reference = SqliteStore(path, index=index)
    for query in ["round 7", "topic 3", "seed note", "shared slot by b"]:
        got = [(i.key, w) for i, w in fresh.explain(("shared",), query, limit=8)]
        assert got == [(i.key, w) for i, w in reference.explain(("shared",), query, limit=8)]
    assert _loaded_from_cache(fresh) and not _loaded_from_cache(reference)


@pytest.mark.usefixtures("small_cache")
def test_a_busy_file_gets_no_cache_and_the_next_handle_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _fill(SqliteStore(path, index=_index()), 20)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is in the middle of a write
    store = SqliteStore(path, index=_index())
    assert store.search(("u",), query="tea", limit=3)
    holder.execute("ROLLBACK")
    holder.close()
    cache = Path(f"{path}{_snapshot.SUFFIX}")
    assert not cache.exists()  # no token could be recorded, so no file was written
    again = SqliteStore(path, index=_index())
    assert again.search(("u",), query="tea", limit=3)
    assert cache.exists() and list(tmp_path.glob("*.tmp")) == []
