"""`langmem extract | summarize` with odd conversation files: an empty JSON list is refused as
an empty JSON Lines file is (no model call); text that is not UTF-8 names the file and the fix;
the messages `summarize` keeps come out as a conversation that can be fed back (roles as
written in input, tool calls and their ids kept)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langmem.cli import _pipelines
from langmem.testing import ScriptedChatModel
from tests.cli._support import run


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> ScriptedChatModel:
    scripted = ScriptedChatModel()
    monkeypatch.setattr(_pipelines, "load_model", lambda spec: scripted)
    return scripted


@pytest.mark.parametrize("command", ["extract", "summarize"])
@pytest.mark.parametrize("text", ["[]", '{"messages": []}'])
def test_an_empty_json_conversation_is_refused(
    tmp_path: Path, model: ScriptedChatModel, command: str, text: str
) -> None:
    source = tmp_path / "empty.json"
    source.write_text(text, encoding="utf-8")
    extra = ["--store", f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"]
    result = run(command, str(source), "-m", "openai:x", *(extra if command == "extract" else []))
    assert result.exit_code == 1
    assert result.stderr == f"error: '{source}' holds no messages: give at least one.\n"
    assert model.calls == 0


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path, model: ScriptedChatModel) -> None:
    source = tmp_path / "latin1.json"
    source.write_bytes('[{"role": "user", "content": "caf\xe9"}]'.encode("latin-1"))
    result = run("summarize", str(source), "-m", "openai:x")
    assert result.exit_code == 1
    assert f"'{source}'" in result.stderr
    assert "not UTF-8" in result.stderr and "iconv" in result.stderr
    assert model.calls == 0


def test_summarize_keeps_tool_calls_with_their_results(
    tmp_path: Path, model: ScriptedChatModel
) -> None:
    conversation = [
        {"role": "user", "content": "old question " * 60},
        {"role": "assistant", "content": "old answer " * 60},
        {"role": "user", "content": "look it up"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "call-1", "name": "lookup", "args": {"q": "x"}}],
        },
        {"role": "tool", "content": "found it", "tool_call_id": "call-1"},
        {"role": "assistant", "content": "It is x."},
    ]
    model.default = "Earlier, the user asked an old question and got an old answer."
    source = tmp_path / "chat.json"
    source.write_text(json.dumps(conversation), encoding="utf-8")
    result = run(
        "summarize",
        str(source),
        "-m",
        "openai:x",
        "--max-tokens",
        "120",
        "--max-summary-tokens",
        "40",
    )
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["summary"].startswith("Earlier")
    kept = record["messages"]
    assert [m["role"] for m in kept] == ["system", "user", "assistant", "tool", "assistant"]
    assert kept[2]["tool_calls"] == [{"id": "call-1", "name": "lookup", "args": {"q": "x"}}]
    assert kept[3]["tool_call_id"] == "call-1"
    # fed back, the kept messages are a conversation again
    again = tmp_path / "again.json"
    again.write_text(json.dumps(kept), encoding="utf-8")
    model.default = "unused"
    second = run("summarize", str(again), "-m", "openai:x", "--max-tokens", "4000")
    assert second.exit_code == 0, second.stderr
    assert json.loads(second.stdout)["messages"] == kept
