"""Empty option values that used to be taken as "not given": `memories add --key ''` made a
UUID key, and `store reembed --fields ''` (or ',,') re-embedded the whole store with the
current fields. Both are refused, naming the option and the fix, with nothing changed. And a
key named twice on `memories delete` is deleted and reported once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli._support import run, seeded_store


def test_an_empty_key_is_refused(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    before = run("memories", "export", "--store", url).stdout
    result = run("memories", "add", "hello", "-n", "memories/alice", "-k", "", "--store", url)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --key '' is empty: give the memory's key")
    assert run("memories", "export", "--store", url).stdout == before


@pytest.mark.parametrize("fields", ["", ",,", " , "])
def test_fields_that_name_nothing_are_refused(tmp_path: Path, fields: str) -> None:
    url = seeded_store(tmp_path)
    before = run("store", "info", "--store", url).stdout
    result = run("store", "reembed", "--fields", fields, "--store", url)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: --fields {fields!r} names no field")
    assert run("store", "info", "--store", url).stdout == before  # generation unchanged


def test_a_key_and_fields_given_still_work(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    added = run("memories", "add", "hello", "-n", "memories/alice", "-k", "k1", "--store", url)
    assert added.exit_code == 0 and '"key":"k1"' in added.stdout
    result = run("store", "reembed", "--fields", "content", "--store", url)
    assert result.exit_code == 0, result.stderr
    assert '"fields":["content"]' in result.stdout


def test_a_key_named_twice_is_deleted_and_reported_once(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    result = run("memories", "delete", "a1", "a1", "-n", "memories/alice", "--store", url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == '{"namespace":["memories","alice"],"key":"a1","deleted":true}\n'


def test_an_empty_update_text_shows_an_update(tmp_path: Path) -> None:
    url = seeded_store(tmp_path)
    result = run("memories", "update", "a1", " ", "-n", "memories/alice", "--store", url)
    assert result.exit_code == 1
    assert 'e.g. `langmem memories update a1 "prefers tea" -n memories/alice`' in result.stderr
