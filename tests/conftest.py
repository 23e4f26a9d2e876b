"""Shared fixtures: every test runs with user paths pointed at a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests import _xdist

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


# `make test` runs the suite on two processes (pytest-xdist): the PostgreSQL tests in one of
# them, one at a time; see tests/_xdist.py.
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    _xdist.check_grouping(items)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist (absent without it)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") == "each":
        return None  # every test in every process: xdist's own
    return _xdist.make_scheduler(config, log)
