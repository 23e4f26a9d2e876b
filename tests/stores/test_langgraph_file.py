"""A file that also holds LangGraph's own SqliteStore items: langmem does not read that table, so
opening it says so (once) instead of showing an empty store without a word."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from langgraph.store.sqlite import SqliteStore as LangGraphSqliteStore

from langmem.stores import SqliteStore, open_store


def _langgraph_file(path: Path, items: int) -> None:
    with LangGraphSqliteStore.from_conn_string(str(path)) as old:
        old.setup()
        for number in range(items):
            old.put(("memories", "ana"), f"k{number}", {"content": f"fact {number}"})


def test_opening_a_langgraph_store_file_warns_once_and_keeps_its_items(tmp_path: Path) -> None:
    path = tmp_path / "langgraph.sqlite"
    _langgraph_file(path, 3)
    with pytest.warns(UserWarning, match=r"holds 3 item\(s\) in the table 'store'.*copy them"):
        store = SqliteStore(path)
    assert store.search(("memories",)) == []  # not read...
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = open_store(f"sqlite:///{path}?embed=none")  # once per file and process
    again.close()
    store.close()
    with LangGraphSqliteStore.from_conn_string(str(path)) as old:  # ...and not touched
        assert len(old.search(("memories", "ana"))) == 3


def test_an_empty_langgraph_table_or_a_langmem_file_gives_no_warning(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    _langgraph_file(empty, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SqliteStore(empty).close()
        SqliteStore(tmp_path / "ours.sqlite").close()
