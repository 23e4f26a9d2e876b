"""Shared fixtures: every test runs with user paths pointed at a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests judge behaviour, never speed: a busy 2-core CI machine must not fail them.
settings.register_profile("langmem", deadline=None, print_blob=True)
settings.load_profile("langmem")


@pytest.fixture(autouse=True)
def _isolated_user_paths(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Point langmem's data directory at a fresh temporary folder for each test."""
    home = tmp_path_factory.mktemp("langmem-home")
    monkeypatch.setenv("LANGMEM_HOME", str(home))
    yield home
