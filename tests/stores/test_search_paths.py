"""The fast paths of a ranked SQLite search compute exactly what the plain ones do.

A search hands the cosines to a worker thread (and computes them itself when the worker has
not started), counts only the query's terms in candidate texts (with the length stored beside
each vector), reads packed texts of an installed matrix in one go, and caches items' origins
without their time when no recency is asked. Each is checked here against the plain
computation, to the last bit.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langgraph.store.base import Item

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _cosines, _search
from langmem.stores import ranking as rules
from langmem.stores._vectors import Packed, VectorIndex

WORDS = [
    "Alice",
    "lives",
    "lived",
    "living",
    "lively",
    "Lisbon",
    "Zoë's",
    "café",
    "naïve",
    "ÉCOLE",
    "straße",
    "ﬁnal",
    "2019",
    "LH-1234",
    "07:45",
    "the",
    "of",
    "and",
    "is",
    "was",
    "does",
    "doe",
    "glass",
    "boxes",
    "cities",
    "city",
    "running",
    "runs",
    "s",
    "t",
    "x9",
    "_under_",
    "Привет",
    "мир",
    "東京",
    "ℍotel",
    "İstanbul",
    "ΣΟΦΟΣ",
]


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 12)))


def _index(texts: list[str], dims: int = 8) -> VectorIndex:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((len(texts), dims)).astype(np.float32)
    index = VectorIndex(dims)
    index.add(
        (i + 1, i + 1, "n", vectors[i].tobytes(), text, rules.length(text))
        for i, text in enumerate(texts)
    )
    return index


def test_counting_only_query_terms_gives_the_bm25_of_the_whole_text() -> None:
    rng = random.Random(7)
    texts = [_text(rng) for _ in range(400)]
    index = _index(texts)
    ranking = rules.Ranking()
    for _ in range(150):
        terms = rules.query_terms(_text(rng))
        rows = rng.sample(range(len(texts)), 60)
        vector_ids = index.vector_ids[rows].tolist()
        weights = {t: rng.uniform(0.1, 3.0) for t in terms}
        for row, counted in zip(rows, _search._documents(index, vector_ids, terms, rows)):
            whole = rules.document(texts[row])
            assert set(counted.terms) == {t for t in terms if t in whole.terms}
            assert rules.bm25(counted, weights, 5.5, ranking) == rules.bm25(
                whole, weights, 5.5, ranking
            )


def test_a_text_without_a_stored_length_is_analyzed_whole() -> None:
    index = VectorIndex(2)
    index.add([(1, 1, "n", np.ones(2, dtype=np.float32).tobytes(), "Alice lives in Lisbon")])
    (document,) = _search._documents(index, [1], ["alic", "liv"], [0])
    assert document == rules.document("Alice lives in Lisbon")


def test_cosines_on_the_worker_are_the_same_floats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_cosines, "overlaps", lambda vectors: True)
    index, query = _random(3000, 48, seed=11)
    plain = index.cosines(query)
    ran: list[tuple[str, int]] = []  # (thread, rows) of each block of cosines
    dot = _cosines.dot

    def recorded(rows: Any, unit: Any, out: Any) -> None:
        ran.append((threading.current_thread().name, len(rows)))
        dot(rows, unit, out)

    monkeypatch.setattr(_cosines, "dot", recorded)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="w") as worker:
        shared, result, top = _cosines.cosines_beside(index, query, lambda: 7, worker, _top3)
    assert result == 7
    assert shared.tobytes() == plain.tobytes()
    assert top == _top3(plain)
    # the worker took its share of the rows, this thread the rest
    assert sorted(ran) == sorted(
        [
            ("w_0", int(3000 * _cosines.SHARE)),
            (threading.current_thread().name, 3000 - int(3000 * _cosines.SHARE)),
        ]
    )
    alone, _, top = _cosines.cosines_beside(index, query, _none, None, _top3)
    assert alone.tobytes() == plain.tobytes() and top == _top3(plain)


def test_a_busy_worker_is_not_waited_for(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the worker has not started the cosines by the time this thread is done with its
    other work, this thread computes them (same floats) instead of waiting."""
    monkeypatch.setattr(_cosines, "overlaps", lambda vectors: True)
    index, query = _random(5000, 16, seed=5)
    release = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(release.wait)  # the worker is busy with something else
        shared, _, top = _cosines.cosines_beside(index, query, _none, worker, _top3)
        release.set()
    assert shared.tobytes() == index.cosines(query).tobytes()
    assert top == _top3(shared)


