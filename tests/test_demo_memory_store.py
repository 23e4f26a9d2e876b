"""The demo on an in-memory default store does not claim that its memories are kept."""

from __future__ import annotations

import pytest

from langmem import _demo
from langmem.stores import _open


def test_the_demo_on_memory_says_nothing_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGMEM_STORE", "memory://?embed=hashing&dims=16")
    monkeypatch.setattr(_open, "_defaults", {})
    lines: list[str] = []
    _demo.main(lines.append)
    assert lines[-1] == "\nThis store is in memory (LANGMEM_STORE=memory://): nothing was kept."
    assert not any("still there" in line for line in lines)
