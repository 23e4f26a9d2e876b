"""Standard input or output closed (`<&-`, `>&-`, a parent process without them): `import -`
failed with click's AttributeError, and a command whose stdout was closed printed into nothing
and exited 0 (a script could not tell it from success). Each is now refused before anything is
done, naming the stream and the fix."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from langmem.cli import cli
from tests.cli._support import SEED, line, seeded_store


def _main(*args: str) -> int:
    """The command in this process (so sys.stdin / sys.stdout can be taken away)."""
    with pytest.raises(SystemExit) as stopped:
        cli.main(list(args), prog_name="langmem")
    code = stopped.value.code
    return code if isinstance(code, int) else 1


def test_import_from_a_closed_stdin_names_the_fix_and_changes_nothing(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    path = tmp_path / "seed.sqlite"
    before = path.read_bytes()
    process = subprocess.run(
        [sys.executable, "-m", "langmem", "memories", "import", "-", "--store", url],
        preexec_fn=lambda: os.close(0),  # what `<&-` does
        capture_output=True,
        text=True,
        env={**os.environ, "LANGMEM_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"},
        timeout=120,
    )
    assert process.returncode == 2, process.stderr
    assert "AttributeError" not in process.stderr and "Traceback" not in process.stderr
    message = " ".join(process.stderr.split())
    assert "Invalid value for 'SOURCE': '-' reads standard input, which is closed" in message
    assert "nothing was read or changed" in message
    assert "Fix: pipe the input in" in message and "give a file path instead of '-'" in message
    assert process.stdout == ""
    assert path.read_bytes() == before


def test_a_closed_stdin_is_refused_in_process_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = seeded_store(tmp_path)
    monkeypatch.setattr(sys, "stdin", None)
    assert _main("memories", "import", "-", "--store", url) == 2
    assert "'-' reads standard input, which is closed" in capsys.readouterr().err
    for command in (["summarize", "-"], ["extract", "-"]):
        assert _main(*command, "-m", "openai:gpt-4o-mini") == 2
        assert "'-' reads standard input, which is closed" in capsys.readouterr().err


@pytest.mark.parametrize(
    "command",
    [
        ["memories", "list"],
        ["memories", "list", "--table"],
        ["memories", "export"],
        ["memories", "search", "jazz"],
        ["store", "info"],
    ],
)
def test_a_closed_stdout_is_refused_before_anything_is_done(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    url = seeded_store(tmp_path)
    path = tmp_path / "seed.sqlite"
    before = path.read_bytes()
    monkeypatch.setattr(sys, "stdout", None)
    assert _main(*command, "--store", url) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: standard output is closed"), err
    assert "nothing was done" in err and "Fix: send it to a file" in err
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("command", "check"),
    [
        (["memories", "add", "Carol likes jazz", "-n", "memories/carol", "-k", "c1"], "c1"),
        (["memories", "delete", "a1", "-n", "memories/alice"], "a1"),
    ],
)
def test_a_command_run_for_its_change_works_with_stdout_closed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    check: str,
) -> None:
    """A cron job's `langmem memories add ... >&-` does its work and prints nothing (exit 0),
    as a shell tool does; only commands whose printout is the product are refused."""
    from langmem.stores import SqliteStore

    url = seeded_store(tmp_path)
    namespace = tuple(command[command.index("-n") + 1].split("/"))
    monkeypatch.setattr(sys, "stdout", None)
    assert _main(*command, "--store", url) == 0
    assert capsys.readouterr().err == ""
    with SqliteStore(str(tmp_path / "seed.sqlite")) as store:
        found = store.get(namespace, check)
    assert (found is not None) == (command[1] == "add")


def test_export_to_a_file_needs_no_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = seeded_store(tmp_path)
    target = tmp_path / "out.jsonl"
    monkeypatch.setattr(sys, "stdout", None)
    assert _main("memories", "export", "-o", str(target), "--store", url) == 0
    assert capsys.readouterr().err == ""
    assert [json.loads(x) for x in target.read_text().splitlines()] == sorted(
        (json.loads(line(r)) for r in SEED), key=lambda r: (r["namespace"], r["key"])
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_reading_from_a_terminal_says_how_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`langmem memories import -` typed without a pipe waited silently: it looked hung."""
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    monkeypatch.setattr(sys, "stdin", _Terminal(line(SEED[0]) + "\n"))
    assert _main("memories", "import", "-", "--store", url) == 0
    out, err = capsys.readouterr()
    assert err.startswith("note: reading from the terminal: type or paste the input, then ")
    assert json.loads(out) == {"imported": 1, "namespaces": ["memories/alice"]}
