"""`langmem memories ...` through the real command: exact output, and every error path."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from langmem.stores import SqliteStore
from tests.cli._support import SEED, line, run, seeded_store


@pytest.fixture
def url(tmp_path: Path) -> str:
    return seeded_store(tmp_path)


def test_get_prints_the_item(url: str) -> None:
    result = run("memories", "get", "a1", "-n", "memories/alice", "--store", url)
    assert result.exit_code == 0
    assert result.stdout == line(SEED[0]) + "\n"
    assert result.stderr == ""


def test_list_is_newest_first_and_filters(url: str) -> None:
    result = run("memories", "list", "--store", url)
    assert result.stdout == "".join(line(r) + "\n" for r in (SEED[1], SEED[0], SEED[2]))
    result = run("memories", "list", "-n", "memories", "--filter", "kind=sport", "--store", url)
    assert result.stdout == line(SEED[2]) + "\n"
    result = run("memories", "list", "-n", "memories/alice", "--limit", "1", "--store", url)
    assert result.stdout == line(SEED[1]) + "\n"


def test_list_table(url: str) -> None:
    result = run("memories", "list", "-n", "memories/bob", "--table", "--store", url)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "namespace      key   value                                                             "
        "updated_at",
        "─" * 112,
        'memories/bob   b1    {"content":"Bob trains for the Berlin marathon","kind":"sport"}   '
        "2024-01-05T08:00:00+00:00",
    ]


def test_search_ranks_and_scores(url: str) -> None:
    result = run("memories", "search", "peanuts allergy", "-n", "memories", "--store", url)
    records = [json.loads(x) for x in result.stdout.splitlines()]
    assert records[0]["key"] == "a1"
    assert all(isinstance(r["score"], float) for r in records)
    assert {k: v for k, v in records[0].items() if k != "score"} == SEED[0]


def test_add_update_delete(url: str) -> None:
    added = run("memories", "add", "Carol likes jazz", "-n", "memories/carol", "-k", "c1")
    assert added.exit_code == 0  # the default store (LANGMEM_HOME is a temporary folder)
    record = json.loads(added.stdout)
    assert record["value"] == {"content": "Carol likes jazz"}
    assert record["created_at"] == record["updated_at"]

    value = '{"content": "Bob runs the Berlin marathon", "kind": "sport"}'
    updated = run(
        "memories", "update", "b1", "-n", "memories/bob", "--value", value, "--store", url
    )
    record = json.loads(updated.stdout)
    assert record["value"] == json.loads(value)
    assert record["created_at"] == SEED[2]["created_at"]
    assert record["updated_at"] > SEED[2]["updated_at"]

    deleted = run("memories", "delete", "a1", "a2", "-n", "memories/alice", "--store", url)
    assert deleted.stdout == (
        '{"namespace":["memories","alice"],"key":"a1","deleted":true}\n'
        '{"namespace":["memories","alice"],"key":"a2","deleted":true}\n'
    )
    gone = run("memories", "get", "a1", "-n", "memories/alice", "--store", url)
    assert gone.exit_code == 1


def test_delete_is_all_or_nothing(url: str) -> None:
    result = run("memories", "delete", "a1", "zz", "-n", "memories/alice", "--store", url)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: no memory with key 'zz' in namespace 'memories/alice'")
    assert run("memories", "get", "a1", "-n", "memories/alice", "--store", url).exit_code == 0


def test_unknown_namespace(url: str) -> None:
    result = run("memories", "list", "-n", "memories/zed", "--store", url)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: namespace 'memories/zed' holds no memories in {url}: check the spelling, "
        "or list namespaces with `langmem store info`.\n"
    )
    assert run("memories", "search", "x", "-n", "nope", "--store", url).exit_code == 1
    assert run("memories", "export", "-n", "nope", "--store", url).exit_code == 1


def test_missing_key(url: str) -> None:
    result = run("memories", "get", "nope", "-n", "memories/alice", "--store", url)
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: no memory with key 'nope' in namespace 'memories/alice' of {url}: list the "
        "keys with `langmem memories list -n memories/alice`.\n"
    )


def test_bad_store_urls(tmp_path: Path) -> None:
    result = run("memories", "list", "--store", "redis://cache:6379/0")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: store URL 'redis://cache:6379/0' has an unknown scheme: use sqlite:///path, "
        "postgresql://user@host/db, memory:// or a file path.\n"
    )
    missing = tmp_path / "typo.sqlite"
    result = run("memories", "list", "--store", f"sqlite:///{missing}")
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: store file '{missing}' does not exist: check --store (or LANGMEM_STORE), or "
        "create it with `langmem memories add` or `langmem memories import`.\n"
    )
    assert not missing.exists()
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 100)
    result = run("store", "info", "--store", str(junk))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: '{junk}' is not a langmem store")


def test_store_env_variable(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGMEM_STORE", url)
    assert run("memories", "get", "b1", "-n", "memories/bob").stdout == line(SEED[2]) + "\n"
    monkeypatch.setenv("LANGMEM_STORE", "none")
    result = run("memories", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no store: LANGMEM_STORE=none")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["memories", "list", "--filter", "kind"],
            "error: --filter 'kind' is not key=value: write it like --filter kind=note.\n",
        ),
        (
            ["memories", "add", "x", "-n", "a.b"],
            "error: namespace 'a.b' is not usable: labels are separated by '/', and each must be "
            "non-empty and without '.'. Example: --namespace memories/user-123.\n",
        ),
        (
            ["memories", "add", "-n", "m", "--value", "[1]"],
            "error: --value '[1]' must be a JSON object, e.g. --value '{\"content\": \"...\"}'.\n",
        ),
        (
            ["memories", "add", "", "-n", "m"],
            "error: TEXT '' is empty: a memory needs content. Give the text to remember, "
            'e.g. `langmem memories add "prefers tea" -n memories/user-1`.\n',
        ),
        (
            ["memories", "add", "text", "-n", "m", "--value", "{}"],
            "error: give the memory either as TEXT or as --value JSON (one of them, not both).\n",
        ),
    ],
)
def test_usage_errors(url: str, args: list[str], message: str) -> None:
    result = run(*args, "--store", url)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == message


def test_click_usage_errors_exit_2() -> None:
    result = run("memories", "get")
    assert result.exit_code == 2
    assert "Missing argument 'KEY'" in result.stderr


def test_explain_needs_a_store_that_explains(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(SqliteStore, "explain", raising=False)
    result = run("memories", "search", "x", "--explain", "--store", url)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: search --explain needs a store that can explain its ranking; SqliteStore cannot "
        "(it needs langmem's hybrid ranking with explain(), issue 14). Run the search without "
        "--explain.\n"
    )


@dataclass(frozen=True)
class _Parts:
    """The shape of a store's Explanation (issue 14): score parts of one hit."""

    item: int
    score: float
    cosine: float
    bm25: float
    matched: dict[str, int] = field(default_factory=dict)
    thread: float = 0.0
    recency: float = 0.0
    redundancy: float = 0.0
    superseded: float = 0.0
    restated: float = 0.0


