"""Changes made through the command are recorded in the memory history, and a namespace's
export carries those records, so another store gets them back on import."""

from __future__ import annotations

import json
from pathlib import Path

from langmem.knowledge.history import History
from langmem.stores import open_store
from tests.cli._support import run, seeded_store


def test_add_update_delete_are_recorded_as_cli_changes(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    ns = ["--namespace", "memories/alice", "--store", url]
    assert run("memories", "add", "Likes green tea", "--key", "t1", *ns).exit_code == 0
    assert run("memories", "update", "t1", "Likes black tea", *ns).exit_code == 0
    assert run("memories", "delete", "t1", *ns).exit_code == 0

    changes = History(open_store(url)).history(("memories", "alice"), "t1")
    assert [(c["op"], c["component"]) for c in changes] == [
        ("create", "cli"),
        ("update", "cli"),
        ("delete", "cli"),
    ]
    assert changes[1]["previous"] == {"content": "Likes green tea"}
    assert changes[1]["value"] == {"content": "Likes black tea"}


def test_a_namespace_export_carries_its_history_to_another_store(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    ns = ["--namespace", "memories/alice", "--store", url]
    run("memories", "add", "Likes green tea", "--key", "t1", *ns)
    run("memories", "update", "t1", "Likes black tea", *ns)

    exported = run("memories", "export", *ns).stdout
    namespaces = [tuple(json.loads(line)["namespace"]) for line in exported.splitlines()]
    assert ("memories", "alice") in namespaces
    assert ("__langmem__", "history", "memories", "alice") in namespaces
    assert ("memories", "bob") not in namespaces
    assert not any(n[2:] == ("memories", "bob") for n in namespaces if n[0] == "__langmem__")

    dump = tmp_path / "alice.jsonl"
    dump.write_text(exported, encoding="utf-8")
    other = f"sqlite:///{tmp_path / 'other.sqlite'}?embed=hashing"
    assert run("memories", "import", str(dump), "--store", other).exit_code == 0
    copied = History(open_store(other)).history(("memories", "alice"), "t1")
    assert [c["op"] for c in copied] == ["create", "update"]
    assert run("memories", "export", "--namespace", "memories/alice", "--store", other).stdout == (
        exported
    )
