"""Session 9's hostile pass over the command, from README.md and docs/cli.md only: each test
fails on the previous main (what it did then is in its docstring)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langmem.testing import ScriptedChatModel
from tests.cli._support import run, seeded_store
from tests.cli.test_queue import _queue_with_tasks


@pytest.mark.parametrize("blank", ["", " "])
def test_a_blank_store_url_is_refused_not_the_default_store(tmp_path: Path, blank: str) -> None:
    """`--store "$TARGET"` with TARGET unset imported into the default store (exit 0); a blank
    one (" ") said "LANGMEM_STORE=none turns the default store off"."""
    source = tmp_path / "one.jsonl"
    source.write_text(
        '{"namespace":["m"],"key":"k","value":{"a":1},"created_at":"2024-01-01T00:00:00",'
        '"updated_at":"2024-01-01T00:00:00"}\n'
    )
    for command in (
        ["memories", "import", str(source), "--store", blank],
        ["memories", "list", "--store", blank],
        ["store", "copy", str(tmp_path / "x.sqlite"), blank],
    ):
        result = run(*command)
        assert result.exit_code == 1, result.output
        assert result.stderr == (
            f"error: store URL {blank!r} is empty (an unset shell variable?): nothing was "
            "opened. Fix: give a store URL, e.g. sqlite:///memories.sqlite, or leave it out "
            "for the default store.\n"
        )
    assert "does not exist" in run("memories", "list").stderr  # no default store was made


def test_a_blank_langmem_store_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """LANGMEM_STORE=" " said "LANGMEM_STORE=none turns the default store off"; the library
    reads a blank LANGMEM_STORE as unset, and so does the command now."""
    monkeypatch.setenv("LANGMEM_STORE", " ")
    result = run("memories", "list")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "none turns" not in result.stderr


def test_a_url_that_is_not_a_url_is_named() -> None:
    """An unclosed IPv6 bracket printed "error: Invalid IPv6 URL" (no URL, no fix)."""
    result = run("memories", "list", "--store", "postgresql://ana:secret@[::1/db")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: store URL 'postgresql://ana:***@[::1/db' is not a URL (Invalid IPv6 URL). "
        "Fix: check it, e.g. postgresql://user:password@[::1]:5432/db (an IPv6 host in "
        "brackets), sqlite:///memories.sqlite, or a file path.\n"
    )


def test_a_nan_filter_is_the_text_nan(tmp_path: Path) -> None:
    """`--filter v=NaN` was read as the number NaN, which equals nothing: the memory whose v
    is the text "NaN" was not found."""
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    run("memories", "add", "--value", '{"v": "NaN", "content": "x"}', "-n", "m", "--store", url)
    run("memories", "add", "--value", '{"v": Infinity}', "-n", "m", "-k", "inf", "--store", url)
    found = run("memories", "list", "-n", "m", "-f", "v=NaN", "--store", url)
    assert [json.loads(x)["value"]["v"] for x in found.stdout.splitlines()] == ["NaN"]
    found = run("memories", "list", "-n", "m", "-f", "v=Infinity", "--store", url)
    assert [json.loads(x)["key"] for x in found.stdout.splitlines()] == ["inf"]  # as --value


def test_export_to_a_folder_or_a_missing_folder_names_the_fix(tmp_path: Path) -> None:
    """Both failed at the first line with click's "Error: Could not open file ...", without
    the option or a fix."""
    url = seeded_store(tmp_path)
    result = run("memories", "export", "-o", str(tmp_path), "--store", url)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: --output {str(tmp_path)!r} is a folder: nothing was")
    assert "Fix: name a file in it" in result.stderr
    missing = tmp_path / "no" / "x.jsonl"
    result = run("memories", "export", "-o", str(missing), "--store", url)
    assert result.exit_code == 1
    assert f"folder {str(missing.parent)!r} does not exist" in result.stderr
    assert "Fix: create it (mkdir -p" in result.stderr
    assert not missing.parent.exists()


def test_retry_checks_every_task_first(tmp_path: Path) -> None:
    """`queue retry FAILED PENDING` retried the first task, then failed at the second."""
    path = tmp_path / "q.sqlite"
    done, failed = _queue_with_tasks(path)
    result = run("queue", "retry", failed, done, "nope", "--store", str(path))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: task '{done}' is done; task 'nope' does not exist: only failed or cancelled "
        "tasks can be retried, so none was. Fix: leave those out (`langmem queue list --status "
        "failed` lists the failed ones).\n"
    )
    shown = json.loads(run("queue", "show", failed, "--store", str(path)).stdout)
    assert shown["status"] == "failed"
    result = run("queue", "retry", failed, failed, "--store", str(path))
    assert result.stdout == f'{{"id":"{failed}","status":"pending"}}\n'


def test_extract_into_langmems_own_records_is_refused_before_the_model(
    tmp_path: Path, model: ScriptedChatModel
) -> None:
    """`extract -n __langmem__/...` loaded the model first (so a missing API key was reported
    instead of the namespace), then refused the namespace."""
    chat = tmp_path / "chat.json"
    chat.write_text('[{"role": "user", "content": "I like tea"}]')
    result = run("extract", str(chat), "-m", "x:y", "-n", "__langmem__/h", "--store", "memory://")
    assert result.exit_code == 1
    assert "starts with '__langmem__', which langmem reserves" in result.stderr
    assert model.__dict__["asked"] == []


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("@{folder}", "'{folder}' is a folder. Fix: name the prompt's file"),
        ("@{folder}/latin1.txt", "'{folder}/latin1.txt' is not UTF-8 text"),
        ("@{folder}/empty.txt", "file '{folder}/empty.txt' of --prompt is empty"),
        ("  ", "--prompt is empty: there is no prompt to improve. Fix: give the prompt's text"),
    ],
)
def test_optimize_prompt_problems_are_named(
    tmp_path: Path, model: ScriptedChatModel, given: str, says: str
) -> None:
    """A folder said "file ... does not exist", a Latin-1 file gave Python's codec message
    (no file, no fix), and an empty prompt was sent to the model to improve."""
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("\n")
    runs = tmp_path / "runs.jsonl"
    runs.write_text('{"messages": [{"role": "user", "content": "hi"}], "feedback": "ok"}\n')
    prompt = given.format(folder=tmp_path)
    result = run("optimize", "-p", prompt, "-t", str(runs), "-m", "x:y")
    assert result.exit_code == 1
    assert says.format(folder=tmp_path) in " ".join(result.stderr.split())
    assert model.__dict__["asked"] == [] and model.requests == []


def test_value_that_is_not_json_names_the_fix(tmp_path: Path) -> None:
    """It named the rule only: "--value '' is not JSON (Expecting value)."."""
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    result = run("memories", "add", "--value", "", "-n", "m", "--store", url)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: --value '' is not JSON (Expecting value). Fix: give a JSON object, e.g. "
        """--value '{"content": "prefers tea"}' (or the text as TEXT, without --value).\n"""
    )


def _found(url: str, query: str) -> list[str]:
    result = run("memories", "search", query, "-n", "memories", "--limit", "1", "--store", url)
    return [json.loads(x)["key"] for x in result.stdout.splitlines()]


@pytest.mark.parametrize("fields", ["contnet", "a..b", "content,kind[0]"])
def test_reembed_fields_that_find_no_text_are_refused(tmp_path: Path, fields: str) -> None:
    """`store reembed --fields contnet` (a typo) re-embedded 0 memories and left them without
    vectors for good: a re-embed only re-embeds memories that have vectors, so a later
    `--fields content` re-embedded 0 too, and search by meaning never found them again.
    ("content,kind[0]" finds text in every memory: it is allowed.)"""
    url = seeded_store(tmp_path)
    before = _found(url, "marathon")
    result = run("store", "reembed", "--fields", fields, "--store", url)
    if fields == "content,kind[0]":
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["reembedded"] == 3
        return
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: fields {fields!r} find no text in 3 of the 3 indexed memories (e.g. key "
        "'a1' in 'memories/alice'): re-embedding would leave them without vectors for good"
    )
    assert "Nothing was re-embedded. Fix: name fields those memories hold" in result.stderr
    again = run("store", "reembed", "--fields", "content", "--store", url)
    assert json.loads(again.stdout)["reembedded"] == 3
    assert _found(url, "marathon") == before == ["b1"]


def test_reembed_allow_unindexed_re_embeds_what_the_fields_find(tmp_path: Path) -> None:
    """A store that mixes kinds of memory can still move to fields only some of them hold:
    `--allow-unindexed` says so, and the others lose their vectors as asked."""
    url = seeded_store(tmp_path)  # three memories with a "kind"
    added = run("memories", "add", "Carol likes jazz", "-n", "memories/carol", "--store", url)
    assert added.exit_code == 0, added.stderr  # one without
    refused = run("store", "reembed", "--fields", "kind", "--store", url)
    assert refused.exit_code == 1
    assert "find no text in 1 of the 4 indexed memories" in refused.stderr
    assert "or allow it (--allow-unindexed) if those" in refused.stderr
    assert "allow_unindexed" not in refused.stderr  # the CLI's flag, not the Python keyword
    result = run("store", "reembed", "--fields", "kind", "--allow-unindexed", "--store", url)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["reembedded"] == 3


def test_reembed_with_a_blank_embed_is_refused(tmp_path: Path) -> None:
    """`--embed ''` re-embedded the store with the default model (MiniLM)."""
    url = seeded_store(tmp_path)
    result = run("store", "reembed", "--embed", "", "--store", url)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --embed '' names no embeddings")
    info = json.loads(run("store", "info", "--store", url).stdout)
    assert info["index"]["embeddings"] == "langmem-hashing-384"


def test_the_same_url_opens_the_store_after_new_fields(tmp_path: Path) -> None:
    """With `--store sqlite:///s.sqlite?embed=hashing` (as docs/cli.md shows), `store reembed
    --fields content` succeeded, then every command with that same URL was refused: the URL
    named the embeddings, so the store was opened with the default fields ["$"]."""
    url = seeded_store(tmp_path)
    assert run("store", "reembed", "--fields", "content", "--store", url).exit_code == 0
    assert _found(url, "marathon") == ["b1"]
    added = run("memories", "add", "Carol likes jazz", "-n", "memories/carol", "--store", url)
    assert added.exit_code == 0, added.stderr
    assert _found(url, "jazz") != []


def test_copy_onto_the_same_file_spelled_otherwise_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`store copy a.sqlite ./a.sqlite` (or sqlite:///a.sqlite) copied the store onto itself,
    reporting "copied": 3; only the very same text was refused."""
    url = seeded_store(tmp_path)
    monkeypatch.chdir(tmp_path)
    for target in ("./seed.sqlite", "sqlite:///seed.sqlite", str(tmp_path / "seed.sqlite")):
        result = run("store", "copy", url, target)
        assert result.exit_code == 1, result.stdout
        assert result.stderr.startswith("error: source and target are the same store")


