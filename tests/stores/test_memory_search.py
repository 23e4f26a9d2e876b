"""A hybrid search from memory (``_hybrid``: word postings, item origins, numpy fusion) gives
exactly what the SQL reference (``_search``: FTS5, ``langmem_term_docs``, provenance read from
the values, ``ranking.ranked_items``) gives, to the last bit, and stays current under writes.

Each store is searched twice on the same snapshot: through the store (memory) and with the
store's ranking swapped for the reference. The texts use few words with many ties at every
cut, so the order of equal scores is checked too.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langgraph.store.base import Item, PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _fused, _hybrid, _lexicon, _origins, _search, _snapshot
from langmem.stores import ranking as rules

INDEX: Any = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["text", "note"]}
COMMON = [
    "tea",
    "walk",
    "river",
    "lisbon",
    "lived",
    "lives",
    "living",
    "city",
    "cities",
    "the",
    "of",
    "and",
    "running",
    "runs",
]
START = datetime(2024, 1, 1, tzinfo=timezone.utc)
RANKINGS = [
    rules.Ranking(),
    rules.Ranking(recency_weight=0.4, recency_half_life=3600.0, thread_window=4000.0),
    rules.Ranking(thread_boost=0.0, recency_weight=0.0),
    rules.Ranking(dense_weight=0.2, b=1.0, k1=0.0),
    rules.Ranking(fusion="minmax"),
    rules.Ranking(supersede=0.3),
]


def _text(rng: random.Random) -> str:
    words = [rng.choice(COMMON) for _ in range(rng.randint(1, 6))]
    words.append(f"code{rng.randint(0, 40)}")  # rare words: a few texts each
    if rng.random() < 0.3:
        words.append(f"id{rng.randint(0, 400)}")
    return " ".join(words)


def _items(rng: random.Random, count: int, first: int = 0) -> list[Item]:
    items = []
    for i in range(first, first + count):
        when = START + timedelta(seconds=rng.randint(0, 20_000))
        value: dict[str, Any] = {"text": _text(rng)}
        if i % 3:
            value["thread_id"] = f"t{rng.randint(0, 5)}"
        if i % 4 == 0:
            value["note"] = _text(rng)
        if i % 5 == 0:
            value["created_at"] = (when + timedelta(hours=1)).isoformat()
        value["kind"] = "x" if i % 2 else "y"
        items.append(
            Item(
                namespace=("u", f"n{i % 3}"),
                key=f"k{i}",
                value=value,
                created_at=when,
                updated_at=when,
            )
        )
    return items


def _reference(search: _hybrid.Search) -> Any:
    s = search
    return _search.rank(
        s.conn,
        s.vectors,
        s.query,
        s.text,
        s.allowed,
        s.want,
        ranking=s.ranking,
        cache={},
        origins={},
    )


def _reference_explain(search: _hybrid.Search) -> Any:
    s = search
    return _search.explain(
        s.conn, s.vectors, s.query, s.text, s.allowed, s.want, s.ranking, cache={}, origins={}
    )


def _searches(rng: random.Random) -> Iterator[tuple[tuple[str, ...], str, Any, int, int]]:
    for _ in range(12):
        words = [rng.choice(COMMON) for _ in range(rng.randint(0, 3))]
        words += [f"code{rng.randint(0, 40)}" for _ in range(rng.randint(0, 2))]
        prefix: tuple[str, ...] = rng.choice([(), ("u",), ("u", "n1")])
        flt = {"kind": "x"} if rng.random() < 0.3 else None
        yield prefix, " ".join(words) or "tea", flt, rng.choice([1, 5, 10, 40]), rng.choice([0, 3])


def _same(store: SqliteStore, monkeypatch: pytest.MonkeyPatch, seed: int) -> int:
    """Search ``store`` from memory and by the reference; returns how many searches compared."""
    compared = 0
    for ranking in RANKINGS:
        store.ranking = ranking
        for prefix, query, flt, limit, offset in _searches(random.Random(seed)):
            mine = store.search(prefix, query=query, filter=flt, limit=limit, offset=offset)
            explained = store.explain(prefix, query, filter=flt, limit=limit, offset=offset)
            with monkeypatch.context() as patch:
                patch.setattr(_hybrid, "rank", _reference)
                patch.setattr(_hybrid, "explain", _reference_explain)
                theirs = store.search(prefix, query=query, filter=flt, limit=limit, offset=offset)
                why = store.explain(prefix, query, filter=flt, limit=limit, offset=offset)
            assert [(h.key, h.score) for h in mine] == [(h.key, h.score) for h in theirs]
            assert [(h.key, e) for h, e in explained] == [(h.key, e) for h, e in why]
            compared += 1
    return compared


def test_memory_and_sql_rank_alike_through_writes_by_two_handles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(1)
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store, SqliteStore(path, index=INDEX) as other:
        store.restore(_items(rng, 300))
        assert _same(store, monkeypatch, 2)
        for step in range(3):  # rows added (scanned, then merged), removed, values changed
            writer = other if step % 2 else store
            ops: list[Any] = [
                PutOp(("u", "n1"), f"k{rng.randint(0, 330)}", {"text": _text(rng)})
                for _ in range(250)
            ]
            ops += [PutOp(("u", "n2"), f"k{rng.randint(0, 330)}", None) for _ in range(40)]
            ops.append(PutOp(("u", "n1"), "k1", {"text": "tea walk", "thread_id": f"s{step}"}))
            writer.batch(ops)
            assert _same(store, monkeypatch, 3 + step)
        assert store._vectors is not None and store._vectors.unplain == 0


def test_a_text_that_is_not_plain_ascii_falls_back_to_fts5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FTS5 may split non-ASCII text otherwise than ``ranking.tokens``: the lexical side is then
    read from FTS5, still with the same results."""
    calls: list[int] = []
    real = _search._lexical_side
    monkeypatch.setattr(
        _search,
        "_lexical_side",
        lambda *a: calls.append(1) or real(*a),  # type: ignore[func-returns-value]
    )
    rng = random.Random(4)
    with SqliteStore(tmp_path / "s.sqlite", index=INDEX) as store:
        store.restore(_items(rng, 120))
        store.search(("u",), query="tea code3")
        assert not calls
        store.put(("u", "n1"), "cafe", {"text": "café naïve code3 Zoë"})
        assert [h.key for h in store.search(("u",), query="cafe code3", limit=50)]
        assert calls
        assert _same(store, monkeypatch, 5)
        store.delete(("u", "n1"), "cafe")
        calls.clear()
        store.search(("u",), query="tea code3")
        assert not calls  # plain again: from memory


