"""Write batches touching the same items in different orders do not deadlock: a batch locks the
rows it writes in one order (sorted by namespace and key) before writing any, and a deadlock or
serialization failure that still happens (the transaction rolled back) is retried.

On the previous code, two threads writing the same items in opposite orders deadlocked within a
few rounds (psycopg's ``DeadlockDetected``); the server's own deadlock counter proves none
happens now (the retry alone would hide them)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from langgraph.store.base import PutOp

from langmem.stores import PostgresStore
from langmem.testing import HashingEmbeddings

ROUNDS = 20
MIXED = 150
KEYS = [f"k{n:03d}" for n in range(150)]
NS_A, NS_B = ("deadlock", "a"), ("deadlock", "b")


def _index() -> Any:
    return {"dims": 8, "embed": HashingEmbeddings(8), "fields": ["text"]}


def _database(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def _deadlocks(url: str) -> int:
    """The server's count of deadlocks detected in the database (backends report theirs when
    they exit: the stores are closed first)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", (_database(url),)
        ).fetchone()
    return int(row[0]) if row else 0


def _race(
    url: str,
    work: Callable[[PostgresStore, int, int], None],
    *,
    index: bool,
    rounds: int = ROUNDS,
) -> None:
    """Two threads, each with its own store (pool), run ``work(store, thread, round)`` in
    lockstep rounds; any error is raised here."""
    with psycopg.connect(url, autocommit=True) as admin:  # deadlocks found fast, not in 1 s
        admin.execute(f"ALTER DATABASE {_database(url)} SET deadlock_timeout = '20ms'")
    kwargs: dict[str, Any] = {"index": _index()} if index else {}
    stores = [PostgresStore.from_url(url, pool_size=2, **kwargs) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            for r in range(rounds):
                barrier.wait(timeout=30)
                work(stores[n], n, r)
        except BaseException as exc:  # reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for store in stores:
            store.close()
    real = [e for e in errors if not isinstance(e, threading.BrokenBarrierError)]
    if real:
        raise real[0]


def _ordered(n: int, r: int, keys: int = len(KEYS)) -> list[tuple[tuple[str, ...], str]]:
    items = [(ns, k) for ns in (NS_A, NS_B) for k in KEYS[:keys]]
    return items if n == 0 else items[::-1]


@pytest.mark.parametrize(
    ("index", "keys", "rounds"),
    [(False, len(KEYS), ROUNDS), (True, 40, 8)],  # embedding texts is slow: fewer writes
    ids=["not-indexed", "indexed"],
)
def test_batches_writing_the_same_items_in_opposite_orders_do_not_deadlock(
    pg_database: str, index: bool, keys: int, rounds: int
) -> None:
    def work(store: PostgresStore, n: int, r: int) -> None:
        store.batch(
            [
                PutOp(ns, k, {"text": f"fact {k} from {n} round {r}"})
                for ns, k in _ordered(n, r, keys)
            ]
        )

    before = _deadlocks(pg_database)
    _race(pg_database, work, index=index, rounds=rounds)
    assert _deadlocks(pg_database) == before  # prevented, not only retried
    with PostgresStore.from_url(pg_database, **({"index": _index()} if index else {})) as store:
        values = {(tuple(i.namespace), i.key): i.value["text"] for i in _all(store)}
    assert len(values) == 2 * keys
    last = {v.rsplit(" round ", 1)[1] for v in values.values()}
    assert last == {str(rounds - 1)}  # every item holds a write of the last round
    writers = {v.split(" from ")[1].split(" ")[0] for v in values.values()}
    assert writers <= {"0", "1"}


def test_mixed_deletes_and_puts_in_opposite_orders_do_not_deadlock(pg_database: str) -> None:
    """One batch deletes what the other writes and the reverse (LangGraph's put SQL deletes
    first, then inserts: its locks come in two runs, each sorted, so sorting the batch alone
    did not prevent this; an indexed store's vector rows happened to serialise it)."""
    index = False
    with PostgresStore.from_url(pg_database, **({"index": _index()} if index else {})) as store:
        store.batch([PutOp(ns, k, {"text": f"first {k}"}) for ns, k in _ordered(0, 0, MIXED)])

    def work(store: PostgresStore, n: int, r: int) -> None:
        # each thread deletes the items the other writes (by the item's place in one order)
        place = {item: i for i, item in enumerate(_ordered(0, 0, MIXED))}
        ops = [
            PutOp(ns, k, None if (place[ns, k] + n + r) % 2 else {"text": f"{k} {n} {r}"})
            for ns, k in _ordered(n, r, MIXED)
        ]
        store.batch(ops)

    before = _deadlocks(pg_database)
    _race(pg_database, work, index=index, rounds=ROUNDS)
    assert _deadlocks(pg_database) == before


def test_repeated_keys_in_a_batch_keep_the_last_write_and_results_in_input_order(
    pg_database: str,
) -> None:
    from langgraph.store.base import GetOp

    with PostgresStore.from_url(pg_database, index=_index()) as store:
        results = store.batch(
            [
                PutOp(NS_B, "z", {"text": "first z"}),
                PutOp(NS_A, "a", {"text": "first a"}),
                GetOp(NS_A, "a"),
                PutOp(NS_B, "z", {"text": "second z"}),
                PutOp(NS_A, "a", None),
                PutOp(NS_A, "m", {"text": "only m"}),
                GetOp(NS_B, "z"),
            ]
        )
        assert results[:2] == [None, None] and results[3:6] == [None, None, None]
        assert results[2] is None and results[6] is None  # reads run before the writes
        assert store.get(NS_B, "z").value == {"text": "second z"}  # type: ignore[union-attr]
        assert store.get(NS_A, "a") is None
        assert store.get(NS_A, "m").value == {"text": "only m"}  # type: ignore[union-attr]
        assert [h.key for h in store.search(("deadlock",), query="second z", limit=1)] == ["z"]


def _all(store: PostgresStore) -> list[Any]:
    return list(store.search(("deadlock",), limit=1000))


def test_a_batch_rolled_back_by_a_deadlock_is_run_again(pg_database: str) -> None:
    """Another client locks ``b`` then ``a`` while a batch locks ``a`` then ``b``: the server
    rolls the batch back (its deadlock check runs first) and the batch runs again and
    succeeds, once the other client committed."""
    import time

    # The server checks a waiting transaction for a deadlock once, deadlock_timeout after it
    # began to wait: the batch's check must come after the other client queued for ``a``
    # (a few ms here, more on a busy machine: 20 ms was once too short and the other client's
    # check found the deadlock instead), and before the other client's own check.
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {_database(pg_database)} SET deadlock_timeout = '2s'")
    with PostgresStore.from_url(pg_database, index=_index()) as store:
        store.batch([PutOp(NS_A, k, {"text": f"first {k}"}) for k in ("a", "b")])
        before = _deadlocks(pg_database)
        other = psycopg.connect(pg_database)
        other.execute("SET deadlock_timeout = '60s'")  # the batch is the one rolled back
        other.execute("UPDATE store SET value = '{\"text\": \"other b\"}' WHERE key = 'b'")
        done: list[Any] = []
        writer = threading.Thread(
            target=lambda: done.append(
                store.batch([PutOp(NS_A, k, {"text": f"batch {k}"}) for k in ("b", "a")])
            )
        )
        writer.start()
        deadline = time.monotonic() + 30
        while not other.execute(  # the batch holds a and waits for b
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = current_database()"
        ).fetchone()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        other.execute("UPDATE store SET value = '{\"text\": \"other a\"}' WHERE key = 'a'")
        other.commit()
        other.close()
        writer.join(timeout=60)
        assert done == [[None, None]]
        assert store.get(NS_A, "a").value == {"text": "batch a"}  # type: ignore[union-attr]
        assert store.get(NS_A, "b").value == {"text": "batch b"}  # type: ignore[union-attr]
    assert _deadlocks(pg_database) == before + 1
