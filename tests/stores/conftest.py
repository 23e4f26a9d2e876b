"""Fixtures shared by the store tests."""

from __future__ import annotations

import pytest

from langmem.stores import _snapshot


@pytest.fixture
def small_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cache every store with at least 10 texts (the real threshold is 20k)."""
    monkeypatch.setattr(_snapshot, "MIN_ROWS", 10)
    monkeypatch.delenv(_snapshot.ENV, raising=False)
