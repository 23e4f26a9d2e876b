"""A command that only reads, given a file that holds no langmem store (an empty file, another
program's database, LangGraph's store file), refuses it without changing it (it added langmem's
tables to the file before)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from tests.cli._support import run, seeded_store

READS = [
    ("memories", "list"),
    ("memories", "search", "tea"),
    ("memories", "get", "k1", "-n", "memories"),
    ("memories", "export"),
    ("memories", "delete", "k1", "-n", "memories"),
    ("queue", "list"),
    ("store", "info"),
]


def _foreign(path: Path, kind: str) -> None:
    if kind == "empty":
        path.write_bytes(b"")
        return
    conn = sqlite3.connect(path)
    if kind == "langgraph":
        conn.execute("CREATE TABLE store (prefix TEXT, key TEXT, value TEXT)")
        conn.execute("INSERT INTO store VALUES ('memories.ana', 'k1', '{\"content\": \"tea\"}')")
    else:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO users (name) VALUES ('ana')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("empty", "is empty"),
        ("app", "another program's SQLite database (tables: users)"),
        ("langgraph", "LangGraph's store file"),
    ],
)
@pytest.mark.parametrize("command", READS, ids=" ".join)
def test_a_read_leaves_a_file_without_a_langmem_store_as_it_was(
    tmp_path: Path, kind: str, said: str, command: tuple[str, ...]
) -> None:
    path = tmp_path / "app.db"
    _foreign(path, kind)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = run(*command, "--store", str(path))
    assert result.exit_code == 1
    assert said in result.stderr and "it was not changed" in result.stderr
    assert str(path) in result.stderr and "Fix:" in result.stderr
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]
    if kind == "langgraph":
        assert f"langmem store copy {path}" in result.stderr


def test_a_langmem_store_and_a_write_to_an_empty_file_still_work(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    assert run("memories", "list", "--store", url).exit_code == 0
    empty = tmp_path / "new.sqlite"
    empty.write_bytes(b"")
    added = run("memories", "add", "likes tea", "-n", "memories", "--store", str(empty))
    assert added.exit_code == 0, added.stderr
    listed = run("memories", "list", "--store", str(empty))
    assert listed.exit_code == 0 and "likes tea" in listed.stdout


def test_writing_to_memory_store_warns_that_it_is_gone_after_the_command() -> None:
    added = run("memories", "add", "likes tea", "-n", "memories", "--store", "memory://")
    assert added.exit_code == 0 and "likes tea" in added.stdout
    # before: exit 0 and nothing said, although the memory was gone when the command ended
    assert "warning: the store memory:// lives in this command's memory" in added.stderr
    listed = run("memories", "list", "--store", "memory://")
    assert listed.exit_code == 0 and listed.stderr == ""
