"""``batch_expecting(ops, expect)``: a batch written only if the memories in ``expect`` are as
its writer read them, checked in the store's own write transaction (``langmem._expect``). The
PostgreSQL twin runs the same cases (tests/postgres/test_batch_expecting.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import PutOp

from langmem._expect import Expected
from langmem.errors import WriteConflictError
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

NS = ("memories", "u")
INDEX: Any = {"dims": 16, "embed": HashingEmbeddings(16)}


def check_batch_expecting(store: Any) -> None:
    store.put(NS, "k", {"content": "one"})
    put = PutOp(NS, "k", {"content": "two"})
    record = PutOp(("log",), "r1", {"note": "k changed"})
    # as read: written, with the batch's other ops
    assert store.batch_expecting([put, record], [Expected(NS, "k", {"content": "one"})]) == [
        None,
        None,
    ]
    assert store.get(NS, "k").value == {"content": "two"}
    # not as read: nothing of the batch is written, and the error holds what was found
    late = PutOp(NS, "k", {"content": "three"})
    with pytest.raises(WriteConflictError, match=r"changed after it was read") as conflict:
        store.batch_expecting(
            [late, PutOp(("log",), "r2", {"note": "x"})], [Expected(NS, "k", {"content": "one"})]
        )
    found = conflict.value.found[(NS, "k")]
    assert found is not None and found.value == {"content": "two"}
    assert store.get(NS, "k").value == {"content": "two"} and store.get(("log",), "r2") is None
    # a memory expected absent that is stored: refused; one that is absent: written
    with pytest.raises(WriteConflictError) as conflict:
        store.batch_expecting([late], [Expected(NS, "k", None)])
    assert conflict.value.found[(NS, "k")].value == {"content": "two"}
    new = PutOp(NS, "new", {"content": "fresh"})
    store.batch_expecting([new], [Expected(NS, "new", None)])
    assert store.get(NS, "new").value == {"content": "fresh"}
    # expecting a memory the batch does not write leaves it as it is (absent stays absent)
    store.batch_expecting([PutOp(("log",), "r3", {"note": "y"})], [Expected(NS, "none", None)])
    assert store.get(NS, "none") is None
    assert sorted(i.key for i in store.search(NS)) == ["k", "new"]
    # a deletion, checked too; async as sync
    delete = PutOp(NS, "new", None)
    with pytest.raises(WriteConflictError):
        asyncio.run(store.abatch_expecting([delete], [Expected(NS, "new", {"content": "old"})]))
    asyncio.run(store.abatch_expecting([delete], [Expected(NS, "new", {"content": "fresh"})]))
    assert store.get(NS, "new") is None


def check_expired_is_absent(store: Any) -> None:
    """An expired memory not swept yet is read as none, as a get reads it."""
    import time

    store.put(NS, "brief", {"content": "soon gone"}, ttl=0.0005)
    time.sleep(0.1)
    assert store.get(NS, "brief") is None
    store.batch_expecting([PutOp(NS, "brief", {"content": "back"})], [Expected(NS, "brief", None)])
    assert store.get(NS, "brief").value == {"content": "back"}


def test_sqlite_batch_expecting(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "m.db", index=INDEX) as store:
        check_batch_expecting(store)
        check_expired_is_absent(store)
