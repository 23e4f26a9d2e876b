"""Numeric options refuse what their rule does not allow: `queue purge --older-than nan` passed
click's `x>=0` (no comparison with NaN is true) and purged nothing, as did `inf` and `1e309`.
Every numeric option now names the value, the rule and an example, with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli._support import run
from tests.cli.test_queue import _queue_with_tasks

NOT_DURATIONS = ["nan", "NaN", "inf", "-inf", "1e309", "-1", "", " ", "abc", "1s"]


@pytest.mark.parametrize("value", NOT_DURATIONS)
def test_purge_older_than_takes_finite_seconds_only(tmp_path: Path, value: str) -> None:
    path = tmp_path / "q.sqlite"
    _queue_with_tasks(path)
    before = path.read_bytes()
    result = run("queue", "purge", "--older-than", value, "--store", str(path))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        f"Invalid value for '--older-than': {value!r} is not a finite number of seconds of 0 or "
        "more: give one, e.g. --older-than 86400 (a day)." in " ".join(result.stderr.split())
    )
    assert path.read_bytes() == before


def test_purge_older_than_still_purges(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    _queue_with_tasks(path)  # the tasks were last updated in 1970
    result = run("queue", "purge", "--older-than", "1e9", "--store", str(path))
    assert json.loads(result.stdout) == {"purged": 1, "statuses": ["done", "replaced", "cancelled"]}


@pytest.mark.parametrize(
    ("command", "option", "rule"),
    [
        (["memories", "list"], "--limit", "1 or more: give one, e.g. --limit 20."),
        (["memories", "list"], "--offset", "0 or more: give one, e.g. --offset 20."),
        (["memories", "search", "q"], "--limit", "1 or more: give one, e.g. --limit 10."),
        (["queue", "list"], "--limit", "1 or more: give one, e.g. --limit 50."),
        (["store", "reembed"], "--dims", "1 or more: give one, e.g. --dims 384."),
        (["store", "reembed"], "--batch-size", "1 or more: give one, e.g. --batch-size 64."),
        (["summarize", "x.json", "-m", "x:y"], "--max-tokens", "16 or more"),
        (["summarize", "x.json", "-m", "x:y"], "--max-summary-tokens", "16 or more"),
    ],
)
@pytest.mark.parametrize("value", ["nan", "inf", "1e309", "-1", "", "2.5", "ten"])
def test_whole_number_options_name_the_rule(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
    option: str,
    rule: str,
    value: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.json").write_text('[{"role": "user", "content": "hi"}]')
    store = [] if command[0] == "summarize" else ["--store", str(tmp_path / "none.sqlite")]
    result = run(*command, option, value, *store)
    assert result.exit_code == 2, result.output
    assert f"{value!r} is not a whole number of {rule}" in " ".join(result.stderr.split())
