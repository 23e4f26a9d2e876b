"""bench/data/sources.py: a public data set's extract is built from a git copy of its source at
the pinned commit, checked against the content it must have, and cached outside the repository;
without a source the bench stops and says how to get one. And RealMemBench's extraction rules
(bench/data/realmem_extract.py) on a small input."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import importlib
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.bench.conftest import GitRepo

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _module(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def _build(git: Path) -> dict[str, Any]:
    sources = _module("data.sources")
    names = sources.files(git, "HEAD", "dat")
    return {"names": names, "first": sources.show(git, "HEAD", f"dat/{names[0]}")}


def _source(commit: str, content: str = "") -> Any:
    sources = _module("data.sources")
    expected = {"names": ["a.json", "b.json"], "first": {"x": "é"}}
    return sources.Source(
        name="toy",
        variable="LANGMEM_TOY_REPO",
        repository="someone/Toy",
        commit=commit,
        content=content or hashlib.sha256(sources.text(expected)).hexdigest(),
    )


FILES = {"dat/a.json": {"x": "é"}, "dat/b.json": [1], "other/c.json": 2}


def test_first_use_builds_from_the_git_copy_and_later_uses_need_no_source(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = _module("data.sources")
    root, commit = git_repo(FILES)
    source = _source(commit)
    monkeypatch.setenv("LANGMEM_TOY_REPO", str(root))  # a clone: its .git is used
    path = sources.extract(source, _build)
    assert path == sources.cached(source) == sources.cache_dir() / f"toy-{commit[:12]}.json.gz"
    assert path.is_relative_to(Path(str(sources.cache_dir())).parent.parent)  # $XDG_CACHE_HOME
    assert not path.is_relative_to(BENCH.parent)
    with gzip.open(path, "rt", encoding="utf-8") as f:
        assert json.load(f) == {"names": ["a.json", "b.json"], "first": {"x": "é"}}
    first = path.read_bytes()
    monkeypatch.delenv("LANGMEM_TOY_REPO")
    assert sources.load(source, _build) == {"names": ["a.json", "b.json"], "first": {"x": "é"}}
    path.unlink()
    again = sources.extract(source, _build, root / ".git")  # a git directory given directly
    assert again.read_bytes() == first  # the same input gives the same bytes


def test_without_a_source_the_message_names_the_variable_repository_commit_and_command(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = _module("data.sources")
    git_repo({"x.json": 1})  # sets $XDG_CACHE_HOME to the test's folder
    monkeypatch.delenv("LANGMEM_TOY_REPO", raising=False)
    source = _source("0123456789abcdef0123456789abcdef01234567")
    with pytest.raises(SystemExit) as raised:
        sources.extract(source, _build)
    message = str(raised.value)
    for part in (
        "LANGMEM_TOY_REPO",
        "https://github.com/someone/Toy",
        "0123456789abcdef0123456789abcdef01234567",
        "git clone https://github.com/someone/Toy.git",
        "--source",
        "not in this repository",
    ):
        assert part in message, part
    assert not sources.cached(source).exists()


def test_a_copy_without_the_pinned_commit_is_refused(git_repo: GitRepo) -> None:
    sources = _module("data.sources")
    root, _ = git_repo(FILES)
    source = _source("0123456789abcdef0123456789abcdef01234567")
    with pytest.raises(SystemExit, match=f"{root} is not a git copy of https://github.com/some"):
        sources.extract(source, _build, root)
    with pytest.raises(SystemExit, match="is not a git copy"):
        sources.extract(source, _build, root / "nowhere")
    assert not sources.cached(source).exists()


def test_an_extract_with_other_content_than_pinned_is_refused_and_not_cached(
    git_repo: GitRepo,
) -> None:
    sources = _module("data.sources")
    root, commit = git_repo({**FILES, "dat/a.json": {"x": "changed"}})
    source = _source(commit)
    with pytest.raises(SystemExit, match=f"not {source.content}.*Nothing was cached"):
        sources.extract(source, _build, root)
    assert not sources.cached(source).exists()
    assert not list(sources.cache_dir().glob("*partial"))


def test_the_pinned_sources_name_their_repository_commit_and_variable() -> None:
    realmem = _module("data.realmem_extract").SOURCE
    longmemeval = _module("data.longmemeval_extract").SOURCE
    rerank = _module("rerank_data")
    pinned = [realmem, longmemeval, rerank.FRIENDSQA, rerank.MOLWENI]
    assert [s.variable for s in pinned] == [
        "LANGMEM_REALMEM_REPO",
        "LANGMEM_MEMORIA_REPO",
        "LANGMEM_FRIENDSQA_REPO",
        "LANGMEM_MOLWENI_REPO",
    ]
    assert [s.url for s in pinned] == [
        "https://github.com/zhiyuan5986/RealMemBench",
        "https://github.com/hussainzs/Memoria",
        "https://github.com/emorynlp/FriendsQA",
        "https://github.com/HIT-SCIR/Molweni",
    ]
    for s in pinned:
        assert len(s.commit) == 40 and len(s.content) == 64
        assert s.variable in s.help() and s.commit in s.help()
    assert not list(BENCH.glob("data/*.json.gz"))  # nothing of them is in the repository


def _turn(content: Any, **flags: Any) -> dict[str, Any]:
    return {"content": content, **flags}


def test_realmem_extraction_keeps_memories_once_and_queries_with_earlier_evidence(
    git_repo: GitRepo,
) -> None:
    extract = _module("data.realmem_extract")

    def session(n: int, turns: list[dict[str, Any]], memories: list[Any]) -> dict[str, Any]:
        return {
            "current_time": f"2024-01-0{n + 1} 10:00",
            "session_uuid": f"s{n}",
            "dialogue_turns": turns,
            "extracted_memory": [{"content": m} for m in memories],
        }

    used = {"memory_used": [{"content": "likes tea"}, {"content": "not a memory"}]}
    person = {
        "_metadata": {"person_name": "Ann"},
        "dialogues": [
            session(0, [_turn("hi")], ["likes tea", {"city": "Oslo"}, " likes tea "]),
            session(
                1,
                [
                    _turn(" what tea? ", is_query=True, category_name="pref", session_type="m"),
                    _turn("green", **used),
                    _turn("and now?", is_query=True),  # the session's own memory: not yet written
                    _turn("ok", memory_used=[{"content": "new"}]),
                ],
                ["new"],
            ),
        ],
    }
    root, commit = git_repo(
        {"dataset/Ann_dialogues_256k.json": person, "dataset/notes.json": {"not": "a person"}}
    )
    data = extract.build(root / ".git", commit)
    assert data["commit"] == commit and data["source"] == extract.SOURCE.url
    assert data["people"] == [
        {
            "name": "Ann",
            "memories": [
                ["Ann-0000", 0, "2024-01-01", "s0", "likes tea"],
                ["Ann-0001", 0, "2024-01-01", "s0", '{"city": "Oslo"}'],
                ["Ann-0002", 1, "2024-01-02", "s1", "new"],
            ],
            "queries": [["what tea?", 1, "pref", "m", ["Ann-0000"]]],
        }
    ]
    pinned = dataclasses.replace(extract.SOURCE, commit=commit)
    with pytest.raises(SystemExit, match=r"extract built from .* has SHA-256"):
        _module("data.sources").extract(pinned, lambda g: extract.build(g, commit), root)
