"""`langmem summarize` echoes the kept messages: a lone surrogate in the input file (a JSON
"\\ud800" escape) made the command fail at its very last step with "'utf-8' codec can't encode
character", after the model had been called. It is now written as '?'."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langmem.cli import _pipelines
from langmem.testing import ScriptedChatModel
from tests.cli._support import run


@pytest.mark.parametrize("table", [False, True])
def test_summarize_prints_messages_holding_lone_surrogates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: bool
) -> None:
    monkeypatch.setattr(_pipelines, "load_model", lambda spec: ScriptedChatModel(default="s"))
    source = tmp_path / "chat.json"
    source.write_text('{"messages": [{"role": "user", "content": "caf\\ud800"}]}', "utf-8")
    args = [
        "summarize",
        str(source),
        "-m",
        "x:y",
        "--max-tokens",
        "64",
        "--max-summary-tokens",
        "16",
    ]
    result = run(*args, *(["--table"] if table else []))
    assert result.exit_code == 0, result.stderr
    if table:
        assert "caf?" in result.stdout
    else:
        assert json.loads(result.stdout)["messages"][0]["content"] == "caf?"
