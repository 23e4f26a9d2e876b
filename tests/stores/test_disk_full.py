"""A full disk is named as such: the error told the user to move the file aside as damaged and
restore a backup (or run `.recover`), advice that loses nothing only by luck."""

from __future__ import annotations

from pathlib import Path

import pytest

from langmem import create_manage_memory_tool
from langmem.errors import StoreFileError
from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

NS = ("memories", "ana")


def test_a_full_disk_says_so_and_keeps_what_is_stored(tmp_path: Path) -> None:
    index = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]}
    store = SqliteStore(tmp_path / "m.sqlite", index=index)  # type: ignore[arg-type]
    for n in range(5):
        store.put(NS, f"k{n}", {"content": f"fact {n}"})
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")  # the disk is now full
    tool = create_manage_memory_tool(("memories", "{user_id}"), store=store)
    config = {"configurable": {"user_id": "ana"}}
    for write in (
        lambda: store.put(NS, "big", {"content": "word " * 50_000}),
        lambda: tool.invoke({"content": "word " * 50_000}, config),
    ):
        with pytest.raises(StoreFileError) as raised:
            write()
        message = str(raised.value)
        assert "is full" in message and "Free space" in message, message
        assert str(tmp_path) in message  # names the folder whose disk to free
        assert "damaged, move it aside" not in message and ".recover" not in message
    assert sorted(i.key for i in store.search(NS, limit=20)) == [f"k{n}" for n in range(5)]
    store._conn.execute("PRAGMA max_page_count = 1073741823")  # space freed: writes work again
    store.put(NS, "big", {"content": "word " * 50_000})
    assert store.get(NS, "big") is not None
    store.close()


def test_an_io_error_points_at_the_disk_not_at_a_damaged_file(tmp_path: Path) -> None:
    import sqlite3

    from langmem.stores._connection import file_error

    error = file_error(str(tmp_path / "m.sqlite"), sqlite3.OperationalError("disk I/O error"))
    assert "file system failed" in str(error) and "removed or replaced" in str(error)
    assert ".recover" not in str(error)
