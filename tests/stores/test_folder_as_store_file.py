"""A folder given as the store file is named as a folder (before: "check that the file and its
folder exist", though both exist)."""

from __future__ import annotations

from pathlib import Path

import pytest

from langmem.errors import StoreFileError
from langmem.stores import SqliteStore


def test_a_folder_given_as_the_store_file_is_named_as_a_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreFileError, match=r"is a folder: name a file in it, e\.g\. .*memories"):
        SqliteStore(tmp_path)
