"""Migration 9 on a file written before it: the rows holding CJK text (and only those) are
re-indexed with their bigrams, re-counted in ``langmem_term_docs`` and re-measured, so a CJK
query finds them lexically; English rows are read, not rewritten, and their lengths are not
counted again.

The first file is written by langmem's own code of the commit before this change
(:data:`MAIN`, taken from this repository's history with ``git archive``, run in a subprocess),
not by a binary fixture."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _lengths, _migrations, ranking
from langmem.stores._lexical_texts import LENGTHS_AFTER, LENGTHS_BEFORE
from langmem.stores._migrations import MIGRATIONS
from tests.stores.test_term_docs import assert_exact

MAIN = "4ff5dc3b87463dd5c235f1b25a2cab4e6190f656"
"""The last commit of main before migration 9 (schema version 8)."""
ROOT = Path(__file__).resolve().parents[2]
INDEX: Any = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}

TEXTS = [
    "我住在东京，每天早上喝咖啡。",
    "来月、京都の美術館に行く予定です。",
    "저는 서울에 살아요. 주말에는 등산을 해요.",
    "Alice lives in Lisbon and likes green tea.",
    "Zoë's café serves crème brûlée",
    "ＡＢＣ１２３ and ｶﾀｶﾅ",
    "他在上海的一家银行工作。",
    "Bob moved to Oslo in 2019",
]

_WRITER = """
import json, sys
from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore
path, texts = sys.argv[1], json.loads(open(sys.argv[2], encoding="utf-8").read())
index = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}
with SqliteStore(path, index=index) as store:
    for i, text in enumerate(texts):
        store.put(("m",), f"k{i}", {"text": text})
    store.delete(("m",), "k7")  # a removed row too
"""


def written_by_main(tmp_path: Path, texts: list[str]) -> Path:
    """A store file written by langmem at :data:`MAIN`."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to take main's code from this repository's history")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", MAIN, "src"], capture_output=True, check=False
    )
    if archive.returncode:
        pytest.skip(f"commit {MAIN[:7]} is not in this checkout: {archive.stderr.decode()}")
    code = tmp_path / "main"
    code.mkdir()
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
    path = tmp_path / "old.sqlite"
    given = tmp_path / "texts.json"  # a file: long texts pass the limit of one argument
    given.write_text(json.dumps(texts), encoding="utf-8")
    subprocess.run(
        [sys.executable, "-c", _WRITER, str(path), str(given)],
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(code / "src"), "PATH": "/usr/bin:/bin"},
    )
    return path


def _rows(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    try:
        version = conn.execute("SELECT MAX(v) FROM langmem_migrations").fetchone()[0]
        fingerprint = conn.execute(
            "SELECT value FROM langmem_meta WHERE key = 'lm_length_analyzer'"
        ).fetchone()[0]
        words = {w for (w,) in conn.execute("SELECT term FROM langmem_fts_vocab")}
        columns = {r[1] for r in conn.execute("PRAGMA table_info(langmem_vectors)")}
        lexical = "lm_lexical" if "lm_lexical" in columns else "NULL"
        rows = conn.execute(
            f"SELECT id, text, lm_length, {lexical} FROM langmem_vectors ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    return {"version": version, "fingerprint": fingerprint, "words": words, "rows": rows}


def test_a_file_written_by_main_gets_bigrams_for_its_cjk_rows_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = written_by_main(tmp_path, TEXTS)
    before = _rows(path)
    assert before["version"] == 8 and before["fingerprint"] == LENGTHS_BEFORE
    assert "我住在东京" in before["words"] and "东京" not in before["words"]

    def recount(conn: sqlite3.Connection) -> int:
        raise AssertionError("every length counted again: only the CJK rows needed it")

    monkeypatch.setattr(_lengths, "recount", recount)
    lexical = ranking.Ranking(dense_weight=0.0, thread_boost=0.0, recency_weight=0.0)
    with SqliteStore(path, index=INDEX, ranking=lexical) as store:
        assert_exact(path)
        after = _rows(path)
        assert after["version"] == len(MIGRATIONS) and after["fingerprint"] == LENGTHS_AFTER
        assert {"东京", "美術", "서울", "银行", "abc123", "カタ"} <= after["words"]
        assert not {"我住在东京", "ａｂｃ１２３"} & after["words"]
        for (vector_id, text, old_length, _), (same_id, _, length, derived) in zip(
            before["rows"], after["rows"]
        ):
            assert same_id == vector_id and length == ranking.length(text)
            if text.isascii() or "é" in text:  # not CJK: untouched
                assert derived is None and length == old_length
            else:
                assert derived == ranking.lexical_text(text)
        (best, why), *_ = store.explain(("m",), "东京在哪里？", limit=3)
        assert best.key == "k0" and dict(why.matched) == {"东京": 1}
        store.put(("m",), "k0", {"text": "东京的咖啡"})
        store.delete(("m",), "k2")
        assert_exact(path)


def test_an_english_file_from_main_is_read_and_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    english = [t for t in TEXTS if t.isascii()] * 3
    path = written_by_main(tmp_path, english)
    before = _rows(path)
    monkeypatch.setattr(_lengths, "recount", None)  # called: a TypeError
    SqliteStore(path, index=INDEX).close()
    after = _rows(path)
    assert after["words"] == before["words"]
    assert [r[:3] for r in after["rows"]] == [r[:3] for r in before["rows"]]
    assert after["fingerprint"] == LENGTHS_AFTER
    assert_exact(path)


def test_word_counts_behind_another_writer_are_counted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file before migration 9 whose counts miss a change of another writer (one that keeps
    no counts): the migration counts every word again from the index."""
    path = tmp_path / "behind.sqlite"
    with monkeypatch.context() as patch:
        patch.setattr(_migrations, "MIGRATIONS", MIGRATIONS[:8])
        with SqliteStore(path, index=INDEX) as old:
            for i, text in enumerate(TEXTS):
                old.put(("m",), f"k{i}", {"text": text})
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM langmem_vectors WHERE id = 2")  # not folded into the counts
    conn.commit()
    conn.close()
    SqliteStore(path, index=INDEX).close()
    assert_exact(path)
    assert "东京" in _rows(path)["words"]
