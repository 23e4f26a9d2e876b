"""`langmem store copy` from LangGraph's own SqliteStore file: by langgraph-sqlite:// URL or a
plain path, into a new file or the default store, re-run safely; clear one-line errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from langgraph.store.sqlite import SqliteStore as LangGraphSqliteStore

from tests.cli._support import SEED, run


def _langgraph_file(path: Path) -> None:
    with LangGraphSqliteStore.from_conn_string(str(path)) as old:
        old.setup()
        for record in SEED:
            old.put(tuple(record["namespace"]), record["key"], record["value"])  # type: ignore[arg-type]
        old.put(("memories", "alice"), "soon", {"content": "dentist at 3pm"}, ttl=90)
    conn = sqlite3.connect(path)  # the times the app wrote long ago
    for record in SEED:
        conn.execute(
            "UPDATE store SET created_at = ?, updated_at = ? WHERE key = ?",
            (record["created_at"][:19], record["updated_at"][:19], record["key"]),
        )
    conn.commit()
    conn.close()


def test_copy_a_langgraph_file_into_a_new_store_and_again(tmp_path: Path) -> None:
    app = tmp_path / "app.db"
    _langgraph_file(app)
    source = f"langgraph-sqlite:///{app}"
    target = f"sqlite:///{tmp_path / 'memories.sqlite'}?embed=hashing"
    result = run("store", "copy", source, target)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["copied"] == 4 and record["vectors"] == "re-embedded"
    assert record["index"]["embeddings"] == "langmem-hashing-384"
    lines = run("memories", "export", "--store", target).stdout.splitlines()
    exported = {json.loads(line)["key"]: json.loads(line) for line in lines}
    for seeded in SEED:  # value and both times as the app wrote them
        assert {k: exported[seeded["key"]][k] for k in seeded} == seeded  # type: ignore[index]
    assert exported["soon"]["ttl_minutes"] == 90
    hit = run("memories", "search", "peanuts", "-l", "1", "--store", target)
    assert json.loads(hit.stdout)["key"] == "a1"
    again = run("store", "copy", source, target)  # safe to repeat: same keys replaced
    assert json.loads(again.stdout)["copied"] == 4
    info = json.loads(run("store", "info", "--store", target).stdout)
    assert info["memories"] == 4


def test_a_plain_path_and_the_default_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = tmp_path / "app.db"
    _langgraph_file(app)
    default = tmp_path / "default.sqlite"
    monkeypatch.setenv("LANGMEM_STORE", f"sqlite:///{default}?embed=hashing")
    result = run("store", "copy", str(app), "-n", "memories/alice")
    assert result.exit_code == 0, result.stderr
    assert "holds LangGraph's SqliteStore table and no langmem store" in result.stderr
    assert json.loads(result.stdout)["copied"] == 3
    listed = run("memories", "list", "-n", "memories").stdout.splitlines()
    assert sorted(json.loads(line)["key"] for line in listed) == ["a1", "a2", "soon"]


def test_errors_are_one_line_and_copy_nothing(tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 't.sqlite'}?embed=hashing"
    missing = run("store", "copy", f"langgraph-sqlite:///{tmp_path / 'nope.db'}", target)
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: LangGraph's SqliteStore file")
    assert "does not exist" in missing.stderr and missing.stderr.count("\n") == 1
    app = tmp_path / "app.db"
    _langgraph_file(app)
    conn = sqlite3.connect(app)
    conn.execute("UPDATE store SET value = '{broken' WHERE key = 'soon'")
    conn.commit()
    conn.close()
    broken = run("store", "copy", f"langgraph-sqlite:///{app}", target)
    assert broken.exit_code == 1
    assert "memories.alice/'soon': the value is not JSON" in broken.stderr
    assert "Nothing was copied" in broken.stderr
    assert json.loads(run("store", "info", "--store", target).stdout)["memories"] == 0


def test_import_of_a_store_file_points_to_store_copy(tmp_path: Path) -> None:
    app = tmp_path / "app.db"
    _langgraph_file(app)
    result = run("memories", "import", str(app), "--store", str(tmp_path / "t.sqlite"))
    assert result.exit_code == 1
    assert "is a SQLite database, not JSON Lines: nothing was imported" in result.stderr
    assert f"langmem store copy {app}" in result.stderr
