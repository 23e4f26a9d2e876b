"""A write after the store file was deleted or replaced while the handle had it open is
refused with StoreFileError naming the file (SQLite kept writing into the unlinked file, so
the write "succeeded" and was lost); reads still answer from the file the handle opened."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.errors import StoreFileError
from langmem.stores import SqliteStore

INDEX: Any = {"dims": 32, "embed": HashingEmbeddings(dims=32)}


def _gone(path: Path, how: str) -> None:
    if how == "deleted":
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:  # a restored backup: another file now at the path
        other = path.with_name("backup.sqlite")
        with SqliteStore(str(other), index=INDEX) as backup:
            backup.put(("m",), "restored", {"text": "from the backup"})
        shutil.copyfile(other, str(path) + ".new")
        os.replace(str(path) + ".new", path)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_write_to_a_file_gone_from_its_path_is_refused(tmp_path: Path, how: str) -> None:
    path = tmp_path / "m.sqlite"
    store = SqliteStore(str(path), index=INDEX)
    store.put(("m",), "a", {"text": "kept"})
    _gone(path, how)
    with pytest.raises(StoreFileError, match=rf"m\.sqlite' was {how}.*open the store again"):
        store.put(("m",), "b", {"text": "would be lost"})
    with pytest.raises(StoreFileError, match=f"was {how}"):
        store.delete(("m",), "a")
    with pytest.raises(StoreFileError, match=f"was {how}"):
        asyncio.run(store.aput(("m",), "c", {"text": "would be lost"}))
    assert store.get(("m",), "a") is not None  # reads still answer from the opened file
    store.close()
    with SqliteStore(str(path), index=INDEX) as again:  # a new handle writes to the new file
        again.put(("m",), "b", {"text": "written"})
        assert again.get(("m",), "b") is not None


def test_a_relative_path_still_names_the_same_file_after_chdir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = SqliteStore("m.sqlite", index=INDEX)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    store.put(("m",), "a", {"text": "fine"})  # the file is still at its (absolute) path
    assert store.get(("m",), "a") is not None
    store.close()
