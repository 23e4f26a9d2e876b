"""A store URL that gives one of langmem's parameters twice (``?mode=ro&mode=rw``,
``?embed=hashing&embed=minilm``) is refused naming the parameter, its values and the fix, and
creates no file; before, the last value won silently (so ``mode=ro`` could open writable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from langmem.errors import ConfigurationError
from langmem.stores import open_store


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("mode=ro&mode=rw", "mode='ro', 'rw'"),
        ("embed=hashing&embed=minilm", "embed='hashing', 'minilm'"),
        ("embed=hashing&dims=64&dims=32", "dims='64', '32'"),
    ],
)
def test_a_repeated_parameter_is_refused(tmp_path: Path, query: str, named: str) -> None:
    target = tmp_path / "m.sqlite"
    with pytest.raises(ConfigurationError) as caught:
        open_store(f"sqlite:///{target}?{query}")
    message = str(caught.value)
    assert f"gives {named}" in message
    assert "give each parameter once" in message
    assert not target.exists()


def test_a_repeated_parameter_in_a_memory_url_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="gives mode='ro', 'ro'"):
        open_store("memory://?mode=ro&mode=ro")


def test_each_parameter_once_still_opens(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'm.sqlite'}?embed=hashing&dims=32&fields=content")
    store.put(("a",), "k", {"content": "x"})
    assert store.get(("a",), "k") is not None
