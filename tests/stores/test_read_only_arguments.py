"""``read_only=`` and ``mode=ro`` as a new user gives them: a non-bool is refused (a string
such as ``"false"`` must not silently open a file read-only), and ``mode=ro`` on an in-memory
URL is refused as ``read_only=True`` on ``":memory:"`` is (it was silently ignored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from langmem.errors import ConfigurationError
from langmem.stores import SqliteStore, open_store
from langmem.testing import HashingEmbeddings


@pytest.mark.parametrize("given", ["false", "true", 1, 0, None])
def test_read_only_that_is_not_a_bool_is_refused(tmp_path: Path, given: Any) -> None:
    path = tmp_path / "m.sqlite"
    with SqliteStore(path, index={"embed": HashingEmbeddings(dims=64), "dims": 64}) as store:
        store.put(("a",), "1", {"content": "likes tea"})
    with pytest.raises(ConfigurationError) as caught:
        SqliteStore(path, read_only=given)
    message = str(caught.value)
    assert f"read_only={given!r}" in message
    assert "Fix: pass read_only=True or read_only=False" in message
    with SqliteStore(path) as store:
        assert store.read_only is False
        assert store.get(("a",), "1") is not None


@pytest.mark.parametrize("url", ["memory://?mode=ro", "sqlite:///:memory:?mode=ro"])
def test_mode_ro_on_an_in_memory_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"nothing to read.*or mode=ro\) out"):
        open_store(f"{url}&embed=hashing")
