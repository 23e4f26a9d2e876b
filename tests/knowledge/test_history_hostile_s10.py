"""A hostile pass over History, undo and "as of" (session 10), on the embedded store and
PostgreSQL (and LangGraph's InMemoryStore where it applies). Each case failed before its fix."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore

from langmem import History
from langmem.errors import InvalidInputError
from langmem.stores import SqliteStore

from .conftest import INDEX, PG_URL, _postgres_store

NS = ("mémoires", "用户")


@pytest.fixture()
def store(any_store: BaseStore) -> BaseStore:
    return any_store


@pytest.fixture(params=["sqlite", *(["postgres"] if PG_URL else [])])
def ours(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStore]:
    """langmem's stores only (TTLs; text checks LangGraph's InMemoryStore does not make)."""
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "m.db", index=INDEX) as sqlite:
            yield sqlite
    else:
        yield from _postgres_store()


def test_a_key_holding_nul_has_a_history_on_sqlite(tmp_path: Path) -> None:
    """SQLite's ``json_extract`` cuts text at NUL, so the records of key "a\\x00b" were never
    found: ``put`` failed after writing, ``history`` was empty."""
    with SqliteStore(tmp_path / "m.db") as store:
        history = History(store)
        record = history.put(NS, "a\x00b", {"content": "v1"})
        assert record["key"] == "a\x00b" and record["op"] == "create"
        history.put(NS, "a\x00b", {"content": "v2"})
        assert [r["op"] for r in history.history(NS, "a\x00b")] == ["create", "update"]
        assert history.history(NS, "a") == []  # the cut text matches nothing either
        assert store.search(NS, filter={"content": "v2"})[0].key == "a\x00b"


def test_a_key_with_a_lone_surrogate_is_refused_clearly(ours: BaseStore) -> None:
    """A get of such a key raised the encoder's UnicodeEncodeError on SQLite."""
    with pytest.raises(InvalidInputError, match=r"a lone surrogate"):
        History(ours).put(NS, "\ud800", {"content": "x"})
    with pytest.raises(InvalidInputError, match=r"no item has such a key"):
        ours.get(NS, "\ud800")


@pytest.mark.parametrize("key", [5, None, b"k", ("k",)])
def test_a_key_that_is_not_text_is_refused(store: BaseStore, key: Any) -> None:
    """An int key was stored as text on SQLite (its records kept the int: never found) and
    failed on PostgreSQL with psycopg's "cannot dump lists of mixed types"."""
    history = History(store)
    for call in (
        lambda: history.put(NS, key, {"content": "x"}),
        lambda: history.delete(NS, key),
        lambda: history.history(NS, key),
        lambda: history.restore(NS, key, "id"),
    ):
        with pytest.raises(InvalidInputError, match=r"not text: memory keys are strings"):
            call()
    assert store.search(NS) == []


@pytest.mark.parametrize("moment", [float("nan"), 10**400, -(10**400)])
def test_a_moment_that_is_no_time_is_refused(store: BaseStore, moment: Any) -> None:
    """NaN found nothing, silently; an int past a float's range raised OverflowError."""
    history = History(store)
    history.put(NS, "k", {"content": "tea"})
    with pytest.raises(InvalidInputError, match=r"is not a time"):
        history.search(NS, "tea", as_of=moment)
    with pytest.raises(InvalidInputError, match=r"is not a time"):
        history.changes(NS, since=moment)


def test_undo_of_undo_of_undo(store: BaseStore) -> None:
    history = History(store)
    history.put(NS, "k", {"content": "a"})
    second = history.put(NS, "k", {"content": "b"})
    values = []
    run = str(second["run_id"])
    for _ in range(3):
        report = history.undo_run(run)
        assert report["conflicts"] == []
        run = report["run_id"]
        values.append(store.get(NS, "k").value)  # type: ignore[union-attr]
    assert values == [{"content": "a"}, {"content": "b"}, {"content": "a"}]
    found = history.search(NS, "a", as_of=time.time())
    assert [i.value for i in found] == [{"content": "a"}]


def test_undo_after_the_ttl_ran_out(ours: BaseStore) -> None:
    """Undoing the creation of a memory that has expired since reported a conflict ("changed
    again after the undone run"), though nothing changed it and nothing is left to undo; an
    expired update now says it is gone."""
    store = ours
    history = History(store)
    created = history.put(NS, "short", {"content": "brief"}, ttl=0.0005)  # 30 ms
    history.put(NS, "kept", {"content": "first"})
    updated = history.put(NS, "kept", {"content": "brief"}, ttl=0.0005)
    time.sleep(0.1)
    assert store.get(NS, "short") is None and store.get(NS, "kept") is None
    report = history.undo_run(str(created["run_id"]))
    assert report["conflicts"] == [] and report["restored"] == []
    report = history.undo_run(str(updated["run_id"]))
    assert report["conflicts"] == [
        {"namespace": NS, "key": "kept", "reason": "deleted (or expired) after the undone run"}
    ]
    forced = history.undo_run(str(updated["run_id"]), force=True)
    assert forced["restored"] == [{"namespace": NS, "key": "kept", "value": {"content": "first"}}]
    assert store.get(NS, "kept").value == {"content": "first"}  # type: ignore[union-attr]
