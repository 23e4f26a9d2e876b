"""A store whose folder cannot be created (LANGMEM_HOME naming a file) or whose path is empty
(`sqlite:///` alone) gives a StoreFileError naming the path and the fix; before, a bare
FileExistsError, or a 'file' called '.'."""

from __future__ import annotations

from pathlib import Path

import pytest

from langmem import create_manage_memory_tool
from langmem.errors import StoreFileError
from langmem.stores import SqliteStore, open_store
from langmem.stores._open import _forget_defaults


def test_langmem_home_naming_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("keep me", encoding="utf-8")
    monkeypatch.setenv("LANGMEM_HOME", str(blocker))
    monkeypatch.delenv("LANGMEM_STORE", raising=False)
    _forget_defaults()
    tool = create_manage_memory_tool(("memories",))
    with pytest.raises(StoreFileError, match=r"not-a-folder'.*cannot be created.*LANGMEM_HOME"):
        tool.invoke({"content": "likes tea"})
    assert blocker.read_text(encoding="utf-8") == "keep me"


@pytest.mark.parametrize("make", [lambda: SqliteStore(""), lambda: open_store("sqlite:///")])
def test_an_empty_store_path_is_named(make: object) -> None:
    with pytest.raises(StoreFileError, match="store path is empty"):
        make()  # type: ignore[operator]