def test_copy_from_an_in_memory_store_is_refused(tmp_path: Path) -> None:
    """`store copy memory:// target.sqlite` made an empty target file and said "copied": 0."""
    target = tmp_path / "t.sqlite"
    result = run("store", "copy", "memory://", str(target))
    assert result.exit_code == 1
    assert "is an in-memory store, which starts empty in every command" in result.stderr
    assert not target.exists()


def test_update_keeps_the_memorys_ttl(tmp_path: Path) -> None:
    """`memories update` dropped the memory's TTL (a put without ttl= takes the store's
    default, none): a memory meant to expire lived on. tests/postgres/test_cli_pass9.py checks
    PostgreSQL."""
    check_update_keeps_ttl(f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing")


def check_update_keeps_ttl(url: str) -> None:
    """Import a memory with a TTL into ``url``, update it, and find the TTL still there."""
    line = json.dumps(
        {
            "namespace": ["m"],
            "key": "k",
            "value": {"content": "a"},
            "created_at": "2024-01-01T00:00:00+00:00",
            "updated_at": "2024-01-01T00:00:00+00:00",
            "ttl_minutes": 600,
            "expires_at": "2030-01-01T00:00:00+00:00",
        }
    )
    assert run("memories", "import", "-", "--store", url, input=line + "\n").exit_code == 0
    assert run("memories", "update", "k", "b", "-n", "m", "--store", url).exit_code == 0
    exported = run("memories", "export", "-n", "m", "--store", url).stdout.splitlines()
    (record,) = [r for r in map(json.loads, exported) if r["namespace"] == ["m"]]
    assert record["value"] == {"content": "b"}
    assert record["ttl_minutes"] == 600


def test_library_warnings_are_one_line(tmp_path: Path) -> None:
    """A library warning printed Python's form: a file name and line, the message, then a
    line of langmem's source (`return SqliteStore(path, ...)`)."""
    from tests.cli.test_copy_langgraph import _langgraph_file

    path = tmp_path / "app.db"
    _langgraph_file(path)  # LangGraph's table beside langmem's: the store warns
    result = run("memories", "add", "x", "-n", "m", "--store", str(path))
    assert result.exit_code == 0, result.stderr
    (warning,) = result.stderr.splitlines()
    assert warning.startswith("warning: The store file ") and "LangGraph's own" in warning
    assert "_open.py" not in result.stderr and "return SqliteStore" not in result.stderr


def test_tables_show_square_brackets_as_text(tmp_path: Path) -> None:
    """`--table` read memories as rich markup: a value "[/]" failed with MarkupError (exit 1),
    and the namespace "m/[bold]" was shown as "m/"."""
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    run("memories", "add", "[/]", "-n", "m/[bold]", "-k", "[red]k", "--store", url)
    result = run("memories", "list", "--table", "--store", url)
    assert result.exit_code == 0, result.stderr
    row = result.stdout.splitlines()[2].split()
    assert row[:3] == ["m/[bold]", "[red]k", '{"content":"[/]"}']
    info = run("store", "info", "--table", "--store", url)
    assert "m/[bold]" in info.stdout


def test_queue_list_takes_a_huge_limit(tmp_path: Path) -> None:
    """`queue list --limit 9223372036854775808` failed with OverflowError (memories list and
    search took it)."""
    path = tmp_path / "q.sqlite"
    _queue_with_tasks(path)
    result = run("queue", "list", "--limit", str(2**63), "--store", str(path))
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2


def test_hints_name_a_namespace_the_shell_passes_back(tmp_path: Path) -> None:
    """For a label holding '/', the hint said `langmem memories list -n m/a/b`: three labels,
    another namespace. It gives the JSON list now (and quotes a label with a space)."""
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    run("memories", "add", "x", "-n", '["m", "a/b"]', "-k", "k1", "--store", url)
    result = run("memories", "get", "zz", "-n", '["m", "a/b"]', "--store", url)
    assert result.stderr.endswith(
        """list the keys with `langmem memories list -n '["m", "a/b"]'`.\n"""
    )
    result = run("memories", "delete", "zz", "-n", "a b/c", "--store", url)
    assert result.stderr.endswith("list the keys with `langmem memories list -n 'a b/c'`.\n")


def test_a_home_relative_sqlite_url_is_the_same_file_for_every_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`memories add --store sqlite:///~/m.sqlite` wrote ~/m.sqlite (the store expands '~'),
    then `memories list` with the same URL said "store file '~/m.sqlite' does not exist"."""
    monkeypatch.setenv("HOME", str(tmp_path))
    url = "sqlite:///~/m.sqlite?embed=hashing"
    assert run("memories", "add", "x", "-n", "m", "-k", "k", "--store", url).exit_code == 0
    assert (tmp_path / "m.sqlite").exists()
    listed = run("memories", "list", "--store", url)
    assert listed.exit_code == 0, listed.stderr
    assert [json.loads(x)["key"] for x in listed.stdout.splitlines()] == ["k"]
    info = run("store", "info", "--store", "sqlite:///~/m.sqlite")
    assert json.loads(info.stdout)["path"] == str(tmp_path / "m.sqlite")


def test_a_file_uri_is_the_same_file_for_every_command(tmp_path: Path) -> None:
    """`--store file:/dir/m.sqlite` (a SQLite URI the store opens; docs name `file:/path?mode=ro`):
    `memories add` wrote /dir/m.sqlite, then read commands said "store file
    'file:/dir/m.sqlite' does not exist"."""
    url = f"file:{tmp_path / 'm.sqlite'}"
    assert run("memories", "add", "x", "-n", "m", "-k", "k", "--store", url).exit_code == 0
    assert (tmp_path / "m.sqlite").exists()
    for read in (url, f"{url}?mode=ro"):
        listed = run("memories", "list", "--store", read)
        assert listed.exit_code == 0, listed.stderr
        assert [json.loads(x)["key"] for x in listed.stdout.splitlines()] == ["k"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["memories", "import", "nope.jsonl"], "Invalid value for 'SOURCE': 'nope.jsonl'"),
        (["memories", "delete", "-n", "m"], "Missing argument 'KEYS...'."),
        (["memories", "lst"], "No such command 'lst'."),
        (["memories", "list", "--limit", "x"], "'x' is not a whole number of 1 or more"),
    ],
)
def test_usage_mistakes_are_one_line_too(args: list[str], says: str) -> None:
    """docs/cli.md: errors are one line on stderr (exit 2 for usage mistakes); click printed
    usage mistakes as four lines ("Usage: ...", "Try ...", a blank line, "Error: ...")."""
    result = run(*args)
    assert result.exit_code == 2
    (only,) = result.stderr.splitlines()
    assert only.startswith("error: ") and says in only
    assert only.endswith(f"(see `langmem {' '.join(args[: 2 if args[1] != 'lst' else 1])} --help`)")
