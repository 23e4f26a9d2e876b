"""Session 9's CLI leftovers: `memories add -k EXISTING` overwrote the memory, `langmem --bogus`
printed click's three lines, and `store reembed --dims 3 --embed minilm` on a store without
vectors recorded dims 3 (every later add then failed). PostgreSQL twins:
tests/postgres/test_cli_leftovers_s10.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from langmem import History
from langmem.errors import WriteConflictError
from langmem.stores import SqliteStore

from ._support import run, seed_text


def check_add_existing_key(url: str) -> None:
    first = run(
        "memories", "add", "Alice likes tea", "-k", "k1", "-n", "memories/alice", "--store", url
    )
    assert first.exit_code == 0, first.stderr
    again = run(
        "memories", "add", "Alice likes coffee", "-k", "k1", "-n", "memories/alice", "--store", url
    )
    assert again.exit_code == 1
    assert again.stderr.startswith(
        "error: a memory with key 'k1' already exists in namespace 'memories/alice' of "
    )
    assert again.stderr.rstrip().endswith(
        ": nothing was written. Fix: change it with `langmem memories update k1 TEXT -n "
        "memories/alice`, add --replace to overwrite it, or leave --key out for a new key."
    )
    assert again.stderr.count("\n") == 1
    got = run("memories", "get", "k1", "-n", "memories/alice", "--store", url)
    assert json.loads(got.stdout)["value"] == {"content": "Alice likes tea"}
    replaced = run(
        "memories", "add", "Alice likes coffee", "-k", "k1", "-n", "memories/alice",
        "--replace", "--store", url,
    )  # fmt: skip
    assert replaced.exit_code == 0, replaced.stderr
    assert json.loads(replaced.stdout)["value"] == {"content": "Alice likes coffee"}
    # import still overwrites (it restores what an export holds)
    imported = run("memories", "import", "-", "--store", url, input=seed_text())
    again_imported = run("memories", "import", "-", "--store", url, input=seed_text())
    assert imported.exit_code == again_imported.exit_code == 0, again_imported.stderr


def test_add_with_an_existing_key_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    check_add_existing_key(url)
    with SqliteStore(tmp_path / "s.sqlite") as store:
        records = History(store).history(("memories", "alice"), "k1")
    assert [r["op"] for r in records] == ["create", "update"]  # the refused add: no record
    assert records[1]["previous"] == {"content": "Alice likes tea"}


def test_unknown_root_options_are_one_line() -> None:
    for args, message in [
        (["--bogus"], "error: No such option '--bogus'. (see `langmem --help`)"),
        (["--versio"], "error: No such option '--versio'. Did you mean '--version'? (see"),
        (["bogus"], "error: No such command 'bogus'. (see `langmem --help`)"),
        (
            ["--store", "x.sqlite", "memories", "list"],
            "error: --store is an option of each command, not of langmem itself: put it "
            "after the command, e.g. `langmem memories list --store URL`.",
        ),
        (["--table", "memories", "list"], "error: --table is an option of each command"),
    ]:
        result = run(*args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith(message), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""


def test_no_arguments_print_the_help() -> None:
    """`langmem` and `langmem memories` without a command print the help as click does (the
    one-line error boundary had caught click 8.2+'s "no arguments: help" usage error and
    printed the whole help folded into one "error:" line)."""
    for args, usage in [
        ([], "Usage: langmem [OPTIONS] COMMAND [ARGS]..."),
        (["memories"], "Usage: langmem memories [OPTIONS] COMMAND [ARGS]..."),
    ]:
        result = run(*args)
        shown = result.stdout + result.stderr
        assert shown.startswith(usage), shown
        assert "\nCommands:\n" in shown and "error:" not in shown
        assert result.exit_code in (0, 2)  # click < 8.2: 0; click 8.2+: 2


def test_reembed_dims_the_model_does_not_make_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.sqlite"
    with SqliteStore(path) as plain:  # no index: memories without vectors
        plain.put(("memories",), "m1", {"content": "Alice likes tea"})
    url = f"sqlite:///{path}"
    result = run("store", "reembed", "--embed", "minilm", "--dims", "3", "--store", url)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: dims=3 does not match the embeddings: sentence-transformers/all-MiniLM-L6-v2 "
    ), result.stderr
    assert "returns vectors of 384 values" in result.stderr
    assert "Fix: pass dims=384 (CLI: --dims 384, or leave --dims out" in result.stderr
    added = run("memories", "add", "Alice likes jazz", "-n", "memories", "--store", url)
    assert added.exit_code == 0, added.stderr  # not broken by a recorded dims 3
    assert run("store", "reembed", "--embed", "minilm", "--store", url).exit_code == 0
    found = run("memories", "search", "music", "-n", "memories", "--store", url)
    assert json.loads(found.stdout.splitlines()[0])["value"] == {"content": "Alice likes jazz"}


def test_update_of_a_memory_deleted_meanwhile_does_not_recreate_it(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """`memories update` checks the memory exists, then writes: a delete in between (made
    here where the command reads the memory's TTL) turned the update into a "create"."""
    from langmem.cli import _memories

    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    assert run("memories", "add", "tea", "-k", "k1", "-n", "m", "--store", url).exit_code == 0
    real = _memories._transfer.stored_ttls

    def deleted_meanwhile(store: Any, labels: Any, key: Any) -> Any:
        store.delete(labels, key)
        return real(store, labels, key)

    monkeypatch.setattr(_memories._transfer, "stored_ttls", deleted_meanwhile)
    result = run("memories", "update", "k1", "coffee", "-n", "m", "--store", url)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no memory with key 'k1' in namespace 'm' of ")
    with SqliteStore(tmp_path / "m.sqlite") as store:
        assert store.get(("m",), "k1") is None
        assert [r["op"] for r in History(store).history(("m",), "k1")] == ["create"]


def test_replace_without_key_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    result = run("memories", "add", "tea", "-n", "m", "--replace", "--store", url)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --replace needs --key: ")
    assert not (tmp_path / "m.sqlite").exists()


def test_history_put_must_exist(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "m.sqlite") as store:
        history = History(store)
        with pytest.raises(WriteConflictError, match="no memory is stored under key 'k'"):
            history.put(("m",), "k", {"content": "x"}, must_exist=True)
        assert history.put(("m",), "k", {"content": "x"}, must_exist=False)["op"] == "create"
        with pytest.raises(WriteConflictError, match="a memory is stored under key 'k'"):
            history.put(("m",), "k", {"content": "y"}, must_exist=False)
        assert history.put(("m",), "k", {"content": "y"}, must_exist=True)["op"] == "update"
        assert [r["op"] for r in history.history(("m",), "k")] == ["create", "update"]
