"""export -> import -> export keeps every key a store accepts, the empty key included (import
refused the line that export wrote for it, so a whole export could not be imported)."""

from __future__ import annotations

import math
from pathlib import Path

from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings
from tests.cli._support import run

ODD = {
    "": {"content": "empty key"},
    "line\nbreak": {"content": "x\ny"},
    "é🙂 / with.dots": {"nested": {"deep": [1, {"x": None}]}},
    "k" * 2000: {"content": "long key"},
    "inf": {"value": math.inf},
}


def test_odd_keys_survive_export_and_import(tmp_path: Path) -> None:
    source = SqliteStore(tmp_path / "a.sqlite", index={"dims": 16, "embed": HashingEmbeddings(16)})
    for key, value in ODD.items():
        source.put(("notes", "é"), key, value)
    source.close()
    exported = run("memories", "export", "--store", str(tmp_path / "a.sqlite"))
    assert exported.exit_code == 0, exported.stderr
    dump = tmp_path / "dump.jsonl"
    dump.write_text(exported.stdout, encoding="utf-8")
    target = f"sqlite:///{tmp_path / 'b.sqlite'}?embed=hashing&dims=16"
    imported = run("memories", "import", str(dump), "--store", target)
    assert imported.exit_code == 0, imported.stderr
    again = run("memories", "export", "--store", str(tmp_path / "b.sqlite"))
    assert again.stdout == exported.stdout
    copy = SqliteStore(tmp_path / "b.sqlite")
    for key, value in ODD.items():
        item = copy.get(("notes", "é"), key)
        assert item is not None and item.value == value


def test_a_key_that_is_not_text_is_still_refused(tmp_path: Path) -> None:
    line = (
        '{"namespace":["n"],"key":5,"value":{},"created_at":"2024-01-01T00:00:00+00:00",'
        '"updated_at":"2024-01-01T00:00:00+00:00"}\n'
    )
    result = run(
        "memories", "import", "-", "--store", f"sqlite:///{tmp_path / 'c.sqlite'}", input=line
    )
    assert result.exit_code == 1 and "key 5 must be a string" in result.stderr
