"""Without --namespace, `memories list` and `memories search` show memories only: langmem's own
records (change history, under ``__langmem__``) appear only when their namespace is named."""

from __future__ import annotations

import json
from pathlib import Path

from langmem.stores import open_store
from tests.cli._support import run, seeded_store


def _records(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _store_with_history(folder: Path) -> str:
    url = seeded_store(folder)
    for args in (
        ("memories", "update", "b1", "likes oolong tea", "-n", "memories/bob"),
        ("memories", "update", "a1", "allergic to peanuts and tea", "-n", "memories/alice"),
        ("memories", "delete", "a2", "-n", "memories/alice"),
    ):
        result = run(*args, "--store", url)
        assert result.exit_code == 0, result.stderr
    return url


def test_list_leaves_langmems_records_out_unless_named(tmp_path: Path) -> None:
    url = _store_with_history(tmp_path)
    listed = _records(run("memories", "list", "--store", url).stdout)
    assert sorted(r["key"] for r in listed) == ["a1", "b1"]
    assert all(r["namespace"][0] == "memories" for r in listed)  # type: ignore[index]
    # the newest changes are history records: paging must skip them, not come up short
    first = _records(run("memories", "list", "--limit", "1", "--store", url).stdout)
    second = _records(
        run("memories", "list", "--limit", "1", "--offset", "1", "--store", url).stdout
    )
    assert [first[0]["key"], second[0]["key"]] == [r["key"] for r in listed[:2]]
    history = _records(
        run("memories", "list", "-n", "__langmem__/history/memories/bob", "--store", url).stdout
    )
    assert [r["value"]["key"] for r in history] == ["b1"]  # type: ignore[index]


def test_search_leaves_langmems_records_out_with_and_without_explain(tmp_path: Path) -> None:
    url = _store_with_history(tmp_path)
    with open_store(url) as store:  # an indexed record of langmem's (as "as of" search makes)
        store.put(("__langmem__", "archive", "memories", "bob"), "b0", {"content": "tea tea tea"})
    for extra in ((), ("--explain",)):
        found = _records(run("memories", "search", "tea", "-l", "2", *extra, "--store", url).stdout)
        assert len(found) == 2
        assert all(r["namespace"][0] == "memories" for r in found)  # type: ignore[index]
    named = run("memories", "search", "tea", "-n", "__langmem__/archive", "--store", url).stdout
    assert [r["key"] for r in _records(named)] == ["b0"]