def test_fts5_order_is_the_order_of_fts5_bm25_with_ties(tmp_path: Path) -> None:
    rng = random.Random(6)
    with SqliteStore(tmp_path / "s.sqlite", index=INDEX) as store:
        store.restore(_items(rng, 400))
        store.search(("u",), query="tea")  # loads the matrix
        vectors = store._vectors
        assert vectors is not None and vectors.lexicon.ready()
        conn = store._conn
        for words in (["code1"], ["code2", "code7", "id5"], ["tea", "code3"], ["runs", "lives"]):
            ids = vectors.lexicon.ids(words)
            docs = vectors.lexicon.documents(ids)
            stored = dict(conn.execute("SELECT term, docs FROM langmem_term_docs").fetchall())
            assert docs == [stored.get(w, 0) for w in words]
            rows, counts = vectors.lexicon.matching(ids)
            mine = vectors.vector_ids[vectors.lexicon.fts5_order(rows, counts, docs)].tolist()
            theirs = [
                rowid
                for (rowid,) in conn.execute(
                    "SELECT rowid FROM langmem_fts WHERE langmem_fts MATCH ?"
                    " ORDER BY bm25(langmem_fts) LIMIT 100000",
                    (_search.fts_query(words),),
                )
            ]
            assert mine == theirs


def test_fused_ranking_equals_the_rule_on_generated_candidates() -> None:
    rng = random.Random(8)
    rankings = [*RANKINGS[:4], rules.Ranking(thread_boost=2.0, thread_window=50.0)]
    for case in range(400):
        terms = rules.query_terms(" ".join(rng.choice(COMMON) for _ in range(rng.randint(0, 4))))
        count = rng.randint(0, 60)
        items = np.array([rng.randint(0, 40) for _ in range(count)], dtype=np.int64)
        cosines = np.array(
            [round(rng.uniform(-0.3, 1.0), rng.choice([1, 2, 7])) for _ in range(count)]
        )
        counts = np.array(
            [[rng.choice([0, 0, 1, 2]) for _ in terms] for _ in range(count)], dtype=np.int64
        ).reshape(count, len(terms))
        lengths = np.array([rng.randint(1, 12) for _ in range(count)], dtype=np.int64)
        item_thread = {i: rng.choice([-1, 0, 1, 2]) for i in range(41)}
        item_time = {i: rng.choice([np.nan, 1.7e9 + rng.uniform(0, 3000)]) for i in range(41)}
        threads = np.array([item_thread[i] for i in items.tolist()], dtype=np.int32)
        times = np.array([item_time[i] for i in items.tolist()], dtype=np.float64)
        corpus = rules.Corpus(
            rng.randint(60, 500), rng.uniform(0.5, 9.0), {t: rng.randint(0, 70) for t in terms}
        )
        ranking = rankings[case % len(rankings)]
        names = ["a", "b", "c"]
        candidates = [
            rules.Candidate(
                item,
                cosine,
                rules.Document({t: n for t, n in zip(terms, row) if n}, length),
                names[thread] if thread >= 0 else None,
                None if np.isnan(when) else when,
            )
            for item, cosine, row, length, thread, when in zip(
                items.tolist(),
                cosines.tolist(),
                counts.tolist(),
                lengths.tolist(),
                threads.tolist(),
                times.tolist(),
            )
        ]
        expected = rules.ranked_items(candidates, terms, corpus, ranking)
        got = _fused.ranked(items, cosines, counts, lengths, threads, times, terms, corpus, ranking)
        assert got == expected, case
        assert [s.hex() for s, _ in got] == [s.hex() for s, _ in expected]


