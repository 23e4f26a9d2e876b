"""open_store URLs, the default store, and the wire-in: no store given means the embedded one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from langmem._store_context import resolve_store
from langmem.embeddings import HashingEmbeddings, MiniLMEmbeddings
from langmem.errors import ConfigurationError, StoreNotFoundError
from langmem.stores import SqliteStore, default_store, open_store
from langmem.stores._open import _forget_defaults


@pytest.fixture(autouse=True)
def _fresh_defaults() -> object:
    _forget_defaults()
    yield None
    _forget_defaults()


def test_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///rel.sqlite?embed=hashing&dims=32&fields=text,title")
    assert isinstance(relative, SqliteStore) and relative.path == "rel.sqlite"
    assert relative.index_config is not None
    assert relative.index_config["dims"] == 32 and relative.index_config["fields"] == [
        "text",
        "title",
    ]
    assert isinstance(relative.embeddings, HashingEmbeddings)
    absolute = open_store(f"sqlite:///{tmp_path}/abs.sqlite?embed=hashing")
    assert isinstance(absolute, SqliteStore) and absolute.path == f"{tmp_path}/abs.sqlite"
    plain = open_store(tmp_path / "plain.sqlite", embed="hashing")
    assert isinstance(plain, SqliteStore) and plain.path == str(tmp_path / "plain.sqlite")
    no_index = open_store("sqlite:///bare.sqlite?embed=none")
    assert isinstance(no_index, SqliteStore) and no_index.index_config is None


def test_memory_url_is_a_private_sqlite_store() -> None:
    store = open_store("memory://?embed=hashing")
    assert isinstance(store, SqliteStore) and store.path == ":memory:"
    store.put(("a",), "k", {"text": "x"})
    assert store.get(("a",), "k") is not None


def test_default_index_is_local_minilm() -> None:
    store = open_store("memory://")
    assert isinstance(store, SqliteStore)
    assert isinstance(store.embeddings, MiniLMEmbeddings)
    assert store.index_config is not None and store.index_config["dims"] == 384


def test_unsupported_urls_are_explained() -> None:
    with pytest.raises(ConfigurationError, match="unknown URL scheme 'redis'"):
        open_store("redis://localhost")


def test_default_store_lives_in_the_user_data_dir(_isolated_user_paths: Path) -> None:
    store = default_store()
    assert isinstance(store, SqliteStore)
    assert store.path == str(_isolated_user_paths / "memories.sqlite")
    assert default_store() is store, "one default store per process and path"
    assert resolve_store(None, what="test") is store


def test_langmem_store_env_picks_or_disables_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANGMEM_STORE", f"sqlite:///{tmp_path}/other.sqlite?embed=hashing")
    store = resolve_store(None, what="test")
    assert isinstance(store, SqliteStore) and store.path == f"{tmp_path}/other.sqlite"
    monkeypatch.setenv("LANGMEM_STORE", "none")
    assert default_store() is None
    with pytest.raises(StoreNotFoundError, match="LANGMEM_STORE"):
        resolve_store(None, what="manage_memory tool")
    given = open_store("memory://?embed=hashing")
    assert resolve_store(given, what="test") is given


SCRIPT = """
import json, sys
from langmem import create_manage_memory_tool, create_search_memory_tool
if sys.argv[1] == "write":
    tool = create_manage_memory_tool(("memories",))
    print(json.dumps(tool.invoke({"content": "The user's cat is called Miso"})))
else:
    tool = create_search_memory_tool(("memories",))
    print(json.dumps(str(tool.invoke({"query": "what is the cat's name?"}))))
"""


def test_memories_from_the_tools_survive_a_restart(_isolated_user_paths: Path) -> None:
    """No store anywhere: the tools use the default file, and a new process finds the memory."""
    for step in ("write", "read"):
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, step], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-3000:]
        if step == "read":
            assert "Miso" in json.loads(done.stdout.strip().splitlines()[-1])
    assert (_isolated_user_paths / "memories.sqlite").is_file()