def _random(rows: int, dims: int, seed: int) -> tuple[VectorIndex, Any]:
    """An index of ``rows`` random vectors, and a random query."""
    rng = np.random.default_rng(seed)
    index = VectorIndex(dims)
    vectors = rng.standard_normal((rows, dims)).astype(np.float32)
    index.add((i, i, "n", vectors[i].tobytes(), "") for i in range(rows))
    return index, rng.standard_normal(dims).astype(np.float32)


def _none() -> None:
    return None


def _top3(cosines: Any) -> list[int]:
    return [int(i) for i in np.argsort(-cosines, kind="stable")[:3]]


def test_packed_texts_are_found_in_one_search() -> None:
    ids = np.array([40, 3, 17, 8], dtype=np.int64)
    texts = ["forty", "three é", "", "eight"]
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(5, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    packed = Packed(ids, offsets, b"".join(encoded))
    assert packed.texts([17, 3, 99, 40, 8, 3]) == ["", "three é", None, "forty", "eight", "three é"]
    assert packed.text(8) == "eight" and packed.text(2) is None
    assert Packed(ids[:0], offsets[:1], b"").texts([1]) == [None]


def test_recency_asked_after_a_search_without_it_reads_every_time(tmp_path: Path) -> None:
    """Origins are cached per snapshot, without the time of items that have no thread when no
    recency was asked; a later search with recency must still see every item's time."""
    index: Any = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    items = [
        Item(
            namespace=("n",),
            key=f"k{i}",
            value={"text": f"tea note {i} walk"} | ({"thread_id": "t"} if i % 2 else {}),
            created_at=start + timedelta(days=i),
            updated_at=start + timedelta(days=i),
        )
        for i in range(30)
    ]
    recency = rules.Ranking(recency_weight=0.5, recency_half_life=5 * 86400.0)

    def explained(store: SqliteStore) -> list[tuple[str, float, float]]:
        return [
            (hit.key, why.score, why.recency)
            for hit, why in store.explain(("n",), "tea walk", limit=30)
        ]

    with SqliteStore(tmp_path / "a.sqlite", index=index) as store:
        store.restore(items)
        store.search(("n",), query="tea walk", limit=30)  # caches origins without times
        store.ranking = recency
        after = explained(store)
    with SqliteStore(tmp_path / "b.sqlite", index=index, ranking=recency) as fresh:
        fresh.restore(items)
        assert explained(fresh) == after
    assert sum(1 for _, _, boost in after if boost > 0) == 30


def test_provenance_reads_threaded_items_through_their_index_or_without_it(
    tmp_path: Path,
) -> None:
    """Only items whose value names a ``thread_id`` are read for provenance (a partial index);
    a file without that index (dropped, say) gives the same boosts by reading every value."""
    index: Any = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    values: list[dict[str, Any]] = []
    for i in range(40):
        value: dict[str, Any] = {"text": f"tea walk note {i}"}
        if i % 3 == 0:
            value["thread_id"] = f"t{i % 2}"
        elif i % 3 == 1:
            value["meta"] = {"thread_id": "nested, not a thread"}
        values.append(value)
    items = [
        Item(
            namespace=("n",),
            key=f"k{i}",
            value=value,
            created_at=start + timedelta(seconds=20 * i),
            updated_at=start + timedelta(seconds=20 * i),
        )
        for i, value in enumerate(values)
    ]
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=index) as store:
        store.restore(items)
        with_index = store.explain(("n",), "tea walk", limit=40)
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX langmem_items_threaded")
    conn.commit()
    conn.close()
    with SqliteStore(path, index=index) as store:
        without = store.explain(("n",), "tea walk", limit=40)
    assert [(hit.key, why) for hit, why in with_index] == [(hit.key, why) for hit, why in without]
    boosted = {hit.key for hit, why in with_index if why.thread > 0}
    assert boosted and all(int(key[1:]) % 3 == 0 for key in boosted)


def test_the_threaded_index_is_the_condition_the_search_names(tmp_path: Path) -> None:
    """Migration 7 writes its condition out (a committed migration must not follow later code);
    the search's ``INDEXED BY`` needs that condition to be ``_search.THREADED`` exactly."""
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index={"dims": 8, "embed": HashingEmbeddings(8)}):
        pass
    conn = sqlite3.connect(path)
    (sql,) = conn.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'langmem_items_threaded'"
    ).fetchone()
    conn.close()
    assert sql.endswith(f"WHERE {_search.THREADED}")
