"""A damaged matrix cache is never used: the matrix is loaded from SQLite, a warning names the
file, and the file is written again; a clean cache is still used.

Every damaged file is compared against a store that never reads a cache, so a damage that got
through would show as another ranking, and as a matrix installed from the file.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _snapshot

DIMS = 64
INDEX: Any = {"dims": DIMS, "embed": HashingEmbeddings(DIMS), "fields": ["text"]}
WORDS = ["tea", "coffee", "Berlin", "Lisbon", "marathon", "jazz", "piano", "vegan", "cycling"]
WORDS += ["garden", "lives", "lived"]
QUERIES = ["tea Berlin", "lived lives", "note 7", "jazz piano vegan garden", "cycling t3"]
SECTIONS = [  # every part of a format-5 file (the test store fills each one)
    "header",
    "vectors",
    "vector ids",
    "item ids",
    "namespace ids",
    "text lengths",
    "text offsets",
    "texts",
    "word counts",
    "word ids",
    "vocabulary",
    "item times",
    "item threads",
    "posting words",
    "posting rows",
    "posting starts",
    "document frequencies",
]


pytestmark = pytest.mark.usefixtures("small_cache")  # tests/stores/conftest.py


def _text(i: int) -> str:
    return " ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 2 + i % 6)) + f" note {i}"


def _cached(tmp_path: Path, count: int = 150) -> tuple[Path, Path]:
    """A store file whose first search wrote a cache holding every section."""
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        store.batch(
            [
                PutOp(("u", f"n{i % 3}"), f"k{i}", {"text": _text(i), "thread_id": f"t{i % 9}"})
                for i in range(count)
            ]
        )
        store.search(("u",), query="tea")  # loads from SQLite, writes the cache
    cache = Path(f"{path}{_snapshot.SUFFIX}")
    parts = _snapshot.layout(cache, DIMS)
    assert list(parts) == SECTIONS and all(size > 0 for _, size in parts.values())
    return path, cache


def _ranked(store: SqliteStore) -> list[Any]:
    return [
        [(item.key, why) for item, why in store.explain(prefix, query, limit=10)]
        for query in QUERIES
        for prefix in [("u",), ("u", "n1")]
    ]


def _reference(path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    with monkeypatch.context() as patch:
        patch.setenv(_snapshot.ENV, "0")
        with SqliteStore(path, index=INDEX) as store:
            return _ranked(store)


def _installed(store: SqliteStore) -> bool:
    return store._vectors is not None and store._vectors.installed


def _watch(caplog: pytest.LogCaptureFixture) -> Any:
    """Capture the store's warnings from now on."""
    caplog.clear()
    return caplog.at_level(logging.WARNING, logger="langmem.stores")


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _damage(cache: Path, how: str, rng: random.Random) -> None:
    data = bytearray(cache.read_bytes())
    parts = _snapshot.layout(cache, DIMS)
    if how in parts:  # random bytes written in the middle of one part
        offset, size = parts[how]
        at = offset + size // 2
        span = min(8, offset + size - at)
        new = bytes(rng.randrange(256) for _ in range(span))
        while new == bytes(data[at : at + span]):
            new = bytes(rng.randrange(256) for _ in range(span))
        data[at : at + span] = new
    elif how == "one bit of a vector":
        offset, size = parts["vectors"]
        data[offset + size // 3] ^= 0x10
    elif how == "two vector pages swapped":
        offset, _ = parts["vectors"]
        page = _snapshot.Sum.PAGE
        first, second = data[offset : offset + page], data[offset + page : offset + 2 * page]
        assert first != second
        data[offset : offset + 2 * page] = second + first
    elif how == "header length":
        data[8:16] = (10**9).to_bytes(8, "little")
    elif how == "truncated":
        data = data[:-100]
    elif how == "cut in half":
        data = data[: len(data) // 2]
    elif how == "bytes appended":
        data += b"\x01" * 64
    elif how == "zeros":
        data = bytearray(len(data))
    elif how == "empty":
        data = bytearray()
    else:
        raise AssertionError(how)
    cache.write_bytes(bytes(data))


DAMAGES = [
    *SECTIONS,
    "one bit of a vector",
    "two vector pages swapped",
    "header length",
    "truncated",
    "cut in half",
    "bytes appended",
    "zeros",
    "empty",
]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_cache_is_not_used_logged_and_written_again(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    how: str,
) -> None:
    path, cache = _cached(tmp_path)
    expected = _reference(path, monkeypatch)
    _damage(cache, how, random.Random(how))
    damaged = cache.read_bytes()
    with _watch(caplog), SqliteStore(path, index=INDEX) as store:
        assert _ranked(store) == expected
        assert not _installed(store)  # loaded from SQLite
    (message,) = _warnings(caplog)
    assert str(cache) in message and "damaged" in message and "a new one will be written" in message
    # the file was written again, whole, and the next handle uses it
    assert cache.read_bytes() != damaged and _snapshot.layout(cache, DIMS)
    with _watch(caplog), SqliteStore(path, index=INDEX) as store:
        assert _ranked(store) == expected
        assert _installed(store)
    assert _warnings(caplog) == []


@pytest.mark.parametrize("magic", [b"LMMATRX4", b"LMMATRX9"])
def test_a_cache_of_another_format_is_rebuilt_quietly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, magic: bytes
) -> None:
    """A file an older (or newer) langmem wrote is not read, and not reported as damaged."""
    path, cache = _cached(tmp_path)
    expected = _reference(path, monkeypatch)
    data = bytearray(cache.read_bytes())
    data[:8] = magic
    cache.write_bytes(bytes(data))
    with _watch(caplog):
        with SqliteStore(path, index=INDEX) as store:
            assert _ranked(store) == expected
            assert not _installed(store)
        with SqliteStore(path, index=INDEX) as store:
            assert _ranked(store) == expected
            assert _installed(store)
    assert _warnings(caplog) == []
    assert cache.read_bytes()[:8] == _snapshot._MAGIC


def test_a_read_only_handle_skips_a_damaged_cache_and_leaves_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path, cache = _cached(tmp_path)
    expected = _reference(path, monkeypatch)
    _damage(cache, "vectors", random.Random(3))
    damaged = cache.read_bytes()
    with _watch(caplog), SqliteStore(path, index=INDEX, read_only=True) as store:
        assert _ranked(store) == expected
        assert not _installed(store)
    (message,) = _warnings(caplog)
    assert str(cache) in message and "this handle cannot write a new one" in message
    assert cache.read_bytes() == damaged  # a read-only handle writes nothing beside the file


def test_a_clean_cache_is_used_without_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path, cache = _cached(tmp_path)
    expected = _reference(path, monkeypatch)
    written = cache.read_bytes()
    with _watch(caplog):
        for read_only in (False, True):
            with SqliteStore(path, index=INDEX, read_only=read_only) as store:
                assert _ranked(store) == expected
                assert _installed(store)
    assert _warnings(caplog) == []
    assert cache.read_bytes() == written  # used as it was, not written again


def test_the_checksum_is_the_same_in_pieces_and_sees_every_word() -> None:
    rng = np.random.default_rng(5)
    page = _snapshot.Sum.PAGE
    for size in (0, 1, 7, 8, page - 1, page, page + 3, 5 * page + 1234):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        whole = _snapshot.checksum(data)
        for piece in (page, 3 * page):
            summed = _snapshot.Sum()
            for at in range(0, size, piece):
                summed.update(data[at : at + piece])
            assert summed.value() == whole
        for _ in range(20 if size else 0):  # any change inside one word changes the sum
            at = int(rng.integers(0, size))
            changed = bytearray(data)
            changed[at] ^= 1 << int(rng.integers(0, 8))
            assert _snapshot.checksum(bytes(changed)) != whole
    summed = _snapshot.Sum()
    summed.update(b"x" * 10)
    with pytest.raises(ValueError, match="whole pages"):
        summed.update(b"y")
