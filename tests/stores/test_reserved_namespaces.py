"""``list_namespaces`` leaves langmem's own records (``("__langmem__", ...)``: change history,
superseded values...) out unless the caller's prefix starts with ``"__langmem__"``: a user
listing their namespaces used to see our bookkeeping next to their memories.
tests/postgres/test_reserved_namespaces.py runs the same checks on PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

from langgraph.store.base import BaseStore, ListNamespacesOp, MatchCondition

from langmem.knowledge.history import History
from langmem.stores import SqliteStore

NS = ("memories", "alice")
RECORDS = ("__langmem__", "history", "memories", "alice")


def fill(store: BaseStore) -> None:
    """Memories written through History (each change recorded under ``__langmem__``), one
    namespace whose first label only looks like ours, and a record a caller put by hand."""
    history = History(store)
    history.put(NS, "tea", {"content": "Likes green tea"})
    history.put(NS, "tea", {"content": "Likes black tea"})
    history.put(("memories", "bob"), "k", {"content": "Plays chess"})
    store.put(("__langmem__x", "notes"), "n", {"content": "a user's own label"})
    store.put(("__langmem__",), "raw", {"content": "at the root itself"})


def check_listing(store: BaseStore) -> None:
    """What ``list_namespaces`` shows, hides and pages, on the store ``fill`` filled."""
    mine = [("__langmem__x", "notes"), NS, ("memories", "bob")]
    assert store.list_namespaces() == mine
    assert asyncio.run(store.alist_namespaces()) == mine
    assert store.list_namespaces(max_depth=1) == [("__langmem__x",), ("memories",)]
    assert store.list_namespaces(suffix=("alice",)) == [NS]
    assert store.list_namespaces(prefix=("*", "history")) == []  # a wildcard does not ask
    assert store.list_namespaces(limit=1, offset=1) == [NS]  # pages count what is shown
    # asked for by their root: listed, as before
    assert store.list_namespaces(prefix=("__langmem__",)) == [
        ("__langmem__",),
        RECORDS,
        ("__langmem__", "history", "memories", "bob"),
    ]
    assert store.list_namespaces(prefix=("__langmem__", "history")) == [
        RECORDS,
        ("__langmem__", "history", "memories", "bob"),
    ]
    assert store.list_namespaces(prefix=("__langmem__", "history"), suffix=("alice",)) == [RECORDS]
    assert store.list_namespaces(prefix=("__langmem__",), max_depth=2) == [
        ("__langmem__",),
        ("__langmem__", "history"),
    ]
    assert store.list_namespaces(prefix=("__langmem__x",)) == [("__langmem__x", "notes")]
    # a batch of several listings: each by its own prefix
    shown, asked = store.batch(
        [
            ListNamespacesOp(match_conditions=(MatchCondition("suffix", ("alice",)),)),
            ListNamespacesOp(match_conditions=(MatchCondition("prefix", RECORDS),)),
        ]
    )
    assert shown == [NS] and asked == [RECORDS]
    # what reads the records finds them: history, and search under the root
    assert [c["op"] for c in History(store).history(NS, "tea")] == ["create", "update"]
    assert len(store.search(RECORDS)) == 2


def test_sqlite_lists_only_the_callers_namespaces(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "r.sqlite")
    fill(store)
    check_listing(store)
    store.close()