def test_fused_ranking_covers_only_what_it_computes() -> None:
    assert _fused.covers(rules.Ranking())
    assert not _fused.covers(rules.Ranking(fusion="rrf"))
    assert not _fused.covers(rules.Ranking(redundancy=0.5))
    assert not _fused.covers(rules.Ranking(supersede=0.3))
    assert not _fused.covers(rules.Ranking(feedback_docs=3))


def test_item_origins_follow_every_writer_and_a_pruned_log(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        store.put(("n",), "a", {"text": "tea", "thread_id": "t1", "created_at": "2024-01-01"})
        store.search(("n",), query="tea")
        kept = store._item_origins
        assert kept.loaded and kept.usable and kept.names == ["t1"]
        # another client (no langmem) changes the value but not the text: the triggers log it
        raw = sqlite3.connect(path)
        raw.execute("UPDATE langmem_items SET value = ? WHERE key = 'a'", ('{"text": "tea"}',))
        raw.commit()
        store.search(("n",), query="tea")
        item = raw.execute("SELECT id FROM langmem_items WHERE key = 'a'").fetchone()[0]
        times, threads = kept.of(np.array([item]))
        assert threads.tolist() == [-1] and times[0] == times[0]  # column created_at
        # the log pruned past what this handle read: everything is read again
        raw.execute("UPDATE langmem_items SET value = ? WHERE key = 'a'", ('{"thread_id": 7}',))
        raw.execute("DELETE FROM langmem_item_changes")
        raw.execute("INSERT INTO langmem_item_changes (item_id) VALUES (-5)")
        raw.commit()
        raw.close()
        store.search(("n",), query="tea")
        assert [kept.names[t] for t in kept.of(np.array([item]))[1].tolist()] == ["7"]


def test_without_the_item_log_provenance_is_read_with_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        store.restore(_items(random.Random(9), 80))
    raw = sqlite3.connect(path)
    raw.execute("DROP TABLE langmem_item_changes")
    raw.commit()
    raw.close()
    with SqliteStore(path, index=INDEX) as store:
        assert _same(store, monkeypatch, 10)
        assert not store._item_origins.usable


def test_sparse_item_ids_are_not_kept_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_origins, "_SPARSE_FLOOR", 10)
    kept = _origins.ItemOrigins()
    kept._put([(1, None, None, "2024-01-01T00:00:00+00:00")], everything=True)
    assert kept.usable
    kept._put([(10_000, "t", None, "2024-01-01T00:00:00+00:00")], everything=False)
    assert not kept.usable


def test_a_new_handle_takes_the_origins_from_the_matrix_cache_then_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_snapshot, "MIN_ROWS", 10)
    monkeypatch.delenv(_snapshot.ENV, raising=False)
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        store.restore(_items(random.Random(11), 120))
        store.search(("u",), query="tea code3")  # loads from SQLite, writes the cache
    with SqliteStore(path, index=INDEX) as other:  # a change the cache does not hold
        other.put(("u", "n1"), "k1", {"text": "tea walk", "thread_id": "moved"})
    read: list[int] = []
    real = _origins.ItemOrigins._put
    monkeypatch.setattr(
        _origins.ItemOrigins,
        "_put",
        lambda self, rows, everything: (
            read.append(len(rows)) or real(self, rows, everything=everything)
        ),  # type: ignore[func-returns-value]
    )
    with SqliteStore(path, index=INDEX) as fresh:
        assert _same(fresh, monkeypatch, 12)
        assert fresh._vectors is not None and fresh._vectors.installed
        assert read == [1]  # only the item written after the cache was read
        assert "moved" in fresh._item_origins.names


@pytest.mark.parametrize("top", [5, 300, 70_000, 2**31 - 1])
def test_the_postings_sort_is_a_stable_argsort(top: int) -> None:
    rng = np.random.default_rng(top)
    for size in (0, 1, 17, 5000):
        ids = rng.integers(0, top, size=size).astype(np.int32)
        assert _lexicon._stable_order(ids).tolist() == np.argsort(ids, kind="stable").tolist()
