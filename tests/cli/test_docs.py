"""docs/cli.md is the command's own help; regenerate it with `make docs-cli`."""

from __future__ import annotations

from pathlib import Path

from langmem.cli import _docs

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_cli_reference_matches_the_command() -> None:
    assert DOC.read_text(encoding="utf-8") == _docs.render(), (
        "docs/cli.md is out of date: run `make docs-cli`"
    )


def test_every_command_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for command in (
        "memories add",
        "memories get",
        "memories list",
        "memories search",
        "memories update",
        "memories delete",
        "memories export",
        "memories import",
        "extract",
        "summarize",
        "optimize",
        "queue list",
        "queue show",
        "queue retry",
        "queue purge",
        "store info",
        "store reembed",
        "store copy",
        "demo",
    ):
        assert f"`langmem {command}`" in text, command
