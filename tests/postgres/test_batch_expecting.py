"""``PostgresStore.batch_expecting``: the embedded store's cases
(tests/stores/test_batch_expecting.py)."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.store.base import PutOp

from langmem._expect import Expected
from langmem.errors import WriteConflictError
from langmem.stores import PostgresStore
from tests.stores.test_batch_expecting import (
    INDEX,
    NS,
    check_batch_expecting,
    check_expired_is_absent,
)


def test_postgres_batch_expecting(pg_database: str) -> None:
    with PostgresStore.from_url(pg_database, index=INDEX) as store:
        check_batch_expecting(store)
        check_expired_is_absent(store)


def test_keys_unclaimed_after_every_round_are_a_conflict_sent_again(
    pg_database: str, monkeypatch: Any
) -> None:
    """A memory other writers keep creating and deleting while a write claims it (simulated:
    every lock of the first attempt finds its row gone) is not taken as absent and unlocked:
    the attempt fails with a conflict naming nothing found, and the resend writes it right."""
    from langmem import History
    from langmem.stores import _pg_expect

    real = _pg_expect.lock_and_read
    calls = {"n": 0}

    def vanishing(cur: Any, refs: Any, *, omit_expired: bool) -> Any:
        found = real(cur, refs, omit_expired=omit_expired)
        calls["n"] += 1
        return {} if calls["n"] <= 1 + _pg_expect._CLAIMS else found

    with PostgresStore.from_url(pg_database, index=INDEX) as store:
        store.put(NS, "k", {"content": "one"})
        monkeypatch.setattr(_pg_expect, "lock_and_read", vanishing)
        with pytest.raises(WriteConflictError, match="created and deleted again") as conflict:
            store.batch_expecting(
                [PutOp(NS, "k", {"content": "x"})], [Expected(NS, "k", {"content": "one"})]
            )
        assert conflict.value.found == {}
        # the namespace shown as every other write conflict shows it (langmem._expect.check)
        assert str(conflict.value).startswith(f"memory 'k' in {NS!r} was created and deleted ")
        assert store.get(NS, "k").value == {"content": "one"}  # nothing written
        calls["n"] = 0
        record = History(store).put(NS, "k", {"content": "two"})
        assert record["op"] == "update" and record["previous"] == {"content": "one"}
        assert calls["n"] > 1 + _pg_expect._CLAIMS  # the first attempt failed, then resent
