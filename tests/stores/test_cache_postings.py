"""The matrix cache (format 4) keeps the lexical side's word postings, so a new process does not
build them again (44 ms at 100k texts); an older cache is not read but rebuilt, and a cache
written before the postings existed is written again once they are built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _lexicon, _snapshot

INDEX: Any = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["text"]}
WORDS = ["tea", "walk", "river", "lives", "lived", "living", "city", "cities", "runs", "the"]
QUERIES = ["tea river", "living lives c7", "jazz c12 c13", "the", "zzz"]


pytestmark = pytest.mark.usefixtures("small_cache")  # tests/stores/conftest.py


def _text(i: int) -> str:
    return " ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 2 + i % 5)) + f" c{i % 40}"


def _fill(path: Path, count: int, *, hybrid: bool = True) -> None:
    with SqliteStore(path, index=INDEX, hybrid=hybrid) as store:
        store.batch([PutOp(("u", f"n{i % 3}"), f"k{i}", {"text": _text(i)}) for i in range(count)])
        store.search(("u",), query="tea")  # loads from SQLite, writes the cache


def _ranked(store: SqliteStore) -> list[Any]:
    return [
        [(h.key, h.score) for h in store.search(prefix, query=q, limit=12)]
        for q in QUERIES
        for prefix in [(), ("u", "n1")]
    ]


def _reference(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    with monkeypatch.context() as patch:
        patch.setenv(_snapshot.ENV, "0")
        with SqliteStore(path, index=INDEX) as store:
            return _ranked(store)


def _builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the postings built (or merged) from the rows, from now on."""
    built: list[int] = []
    real = _lexicon.Lexicon._merge

    def counting(self: _lexicon.Lexicon, *, count_df: bool) -> None:
        built.append(self._index.size)
        real(self, count_df=count_df)

    monkeypatch.setattr(_lexicon.Lexicon, "_merge", counting)
    return built


def _magic(path: Path) -> bytes:
    with open(f"{path}{_snapshot.SUFFIX}", "rb") as stream:
        return stream.read(8)


def test_a_new_handle_takes_the_postings_from_the_cache_and_ranks_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    _fill(path, 300)
    assert _magic(path) == _snapshot._MAGIC
    expected = _reference(path, monkeypatch)
    built = _builds(monkeypatch)
    with SqliteStore(path, index=INDEX) as store:
        assert _ranked(store) == expected
        assert store._vectors is not None and store._vectors.installed
        assert built == []  # installed, not built
        # writes after the cache (this handle and another): applied as a running process does
        with SqliteStore(path, index=INDEX) as other:
            other.batch(
                [PutOp(("u", "n1"), f"k{i}", {"text": f"jazz c{i} new"}) for i in range(40)]
            )
        store.batch([PutOp(("u", "n2"), f"k{i}", None) for i in range(60, 90)])
        assert _ranked(store) == _reference(path, monkeypatch)


def test_an_older_cache_is_not_read_but_rebuilt_in_the_new_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    _fill(path, 120)
    cache = Path(f"{path}{_snapshot.SUFFIX}")
    data = bytearray(cache.read_bytes())
    data[:8] = b"LMMATRX3"  # as session 6 wrote it (without postings)
    cache.write_bytes(bytes(data))
    expected = _reference(path, monkeypatch)
    built = _builds(monkeypatch)
    with SqliteStore(path, index=INDEX) as store:
        assert _ranked(store) == expected
        assert store._vectors is not None and not store._vectors.installed  # from SQLite
    assert built  # the postings were built from the rows
    assert _magic(path) == _snapshot._MAGIC  # and the cache written again, with them
    built.clear()
    with SqliteStore(path, index=INDEX) as store:
        assert _ranked(store) == expected
        assert store._vectors is not None and store._vectors.installed
    assert built == []


def test_a_cache_without_postings_is_written_again_once_they_are_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    _fill(path, 120, hybrid=False)  # a dense-only handle never builds them
    expected = _reference(path, monkeypatch)
    built = _builds(monkeypatch)
    with SqliteStore(path, index=INDEX) as store:
        assert _ranked(store) == expected
        assert store._vectors is not None and store._vectors.installed
    assert len(built) == 1
    built.clear()
    with SqliteStore(path, index=INDEX) as store:
        assert _ranked(store) == expected
        assert store._vectors is not None and store._vectors.installed
    assert built == []  # the rewritten cache held them
