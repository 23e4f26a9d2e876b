"""Small git repositories made in the test, standing in for the public data sets' sources."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

GitRepo = Callable[[dict[str, Any]], tuple[Path, str]]


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """``make({path: JSON value})`` commits the files to a new repository and returns its work
    tree and the commit. The benches' cache goes to ``tmp_path`` (``$XDG_CACHE_HOME``)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    made = 0

    def make(files: dict[str, Any]) -> tuple[Path, str]:
        nonlocal made
        made += 1
        root = tmp_path / f"repo{made}"
        for name, value in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(json.dumps(value))

        def git(*args: str) -> str:
            return subprocess.run(
                ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t", *args],
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()

        git("init", "-q")
        git("add", "-A")
        git("commit", "-q", "-m", "data")
        return root, git("rev-parse", "HEAD")

    return make
