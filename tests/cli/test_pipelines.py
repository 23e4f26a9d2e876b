"""`langmem extract | summarize | optimize` with a scripted model, and their error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langmem.testing import ScriptedChatModel, ai_tool_calls
from tests.cli._support import run

CONVERSATION = [
    {"role": "user", "content": "I'm allergic to peanuts, and I moved to Lisbon last year."},
    {"role": "assistant", "content": "Noted: no peanuts. How do you like Lisbon?"},
]


def _file(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_extract_json_and_jsonl(tmp_path: Path, model: ScriptedChatModel) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    model.queue(ai_tool_calls(("Memory", {"content": "Allergic to peanuts"})))
    source = _file(tmp_path, "chat.json", json.dumps({"messages": CONVERSATION}))
    result = run(
        "extract", source, "-m", "openai:gpt-4o-mini", "-n", "memories/ana", "--store", url
    )
    assert result.exit_code == 0, result.stderr
    (record,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert record["namespace"] == ["memories", "ana"]
    assert record["value"]["content"] == {"content": "Allergic to peanuts"}
    assert model.calls == 1
    assert "Lisbon" in model.requests[0].text()

    model.queue(ai_tool_calls(("Memory", {"content": "Lives in Lisbon"})))
    lines = "".join(json.dumps(m) + "\n" for m in CONVERSATION)
    result = run(
        "extract", "-", "-m", "openai:x", "-n", "memories/ana", "--store", url, input=lines
    )
    assert result.exit_code == 0, result.stderr
    listed = run("memories", "list", "-n", "memories/ana", "--store", url).stdout.splitlines()
    assert len(listed) == 2


def test_summarize(tmp_path: Path, model: ScriptedChatModel) -> None:
    long = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " * 40}
        for i in range(12)
    ]
    model.default = "The user and assistant exchanged twelve numbered turns."
    source = _file(tmp_path, "chat.json", json.dumps(long))
    result = run("summarize", source, "-m", "openai:gpt-4o-mini", "--max-tokens", "400")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["summary"] == "The user and assistant exchanged twelve numbered turns."
    assert 0 < len(record["messages"]) < len(long)
    assert model.calls >= 1


def test_optimize(tmp_path: Path, model: ScriptedChatModel) -> None:
    model.queue(ai_tool_calls(("submit_prompt", {"changed": True, "new_prompt": "Be brief."})))
    trajectories = _file(
        tmp_path,
        "t.jsonl",
        json.dumps({"messages": CONVERSATION, "feedback": "too long"}) + "\n",
    )
    result = run(
        "optimize", "-p", "Answer.", "-t", trajectories, "-m", "openai:x", "--kind", "prompt_memory"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '{"prompt":"Be brief.","changed":true}\n'
    assert model.calls == 1
    assert "too long" in model.requests[0].text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[{"role": "user"}]',
            'message 1: {"role": "user"} is not a {"role": ..., "content": ...}',
        ),
        ('{"role": "user", "content": "a"}\n{oops\n', "line 2: not JSON (Expecting property name"),
        ("[1, 2", "line 1: not JSON (Expecting ',' delimiter)"),
        ("", "holds no messages: give at least one."),
    ],
)
def test_malformed_conversation(
    tmp_path: Path, model: ScriptedChatModel, text: str, message: str
) -> None:
    source = _file(tmp_path, "bad.json", text)
    result = run("extract", source, "-m", "openai:x", "--store", str(tmp_path / "s.sqlite"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: '{source}', {message}") or result.stderr.startswith(
        f"error: '{source}' {message}"
    ), result.stderr
    assert model.calls == 0


# langchain-openai probes socket options (no connection) while it builds its client
@pytest.mark.filterwarnings("ignore:A test tried to use socket")
def test_missing_api_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    source = _file(tmp_path, "chat.json", json.dumps(CONVERSATION))
    result = run("summarize", source, "-m", "openai:gpt-4o-mini")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: model 'openai:gpt-4o-mini' needs an API key: set OPENAI_API_KEY (the "
        "langchain-openai client found none).\n"
    )


def test_missing_provider_package(tmp_path: Path) -> None:
    source = _file(tmp_path, "chat.json", json.dumps(CONVERSATION))
    result = run("extract", source, "-m", "groq:llama-3.1-8b", "--store", str(tmp_path / "s.db"))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: model='groq:llama-3.1-8b' needs the provider integration that is not installed: "
        "install `pip install langchain-groq`, or pass a chat model object instead.\n"
    )
    assert not (tmp_path / "s.db").exists()


def test_missing_trajectories_and_prompt_file(tmp_path: Path) -> None:
    result = run("optimize", "-p", "x", "-t", str(tmp_path / "none.jsonl"), "-m", "openai:x")
    assert result.exit_code == 2
    assert result.stderr == (  # one line, as every error (click printed four)
        "error: Invalid value for '--trajectories' / '-t': "
        f"'{tmp_path / 'none.jsonl'}': No such file or directory (see `langmem optimize --help`)\n"
    )
    empty = _file(tmp_path, "t.jsonl", "\n")
    result = run("optimize", "-p", "@nope.txt", "-t", empty, "-m", "openai:x")
    assert result.stderr == (
        "error: --prompt '@nope.txt': file 'nope.txt' does not exist. Fix: check the path "
        "after '@', or give the prompt's text without '@'.\n"
    )
