"""A namespace whose labels hold '/' (the tools store them, e.g. a user id "org/ana" from the
run context) can be named on the command line as a JSON list; a bad list says how to write it."""

from __future__ import annotations

import json
from pathlib import Path

from langmem import create_manage_memory_tool
from langmem.stores import open_store
from tests.cli._support import run


def test_a_label_with_a_slash_is_reachable(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing&dims=16"
    store = open_store(url)
    tool = create_manage_memory_tool(("memories", "{user_id}"), store=store)
    tool.invoke({"content": "likes tea"}, {"configurable": {"user_id": "org/ana"}})
    store.close()  # type: ignore[attr-defined]
    named = '["memories", "org/ana"]'
    listed = run("memories", "list", "-n", named, "--store", url)
    assert listed.exit_code == 0, listed.stderr
    (record,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert record["namespace"] == ["memories", "org/ana"]
    assert run("memories", "list", "-n", "memories/org/ana", "--store", url).stdout == ""
    deleted = run("memories", "delete", record["key"], "-n", named, "--store", url)
    assert deleted.exit_code == 0, deleted.stderr


def test_a_bad_json_namespace_says_how() -> None:
    for bad in ('["memories", ""]', "[1]", "[", '["a.b"]', "[]"):
        result = run("memories", "list", "-n", bad, "--store", "memory://")
        assert result.exit_code == 1
        assert "as JSON it must be a list of non-empty labels" in result.stderr
