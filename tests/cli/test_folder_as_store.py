"""`--store FOLDER`: the CLI names the folder as a folder and suggests a file in it (it said
"disk I/O error" before)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli._support import run


@pytest.mark.parametrize(
    "command", [("memories", "search", "tea"), ("memories", "list"), ("store", "info")]
)
def test_a_folder_given_as_the_store_is_named_a_folder(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = run(*command, "--store", str(tmp_path))
    assert result.exit_code != 0
    assert "is a folder" in result.output
    assert str(tmp_path / "memories.sqlite") in result.output
    assert "disk I/O" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing created in it
