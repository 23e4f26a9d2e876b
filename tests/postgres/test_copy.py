"""copy_store: SQLite -> PostgreSQL -> SQLite keeps every namespace, key, value, timestamp,
TTL, text and vector, and both stores then answer queries alike."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.errors import ConfigurationError
from langmem.stores import PostgresStore, SqliteStore, copy_store, progress_bar
from langmem.stores._copy import StoredItem, _reader
from langmem.stores.ranking import Ranking

DIMS = 24


def _index() -> dict[str, object]:
    return {"dims": DIMS, "embed": HashingEmbeddings(DIMS), "fields": ["text", "tags[*]"]}


def _snapshot(store: object) -> dict[tuple[str, str], StoredItem]:
    items = [i for batch in _reader(store, 7) for i in batch]  # type: ignore[arg-type]
    for item in items:
        item.vectors.sort()
    return {(i.prefix, i.key): i for i in items}


def _fill(store: SqliteStore) -> None:
    store.put(("users", "ana", "facts"), "k1", {"text": "Ana's flight LH-1234 lands 7:45"})
    store.put(("users", "ana", "facts"), "k2", {"text": "likes crème brûlée", "n": 2.5})
    store.put(("users", "bo"), "k1", {"text": "Bo", "tags": ["chess", "tea"], "x": None})
    store.put(("users", "bo"), "plain", {"text": "never indexed"}, index=False)
    store.put(("ttl",), "soon", {"text": "expires in an hour"}, ttl=60)
    for i in range(30):
        store.put(("bulk", str(i % 3)), f"item-{i}", {"text": f"note {i} about topic {i % 5}"})


def test_copy_both_ways_is_lossless(tmp_path: Path, pg_database: str) -> None:
    source = SqliteStore(tmp_path / "a.sqlite", index=_index())  # type: ignore[arg-type]
    _fill(source)
    pg = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    back = SqliteStore(tmp_path / "b.sqlite", index=_index())  # type: ignore[arg-type]
    try:
        out = io.StringIO()
        assert copy_store(source, pg, batch_size=8, progress=progress_bar(out)) == 35
        assert out.getvalue().endswith("35/35\n")
        original = _snapshot(source)
        assert _snapshot(pg) == original
        assert len(original[("users.bo", "k1")].vectors) == 3  # text + two tags
        assert original[("users.bo", "plain")].vectors == []
        assert original[("ttl", "soon")].expires_at is not None

        seen: list[tuple[int, int]] = []
        assert copy_store(pg, back, progress=lambda d, t: seen.append((d, t))) == 35
        assert seen[0] == (0, 35) and seen[-1] == (35, 35)
        assert _snapshot(back) == original

        stores = (source, pg, back)
        marked_down = 0
        for query in ["LH-1234 flight", "chess", "topic 3 note", "dessert"]:
            # every item, so equal scores (ordered differently by each store) are all in view
            def ranked(store: object, query: str = query) -> list[tuple[float, str]]:
                hits = store.search((), query=query, limit=50)  # type: ignore[attr-defined]
                return sorted(((round(h.score, 5), h.key) for h in hits), reverse=True)

            # item by item without redundancy: which of two exactly tied near-duplicates is
            # marked down follows each store's order of ties (hash collisions tie here)
            for store in stores:
                store.ranking = Ranking(redundancy=0.0)  # type: ignore[attr-defined]
            expected = ranked(source)
            assert len(expected) == 34
            assert ranked(pg) == expected and ranked(back) == expected, query
            for store in stores:
                store.ranking = Ranking(redundancy=0.3)  # type: ignore[attr-defined]
            scores = [score for score, _ in ranked(source)]
            marked_down += scores != [score for score, _ in expected]
            for store in (pg, back):
                assert [score for score, _ in ranked(store)] == scores, query
        assert marked_down, "redundancy never at work: the last check proves nothing"
    finally:
        for store in (source, pg, back):
            store.close()


def test_copy_refuses_other_dims_before_writing(tmp_path: Path, pg_database: str) -> None:
    source = SqliteStore(tmp_path / "a.sqlite", index=_index())  # type: ignore[arg-type]
    source.put(("n",), "1", {"text": "hello"})
    pg = PostgresStore.from_url(pg_database, index={"dims": 8, "embed": HashingEmbeddings(8)})
    try:
        with pytest.raises(ConfigurationError, match="24-dim vector"):
            copy_store(source, pg)
        assert pg.get(("n",), "1") is None
    finally:
        source.close()
        pg.close()