def test_explain_prints_each_hits_parts(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []

    def explain(self, prefix, query, *, filter=None, limit=10, offset=0):  # type: ignore[no-untyped-def]
        asked.append((prefix, query, filter, limit))
        hits = self.search(prefix, query=query, filter=filter, limit=limit)
        return [
            (h, _Parts(item=7, score=0.5, cosine=0.25, bm25=1.5, matched={"peanuts": 1}))
            for h in hits
        ]

    monkeypatch.setattr(SqliteStore, "explain", explain, raising=False)
    args = ["memories", "search", "peanuts", "-n", "memories/alice", "-l", "1", "--store", url]
    result = run(*args, "--explain")
    assert result.exit_code == 0, result.stderr
    assert asked == [(("memories", "alice"), "peanuts", None, 1)]
    record = json.loads(result.stdout)
    assert record["key"] == "a1"
    assert record["explain"] == {
        "score": 0.5,
        "cosine": 0.25,
        "bm25": 1.5,
        "matched": {"peanuts": 1},
        "thread": 0.0,
        "recency": 0.0,
        "redundancy": 0.0,
        "superseded": 0.0,
        "restated": 0.0,
    }
    table = run(*args, "--explain", "--table").stdout.splitlines()
    assert table[0].split() == [
        "score",
        "cosine",
        "bm25",
        "matched",
        "thread",
        "recency",
        "redundancy",
        "superseded",
        "restated",
        "key",
        "value",
    ]
    assert table[2].split()[:10] == [
        "0.5000",
        "0.2500",
        "1.5000",
        '{"peanuts":1}',
        "0.0000",
        "0.0000",
        "0.0000",
        "0.0000",
        "0.0000",
        "a1",
    ]
