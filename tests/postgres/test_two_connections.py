"""A hybrid search sends its vector query on a second pooled connection when one is free, so
the server runs it beside the word queries; the pool lends connections without a round trip
unless the server has ended them. Same results either way, no waiting for a busy pool."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from langmem.stores import PostgresStore, _pg_connect
from langmem.stores.ranking import Ranking
from langmem.testing import HashingEmbeddings

TOPICS = ["flight", "tea", "chess", "nurse", "river", "garden", "piano", "bicycle"]
QUERIES = ["piano in city 2", "Alice flight", "garden river nurse", "chess tea"]


def _store(url: str, **options: Any) -> PostgresStore:
    index = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["content"]}
    return PostgresStore.from_url(url, index=index, **options)  # type: ignore[arg-type]


def _fill(store: PostgresStore) -> None:
    for i in range(40):
        text = f"Note {i}: Alice talked about the {TOPICS[i % len(TOPICS)]} in city {i % 5}"
        store.put(("notes", "work" if i % 3 else "home"), f"n{i:02d}", {"content": text})


def _results(store: PostgresStore) -> list[list[tuple[float, str]]]:
    """Each query's hits as (score, key), sorted; keys at the lowest score left out (equal
    scores are in the backend's order, and a hit past the limit may share the lowest)."""
    out = []
    for query in QUERIES:
        hits = [
            (round(h.score or 0.0, 6), h.key)
            for h in store.search(("notes",), query=query, limit=6)
        ]
        lowest = min((score for score, _ in hits), default=0.0)
        out.append(sorted((score, key if score > lowest else "") for score, key in hits))
    return out


def _count_spares(store: PostgresStore) -> list[bool]:
    """Patch ``store._spare`` to record, per search, whether a second connection was lent."""
    used: list[bool] = []
    original = store._spare

    @contextmanager
    def spare() -> Iterator[Any]:
        with original() as conn:
            used.append(conn is not None)
            yield conn

    store._spare = spare  # type: ignore[method-assign]
    return used


@pytest.mark.parametrize("exact_max", [5000, 0], ids=["exact", "hnsw"])
def test_two_connections_find_what_one_finds(pg_database: str, exact_max: int) -> None:
    store = _store(pg_database, exact_max=exact_max, ef_search=400, pool_size=2)
    try:
        _fill(store)
        used = _count_spares(store)
        together = _results(store)
        assert used and all(used)  # every search ran its vector query on a second connection
        pool: Any = store.conn
        held = pool.getconn()  # of the pool's two: the search gets the other one only
        try:
            del used[:]
            alone = _results(store)
            assert used and not any(used)
            # the exact scan's planner setting stayed inside the search (SET LOCAL)
            assert held.execute("SHOW enable_bitmapscan").fetchone()["enable_bitmapscan"] == "on"
        finally:
            pool.putconn(held)
        assert together == alone
        assert all(len(hits) == 6 for hits in together)
        with pool.connection() as conn:
            assert conn.execute("SHOW enable_bitmapscan").fetchone()["enable_bitmapscan"] == "on"
    finally:
        store.close()


def test_a_busy_pool_is_not_waited_for(pg_database: str) -> None:
    """Eight threads on a pool of two: searches that find no free connection run on their
    own, nobody waits for the pool's timeout, every result is the same."""
    store = _store(pg_database, pool_size=2)
    try:
        _fill(store)
        expected = _results(store)
        pool: Any = store.conn
        pool.timeout = 20.0  # a search stuck waiting for a second connection would show
        found: list[list[list[tuple[float, str]]]] = []
        failures: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(3):
                    found.append(_results(store))
            except BaseException as exc:  # reported below
                failures.append(exc)

        started = time.monotonic()
        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not failures, failures
        assert len(found) == 24 and all(f == expected for f in found)
        assert time.monotonic() - started < pool.timeout
    finally:
        store.close()


def test_idle_connections_are_lent_without_a_round_trip(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psycopg_pool import ConnectionPool

    checked: list[object] = []
    original = ConnectionPool.check_connection
    monkeypatch.setattr(
        ConnectionPool, "check_connection", lambda conn: (checked.append(conn), original(conn))
    )
    store = _store(pg_database)
    try:
        _fill(store)
        _results(store)
        assert checked == []  # nothing pending on an idle connection: lent as it is
        # the server ends every session of this database: each pooled connection now has an
        # error waiting on its socket, and is checked (and replaced) before it is lent
        with psycopg.connect(pg_database, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert ended is not None and ended[0] >= 2
        deadline = time.monotonic() + 5
        with psycopg.connect(pg_database, autocommit=True) as admin:
            while (
                admin.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
                != (0,)
                and time.monotonic() < deadline
            ):
                time.sleep(0.05)
        assert _results(store)[0]  # no error: the ended connections were replaced
        assert checked  # and it was the check that found them
        store.put(("notes", "home"), "after", {"content": "written after the sessions ended"})
        assert store.get(("notes", "home"), "after") is not None
    finally:
        store.close()


def test_check_alive_raises_on_a_closed_connection(pg_database: str) -> None:
    conn = psycopg.connect(pg_database, autocommit=True)
    _pg_connect.check_alive(conn)  # an open, idle connection passes
    conn.close()
    with pytest.raises(psycopg.OperationalError):
        _pg_connect.check_alive(conn)


@pytest.mark.parametrize("exact_max", [5000, 0], ids=["exact", "hnsw"])
def test_equal_scores_come_in_the_order_written_on_either_connection(
    pg_database: str, exact_max: int
) -> None:
    """Texts that tie on every score part are listed in the order they were written, whichever
    pooled connection (and plan) ran the search (without recency: with it the newer of two
    equal texts ranks first, and nothing ties)."""
    untimed = Ranking(recency_weight=0.0)
    store = _store(pg_database, exact_max=exact_max, ef_search=400, pool_size=2, ranking=untimed)
    try:
        keys = [f"k{i}" for i in (7, 3, 9, 1, 5, 0, 8, 2)]  # written in this order
        for key in keys:
            store.put(("same",), key, {"content": "the very same note about tea"})
        used = _count_spares(store)
        found = [
            [h.key for h in store.search(("same",), query="a note about tea", limit=6)]
            for _ in range(8)
        ]
        assert any(used)
        assert found == [keys[:6]] * 8
    finally:
        store.close()
