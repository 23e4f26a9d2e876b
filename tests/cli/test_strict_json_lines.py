"""The command's JSON Lines are JSON every reader parses: an infinite number is written 1e999
(``Infinity`` before, which jq and JavaScript refuse), and NaN is refused when adding, naming
where. Before, `memories add --value '{"a": NaN}'` stored the value and then failed with an
error calling the store file damaged."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tests.cli._support import run


def _strict(text: str) -> list[dict[str, Any]]:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} is not JSON")

    return [json.loads(x, parse_constant=refuse) for x in text.splitlines()]


def test_infinity_is_written_as_a_json_number_and_round_trips(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}?embed=hashing"
    added = run("memories", "add", "--value", '{"d": Infinity}', "-n", "n/u", "--store", url)
    assert added.exit_code == 0, added.stderr
    (record,) = _strict(added.stdout)
    assert record["value"] == {"d": math.inf}
    listed = run("memories", "list", "-n", "n/u", "--store", url, "-f", "d=1")
    assert listed.exit_code == 0, listed.stderr  # a filtered read of that namespace
    exported = run("memories", "export", "-n", "n", "--store", url)
    records = _strict(exported.stdout)  # the memory, and its history record
    assert [r["value"] for r in records if r["namespace"] == ["n", "u"]] == [{"d": math.inf}]
    target = f"sqlite:///{tmp_path / 'b.sqlite'}?embed=hashing"
    imported = run("memories", "import", "-", "--store", target, input=exported.stdout)
    assert imported.exit_code == 0, imported.stderr
    again = run("memories", "export", "-n", "n", "--store", target)
    assert again.stdout == exported.stdout


def test_nan_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}?embed=hashing"
    run("memories", "add", "first", "-n", "n/u", "--store", url)
    added = run("memories", "add", "--value", '{"a": [NaN]}', "-n", "n/u", "--store", url)
    assert added.exit_code == 1
    assert "NaN at value['a'][0]" in added.stderr and "damaged" not in added.stderr
    listed = run("memories", "list", "-n", "n/u", "--store", url)
    assert [r["value"] for r in _strict(listed.stdout)] == [{"content": "first"}]
