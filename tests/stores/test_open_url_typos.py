"""A PostgreSQL or memory URL missing its '//' (``postgresql:/db``, ``memory:``) is refused
naming the form to use; before, it opened a SQLite file named after the rest ('/db' at the
file-system root, or 'memory:' in the working folder)."""

from __future__ import annotations

from pathlib import Path

import pytest

from langmem.errors import ConfigurationError
from langmem.stores import open_store


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("postgresql:/memories", "postgresql://"),
        ("postgres:app@db/memories", "postgres://"),
        ("memory:", "memory://"),
        ("MEMORY:/", "memory://"),
    ],
)
def test_a_scheme_without_slashes_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, hint: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError) as caught:
        open_store(url)
    assert repr(url) in str(caught.value) and hint in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_sqlite_short_forms_still_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("sqlite:relative.sqlite?embed=hashing&dims=8")
    store.put(("a",), "k", {"content": "x"})
    assert (tmp_path / "relative.sqlite").exists()
