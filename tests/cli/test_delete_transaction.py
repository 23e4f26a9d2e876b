"""`langmem memories delete K1 K2 ...` is one transaction: it deleted each key in its own, so a
failure at the second key left the first deleted. Missing keys are all named, and nothing is
deleted. tests/postgres/test_cli_delete.py checks the same on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from langmem import History
from langmem.stores import SqliteStore
from tests.cli._support import run, seeded_store


def _keys(url: str) -> list[str]:
    listed = run("memories", "list", "-n", "memories", "--store", url).stdout.splitlines()
    return sorted(json.loads(x)["key"] for x in listed)


def test_a_failure_at_one_key_deletes_none(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    with sqlite3.connect(tmp_path / "seed.sqlite") as conn:  # the disk fails at key a2
        conn.execute(
            "CREATE TRIGGER fail_a2 BEFORE DELETE ON langmem_items WHEN old.key = 'a2'"
            " BEGIN SELECT RAISE(ABORT, 'simulated failure at a2'); END"
        )
    result = run("memories", "delete", "a1", "a2", "-n", "memories/alice", "--store", url)
    assert result.exit_code == 1
    assert "simulated failure at a2" in result.stderr
    assert result.stdout == ""
    assert _keys(url) == ["a1", "a2", "b1"]
    store = SqliteStore(tmp_path / "seed.sqlite", index=None)
    assert History(store).history(("memories", "alice"), "a1") == []  # no record either
    store.close()


def test_one_command_is_one_recorded_run(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    result = run("memories", "delete", "a1", "a2", "-n", "memories/alice", "--store", url)
    assert result.exit_code == 0, result.stderr
    assert _keys(url) == ["b1"]
    store = SqliteStore(tmp_path / "seed.sqlite", index=None)
    history = History(store)
    records = [*history.history(("memories", "alice"), "a1")]
    records += history.history(("memories", "alice"), "a2")
    assert [r["op"] for r in records] == ["delete", "delete"]
    assert records[0]["previous"] == {"content": "Alice is allergic to peanuts", "kind": "health"}
    assert records[0]["component"] == "cli"
    assert len({r["run_id"] for r in records}) == 1
    report = history.undo_run(str(records[0]["run_id"]))
    assert sorted(r["key"] for r in report["restored"]) == ["a1", "a2"]
    store.close()
    assert _keys(url) == ["a1", "a2", "b1"]


def test_every_missing_key_is_named_and_nothing_is_deleted(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    result = run(
        "memories", "delete", "a1", "zz", "a2", "yy", "-n", "memories/alice", "--store", url
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: no memory with keys 'zz', 'yy' in namespace 'memories/alice' of {url}, so "
        "nothing was deleted (delete removes every key given, or none). Fix: leave out the "
        "missing keys; list the keys with `langmem memories list -n memories/alice`.\n"
    )
    assert _keys(url) == ["a1", "a2", "b1"]
