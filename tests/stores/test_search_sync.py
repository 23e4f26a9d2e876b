"""A ranked search syncs the vector matrix only when the file changed, and never misses a change.

The store skips re-reading the change log and the recorded index when ``PRAGMA data_version``
(other connections' commits) and its own count of write transactions are both unchanged since
the snapshot it last synced to. These tests count the reads and check that every kind of change
is still seen: another handle's write, this handle's own write even when nothing refreshed the
matrix after it, and a value change that keeps the item's text (its thread for the boost).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _cosines, _sqlite_matrix, _sync

INDEX: Any = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}


@pytest.fixture
def sync_reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The vector matrix of each change-log read, in order."""
    calls: list[object] = []
    real = _sync.sync_vectors

    def counting(conn: Any, vectors: Any, last_seq: int) -> int | None:
        calls.append(vectors)
        return real(conn, vectors, last_seq)

    monkeypatch.setattr(_sqlite_matrix, "sync_vectors", counting)
    return calls


def _keys(store: SqliteStore, query: str) -> list[str]:
    return [hit.key for hit in store.search(("n",), query=query, limit=10)]


def test_an_unchanged_file_is_not_read_again_but_other_handles_writes_are_seen(
    tmp_path: Path, sync_reads: list[object]
) -> None:
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as mine, SqliteStore(path, index=INDEX) as other:
        mine.put(("n",), "a", {"text": "green tea in Lisbon"})
        assert _keys(mine, "green tea") == ["a"]

        def reads() -> int:
            return sum(1 for vectors in sync_reads if vectors is mine._vectors)

        before = reads()
        for _ in range(3):
            assert _keys(mine, "green tea") == ["a"]
        assert reads() == before  # nothing changed: no change-log read
        other.put(("n",), "b", {"text": "green tea in Oslo"})
        assert sorted(_keys(mine, "green tea")) == ["a", "b"]
        assert reads() == before + 1
        other.delete(("n",), "a")
        assert _keys(mine, "green tea") == ["b"]


def test_own_writes_are_seen_even_when_no_refresh_followed_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """data_version does not count this connection's commits: the write counter does."""
    with SqliteStore(tmp_path / "s.sqlite", index=INDEX) as store:
        store.put(("n",), "a", {"text": "green tea in Lisbon"})
        assert _keys(store, "green tea") == ["a"]
        # a search that runs between a write's commit and the store's refresh after it
        monkeypatch.setattr(store, "_refresh", lambda force=False: None)
        store.put(("n",), "b", {"text": "green tea in Oslo"})
        assert sorted(_keys(store, "green tea")) == ["a", "b"]
        store.delete(("n",), "a")
        assert _keys(store, "green tea") == ["b"]


@pytest.mark.parametrize("writer", ["same handle", "other handle"])
def test_a_new_thread_with_the_same_text_changes_the_boost(tmp_path: Path, writer: str) -> None:
    """Provenance is cached per snapshot: a value change that keeps the text still counts."""
    path = tmp_path / "s.sqlite"
    at = "2024-03-01T09:00:00"
    with SqliteStore(path, index=INDEX) as store, SqliteStore(path, index=INDEX) as other:
        store.put(
            ("n",), "strong", {"text": "green tea Lisbon", "thread_id": "t1", "created_at": at}
        )
        store.put(
            ("n",), "weak", {"text": "a walk by the river", "thread_id": "t2", "created_at": at}
        )

        def boost() -> float:
            explained = {hit.key: e for hit, e in store.explain(("n",), "green tea Lisbon")}
            return explained["weak"].thread

        assert boost() == 0.0
        assert boost() == 0.0  # second time from the cache
        moved = {"text": "a walk by the river", "thread_id": "t1", "created_at": at}
        (store if writer == "same handle" else other).put(("n",), "weak", moved)
        assert boost() > 0.0


def test_only_a_top_level_thread_id_counts(tmp_path: Path) -> None:
    """The provenance read skips values without the quoted field name; the name inside a text
    or a nested object is still not a thread."""
    at = "2024-03-01T09:00:00"
    with SqliteStore(tmp_path / "s.sqlite", index=INDEX) as store:
        store.put(
            ("n",), "strong", {"text": "green tea Lisbon", "thread_id": "t1", "created_at": at}
        )
        values: dict[str, dict[str, Any]] = {
            "top": {"text": "river walk one", "thread_id": "t1", "created_at": at},
            "nested": {"text": "river walk two", "meta": {"thread_id": "t1"}, "created_at": at},
            "quoted": {"text": 'river walk "thread_id": "t1"', "created_at": at},
        }
        for key, value in values.items():
            store.put(("n",), key, value)
        explained = {hit.key: e for hit, e in store.explain(("n",), "green tea Lisbon")}
        assert explained["top"].thread > 0.0
        assert explained["nested"].thread == 0.0 and explained["quoted"].thread == 0.0


def test_cosines_on_the_worker_thread_give_the_same_ranking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large stores on an idle machine compute the cosines on a worker thread while the lexical
    side runs; forced here on a small store, both ways must rank identically."""
    texts = [f"note {i} about {'tea' if i % 3 else 'Lisbon'} and walk {i % 7}" for i in range(60)]
    with SqliteStore(tmp_path / "s.sqlite", index=INDEX) as store:
        store.batch([PutOp(("n",), f"k{i}", {"text": t}) for i, t in enumerate(texts)])
        queries = ["tea walk 3", "Lisbon", "note 12", "nothing here"]

        def ranked() -> list[list[tuple[str, float | None]]]:
            return [
                [(hit.key, hit.score) for hit in store.search(("n",), query=q, limit=8)]
                for q in queries
            ]

        monkeypatch.setattr(_cosines, "overlaps", lambda vectors: False)
        inline = ranked()
        submitted: list[object] = []
        real_submit = store._worker.submit

        def submit(*args: Any) -> Any:
            submitted.append(args[0])
            return real_submit(*args)

        monkeypatch.setattr(_cosines, "overlaps", lambda vectors: True)
        monkeypatch.setattr(store._worker, "submit", submit)
        assert ranked() == inline
        assert len(submitted) == len(queries)  # the worker did run the cosines
