"""`langmem store reembed --fields` on PostgreSQL refuses fields that find no text in an
indexed memory, as on the embedded store (tests/cli/test_hostile_pass9.py): the re-embed left
them without vectors for good."""

from __future__ import annotations

import json

from tests.cli._support import run, seed_text


def test_fields_that_find_no_text_are_refused(pg_database: str) -> None:
    url = f"{pg_database}?embed=hashing"
    assert run("memories", "import", "-", "--store", url, input=seed_text()).exit_code == 0
    result = run("store", "reembed", "--fields", "contnet", "--store", url)
    assert result.exit_code == 1
    assert "error: --fields 'contnet' finds no text in 3 of the 3 indexed memories" in (
        result.stderr
    )
    again = run("store", "reembed", "--fields", "content", "--store", url)
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["reembedded"] == 3
    hit = run("memories", "search", "marathon", "--limit", "1", "--store", url)
    assert json.loads(hit.stdout)["key"] == "b1"
