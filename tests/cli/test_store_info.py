"""`langmem store info` counts memories only: langmem's own records (change history, ...) are
counted apart, as ``internal_records``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli._support import run, seeded_store


def _changed(url: str) -> None:
    """One memory added, one updated, one deleted through the CLI: history records written."""
    added = run("memories", "add", "likes green tea", "-n", "memories/carol", "--store", url)
    assert added.exit_code == 0, added.stderr
    updated = run("memories", "update", "b1", "likes oolong", "-n", "memories/bob", "--store", url)
    assert updated.exit_code == 0, updated.stderr
    deleted = run("memories", "delete", "a2", "-n", "memories/alice", "--store", url)
    assert deleted.exit_code == 0, deleted.stderr


def test_internal_records_are_not_memories(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    _changed(url)
    conn = sqlite3.connect(tmp_path / "seed.sqlite")
    internal = conn.execute(
        "SELECT count(*) FROM langmem_items WHERE prefix LIKE '\\_\\_langmem\\_\\_.%' ESCAPE '\\'"
    ).fetchone()[0]
    conn.close()
    assert internal >= 3  # one history record per change at least

    record = json.loads(run("store", "info", "--store", url).stdout)
    assert record["memories"] == 3  # 3 seeded + 1 added - 1 deleted
    assert record["namespaces"] == {"memories/alice": 1, "memories/bob": 1, "memories/carol": 1}
    assert record["internal_records"] == internal

    table = run("store", "info", "--table", "--store", url).stdout
    assert "__langmem__" not in table
    assert f"internal_records   {internal}\n" in table
    assert "memories           3\n" in table


def test_a_store_without_changes_has_no_internal_records(tmp_path: Path) -> None:
    record = json.loads(run("store", "info", "--store", seeded_store(tmp_path)).stdout)
    assert (record["memories"], record["internal_records"]) == (3, 0)
