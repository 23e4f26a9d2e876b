"""Reads that refresh TTLs, run at once from many threads while the same items are written and
deleted, never fail: no deadlock between two searches refreshing the same rows in different
orders (found running LangGraph's async store tests against ours, ``test_large_batches``).
A refresh skips a row another transaction holds at that moment (that one writes, deletes or
refreshes it), and still refreshes every row nobody else holds."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from langgraph.store.base import GetOp, PutOp

from langmem.errors import StoreConnectionError
from langmem.stores import PostgresStore, _pg_connect

NS = ("test", "refresh")
KEYS = [f"key{i}" for i in range(40)]


@pytest.fixture()
def store(pg_database: str) -> Iterator[PostgresStore]:
    ttl: Any = {"default_ttl": 5, "refresh_on_read": True}
    opened = PostgresStore.from_url(pg_database, ttl=ttl, pool_size=8)
    try:
        yield opened
    finally:
        opened.close()


def _expiries(store: PostgresStore) -> dict[str, Any]:
    with store._transaction() as cur:
        cur.execute("SELECT key, expires_at FROM store WHERE prefix = %s", (".".join(NS),))
        return {row["key"]: row["expires_at"] for row in cur.fetchall()}


def _backdate(store: PostgresStore) -> None:
    with store._transaction() as cur:
        cur.execute(
            "UPDATE store SET expires_at = NOW() + INTERVAL '1 minute' WHERE prefix = %s",
            (".".join(NS),),
        )


def test_refreshing_searches_in_parallel_with_writes_do_not_deadlock(
    store: PostgresStore,
) -> None:
    for key in KEYS:
        store.put(NS, key, {"n": key})
    errors: list[BaseException] = []
    stop = threading.Event()

    def work(worker: int) -> None:
        try:
            for round_ in range(60):
                if stop.is_set():
                    return
                store.search(NS, limit=len(KEYS))  # refreshes every result's TTL
                key = KEYS[(worker * 7 + round_) % len(KEYS)]
                if round_ % 3 == 2:
                    store.delete(NS, key)
                store.put(NS, key, {"n": key, "round": round_})
                store.get(NS, KEYS[(worker + round_) % len(KEYS)])
        except BaseException as exc:
            errors.append(exc)
            stop.set()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))
    assert not errors, f"{len(errors)} failed, first: {errors[0]!r}"
    assert len(store.search(NS, limit=100)) == len(KEYS)


def test_batches_of_gets_in_different_orders_do_not_deadlock(store: PostgresStore) -> None:
    """Each batch gets 20 of the items in its own order and refreshes their TTLs."""
    store.batch([PutOp(NS, key, {"n": key}) for key in KEYS])
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        shuffled = random.Random(worker)
        try:
            for _ in range(40):
                keys = shuffled.sample(KEYS, 20)
                found = store.batch([GetOp(NS, key) for key in keys])
                assert [item.key for item in found if item is not None] == keys
                store.put(NS, shuffled.choice(KEYS), {"n": "again"})
        except BaseException as exc:
            errors.append(exc)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(work, range(8)))
    assert not errors, f"{len(errors)} failed, first: {errors[0]!r}"


def test_gets_refresh_what_they_find_unless_told_not_to(store: PostgresStore) -> None:
    for key in KEYS[:3]:
        store.put(NS, key, {"n": key})
    _backdate(store)
    before = _expiries(store)
    found = store.batch(
        [GetOp(NS, KEYS[0]), GetOp(NS, KEYS[1], refresh_ttl=False), GetOp(NS, "missing")]
    )
    assert [item and item.key for item in found] == [KEYS[0], KEYS[1], None]
    after = _expiries(store)
    assert after[KEYS[0]] > before[KEYS[0]]
    assert after[KEYS[1]] == before[KEYS[1]]
    assert after[KEYS[2]] == before[KEYS[2]]


def test_a_refresh_alone_refreshes_every_result(store: PostgresStore) -> None:
    for key in KEYS[:5]:
        store.put(NS, key, {"n": key})
    _backdate(store)
    before = _expiries(store)
    assert len(store.search(NS)) == 5
    after = _expiries(store)
    assert all(after[key] > before[key] for key in before)


def test_reads_refresh_an_items_own_ttl_without_a_ttl_config(pg_database: str) -> None:
    # put(..., ttl=) works on a store opened without a TTL config; its gets and searches then
    # restart that TTL, as LangGraph's store and langmem's SQLite store do
    plain = PostgresStore.from_url(pg_database, pool_size=2)
    try:
        for key in KEYS[:2]:
            plain.put(NS, key, {"n": key}, ttl=5)
        _backdate(plain)
        before = _expiries(plain)
        assert plain.get(NS, KEYS[0]) is not None
        after_get = _expiries(plain)
        assert after_get[KEYS[0]] > before[KEYS[0]]
        assert after_get[KEYS[1]] == before[KEYS[1]]
        assert len(plain.search(NS)) == 2
        assert _expiries(plain)[KEYS[1]] > before[KEYS[1]]
    finally:
        plain.close()


def test_refreshing_async_searches_in_parallel_do_not_deadlock(store: PostgresStore) -> None:
    for key in KEYS:
        store.put(NS, key, {"n": key})

    async def main() -> None:
        ops = []
        for round_ in range(150):
            key = KEYS[round_ % len(KEYS)]
            ops += [
                store.asearch(NS, limit=len(KEYS)),
                store.aput(NS, key, {"n": key, "round": round_}),
                store.asearch(("test",), limit=len(KEYS)),
            ]
        await asyncio.gather(*ops)

    asyncio.run(main())


def test_a_deadlock_is_raised_as_psycopg_raises_it_not_as_a_connection_error(
    store: PostgresStore, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transaction the server aborts to end a deadlock is not a connection problem: once
    the store's own retries are spent (none here; ``test_write_deadlocks`` shows a retry), the
    error is psycopg's ``DeadlockDetected`` (as LangGraph's store raises it), which a caller
    may retry; nothing of the batch is written."""
    monkeypatch.setattr(_pg_connect, "RETRIES", 0)
    store.put(NS, "a", {"v": 0})
    store.put(NS, "b", {"v": 0})
    other = psycopg.connect(pg_database, autocommit=False)
    try:
        other.execute("SET deadlock_timeout = '30s'")  # the store's backend detects it
        other.execute(
            "UPDATE store SET value = '{\"v\": 2}' WHERE prefix = %s AND key = 'b'",
            (".".join(NS),),
        )
        failure: list[BaseException] = []

        def write() -> None:
            try:
                store.batch([PutOp(NS, "a", {"v": 1}), PutOp(NS, "b", {"v": 1})])
            except BaseException as exc:
                failure.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.3)  # the batch holds "a" and waits for "b"
        other.execute(
            "UPDATE store SET value = '{\"v\": 2}' WHERE prefix = %s AND key = 'a'",
            (".".join(NS),),
        )
        writer.join(timeout=30)
        other.commit()
    finally:
        other.close()
    assert len(failure) == 1
    assert isinstance(failure[0], psycopg.errors.DeadlockDetected)
    assert not isinstance(failure[0], StoreConnectionError)
    item = store.get(NS, "a")
    assert item is not None and item.value == {"v": 2}
