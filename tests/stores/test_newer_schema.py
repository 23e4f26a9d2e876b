"""A store file written by a newer langmem (a schema version this one does not know) is refused
at open, read-only or not, with the versions and the fix, and is left exactly as it was."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from langmem.errors import StoreFileError
from langmem.stores import SqliteStore
from langmem.stores._migrations import MIGRATIONS
from langmem.testing import HashingEmbeddings

INDEX = {"dims": 32, "embed": HashingEmbeddings(dims=32), "fields": ["$"]}


def _future_file(tmp_path: Path) -> Path:
    path = tmp_path / "future.sqlite"
    store = SqliteStore(str(path), index=INDEX)
    store.put(("notes",), "k", {"content": "kept as it was"})
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO langmem_migrations (v) VALUES (?)", (len(MIGRATIONS) + 3,))
    conn.commit()
    conn.close()
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_file_from_a_newer_langmem_is_refused_untouched(tmp_path: Path, read_only: bool) -> None:
    path = _future_file(tmp_path)
    before = _digest(path)
    with pytest.raises(StoreFileError) as caught:
        SqliteStore(str(path), index=INDEX, read_only=read_only)
    message = str(caught.value)
    assert str(path) in message
    assert f"schema {len(MIGRATIONS) + 3}" in message
    assert f"knows up to {len(MIGRATIONS)}" in message
    assert "pip install -U langmem" in message
    assert _digest(path) == before


def test_the_current_schema_still_opens(tmp_path: Path) -> None:
    path = tmp_path / "now.sqlite"
    SqliteStore(str(path), index=INDEX).close()
    store = SqliteStore(str(path), index=INDEX, read_only=True)
    assert store.get(("notes",), "absent") is None
