"""copy_store from a SQLite URL or path whose file does not exist is an error naming the path
and the fix; before, it created an empty file there and reported 0 items copied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from langmem.errors import ConfigurationError
from langmem.stores import copy_store, open_store


@pytest.mark.parametrize("form", ["url", "path"])
def test_a_missing_source_file_is_named_and_not_created(tmp_path: Path, form: str) -> None:
    missing = tmp_path / "typo.sqlite"
    source = f"sqlite:///{missing}" if form == "url" else str(missing)
    target = open_store("memory://?embed=hashing&dims=16")
    with pytest.raises(ConfigurationError) as caught:
        copy_store(source, target)
    assert f"the store file {str(missing)!r} does not exist" in str(caught.value)
    assert not missing.exists()


def test_an_existing_source_file_still_copies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'src.sqlite'}?embed=hashing&dims=16"
    open_store(url).put(("notes",), "k", {"content": "kept"})
    target = open_store("memory://?embed=hashing&dims=16")
    assert copy_store(url, target) == 1
    assert target.get(("notes",), "k") is not None


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"source": None}, "copy_store source was given store=None"),
        ({"target": 42}, "copy_store target was given store=42"),
        ({"progress": 5}, "copy_store(progress=5): pass a function (done, total)"),
    ],
)
def test_wrong_arguments_are_named(arguments: dict[str, Any], named: str) -> None:
    given: dict[str, Any] = {
        "source": open_store("memory://?embed=none"),
        "target": "memory://?embed=none",
    }
    given.update(arguments)
    with pytest.raises(ConfigurationError) as caught:
        copy_store(given.pop("source"), given.pop("target"), **given)
    assert named in str(caught.value)
