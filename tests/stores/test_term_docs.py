"""Each word's document count (``langmem_term_docs``, migration 6) stays equal to FTS5's own.

The table is what ranked searches read for IDF instead of walking FTS5 posting lists; it must
give exactly the numbers ``fts5vocab`` gives, whoever wrote the file and however: puts, updates
that change or keep a text, deletes, TTL sweeps, re-embedding, copies, other handles and other
processes, writers that do not maintain it (an older langmem), non-ASCII texts, and files
written before the migration. Searches rank the same either way.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import Item

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _migrations, _search, _term_docs
from langmem.stores._copy import copy_store
from langmem.stores._migrations import MIGRATIONS

INDEX: Any = {"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text", "note"]}

TEXTS = [
    "Alice lives in Lisbon and likes green tea",
    "Bob lived in Oslo; he moved to Kyoto in 2019",
    "Zoë's café serves crème brûlée on Sundays",  # diacritics
    "Straße ﬁnal Ǆemal İstanbul 東京 Привет мир",  # words FTS5 splits unlike ranking.tokens
    "한국어 텍스트 검색 and English words",  # Hangul (NFKD differs from FTS5's folding)
    "flight LH-1234 leaves at 07:45, gate B12",
    "nul\x00inside the text and a_snake_case word",
    "the of and to in is was",
]


def counts(path: Path) -> tuple[dict[str, int], dict[str, int]]:
    """The table's counts and FTS5's (fts5vocab), read from the file."""
    conn = sqlite3.connect(path)
    try:
        table = dict(conn.execute("SELECT term, docs FROM langmem_term_docs").fetchall())
        vocab = dict(conn.execute("SELECT term, doc FROM langmem_fts_vocab").fetchall())
    finally:
        conn.close()
    return table, vocab


def assert_exact(path: Path) -> None:
    table, vocab = counts(path)
    assert table == vocab
    conn = sqlite3.connect(path)
    try:
        assert _term_docs.lookup(conn, list(vocab)[:50]) is not None  # current: searches use it
        left = conn.execute("SELECT COUNT(*) FROM langmem_removed_texts").fetchone()[0]
    finally:
        conn.close()
    assert left == 0


def fill(store: SqliteStore, n: int, prefix: str = "k") -> None:
    for i in range(n):
        value = {"text": TEXTS[i % len(TEXTS)] + f" item {i}"}
        if i % 3 == 0:
            value["note"] = TEXTS[(i + 3) % len(TEXTS)]
        store.put(("u", f"user-{i % 2}"), f"{prefix}{i}", value)


def test_puts_updates_and_deletes_keep_the_counts_exact(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        fill(store, 24)
        assert_exact(path)
        store.put(("u", "user-0"), "k0", {"text": "a new text for k0 Lisbon"})  # text changes
        store.put(("u", "user-1"), "k1", {"text": TEXTS[1] + " item 1", "extra": 1})  # kept
        store.put(("u", "user-0"), "k2", {"text": "only text now"})  # its note goes
        store.put(("u", "user-1"), "k3", {"text": "unindexed"}, index=False)  # no vectors left
        store.delete(("u", "user-0"), "k4")
        store.batch([])  # an empty batch
        assert_exact(path)
        for i in range(24):  # everything goes: no word is held by any text
            store.delete(("u", f"user-{i % 2}"), f"k{i}")
        table, vocab = counts(path)
        assert table == vocab == {}


def test_ttl_sweeps_restores_reembeds_and_copies_keep_the_counts_exact(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    store = SqliteStore(path, index=INDEX, ttl={"default_ttl": 1.0})
    fill(store, 12)
    store.put(("u", "short"), "gone", {"text": "expiring Lisbon note"}, ttl=0.0001)
    time.sleep(0.05)
    assert store.sweep_ttl() >= 1
    assert_exact(path)
    when = store.get(("u", "user-0"), "k0").created_at  # type: ignore[union-attr]
    store.restore(
        [
            Item(namespace=("r",), key=f"r{i}", value={"text": t}, created_at=when, updated_at=when)
            for i, t in enumerate(TEXTS)
        ]
    )
    assert_exact(path)
    store.reembed({"dims": 16, "embed": HashingEmbeddings(16), "fields": ["text", "note"]})
    assert_exact(path)
    copy = SqliteStore(tmp_path / "copy.sqlite", index=store.index_config)  # type: ignore[arg-type]
    copy_store(store, copy)
    assert_exact(tmp_path / "copy.sqlite")
    store.close()
    copy.close()


def test_other_handles_and_writers_that_skip_the_table(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    mine, other = SqliteStore(path, index=INDEX), SqliteStore(path, index=INDEX)
    fill(mine, 10)
    fill(other, 10, prefix="o")
    assert_exact(path)
    before = mine.explain(("u",), "Lisbon tea Kyoto", limit=5)
    # an older langmem (or any SQLite client) deletes a vector row and does not fold
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("DELETE FROM langmem_items WHERE key = 'k1'")
    conn.commit()
    table, vocab = counts(path)
    assert table != vocab  # behind ...
    assert _term_docs.lookup(conn, ["lisbon"]) is None  # ... and readers can tell
    conn.close()
    # a search reads FTS5's counts meanwhile: the same as the table would give once folded
    after = other.explain(("u",), "Lisbon tea Kyoto", limit=5)
    other.put(("u", "user-0"), "fold", {"text": "Lisbon"})  # the next write folds
    assert_exact(path)
    other.delete(("u", "user-0"), "fold")
    assert [e.item for _, e in after] != [] and len(after) == len(before)
    assert after == other.explain(("u",), "Lisbon tea Kyoto", limit=5)
    mine.close()
    other.close()


def test_a_pruned_change_log_rebuilds_the_table(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        fill(store, 8)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("DELETE FROM langmem_items WHERE key IN ('k2', 'k3')")  # not folded
        conn.execute("DELETE FROM langmem_changes")  # and its log is gone
        conn.commit()
        conn.close()
        store.put(("u", "user-0"), "new", {"text": "a text after the gap"})
        assert_exact(path)


def test_the_migration_fills_the_table_of_a_file_written_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite"
    with monkeypatch.context() as patch:  # a file as langmem wrote it before migration 6
        patch.setattr(_migrations, "MIGRATIONS", MIGRATIONS[:5])
        old = SqliteStore(path, index=INDEX)
        fill(old, 16)
        old.close()
    conn = sqlite3.connect(path)
    assert (
        conn.execute("SELECT name FROM sqlite_master WHERE name = 'langmem_term_docs'").fetchone()
        is None
    )
    conn.close()
    with SqliteStore(path, index=INDEX) as store:
        assert_exact(path)
        store.delete(("u", "user-0"), "k0")
        assert_exact(path)


def test_searches_rank_the_same_with_the_table_or_fts5vocab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    queries = [
        "Lisbon tea",
        "Zoë café",
        "東京 Привет",
        "한국어 검색",
        "LH-1234 gate",
        "moved lived",
    ]
    with SqliteStore(path, index=INDEX) as store:
        fill(store, 40)
        with_table = [store.explain(("u",), q, limit=8) for q in queries]
        monkeypatch.setattr(_term_docs, "lookup", lambda conn, words: None)
        store._term_forms.clear()
        with_vocab = [store.explain(("u",), q, limit=8) for q in queries]
    assert with_table == with_vocab
    assert any(e.matched for hits in with_table for _, e in hits)


def _writer(path: Path, name: str, rounds: int) -> subprocess.Popen[str]:
    code = (
        "import sys\n"
        "from langmem.embeddings import HashingEmbeddings\n"
        "from langmem.stores import SqliteStore\n"
        "path, name, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
        "index = {'dims': 32, 'embed': HashingEmbeddings(32), 'fields': ['text']}\n"
        "store = SqliteStore(path, index=index, timeout=30)\n"
        "for i in range(rounds):\n"
        "    store.put((name,), f'k{i % 7}', {'text': f'{name} note {i} Lisbon café {i % 5}'})\n"
        "    if i % 3 == 2:\n"
        "        store.delete((name,), f'k{(i + 2) % 7}')\n"
        "store.close()\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, str(path), name, str(rounds)], text=True)


def test_processes_writing_at_once_keep_the_counts_exact(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(
        path, index={"dims": 32, "embed": HashingEmbeddings(32), "fields": ["text"]}
    ).close()
    writers = [_writer(path, name, 40) for name in ("a", "b", "c")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0]
    assert_exact(path)


def test_term_forms_reads_the_table_when_it_is_current(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        fill(store, 8)
        conn = sqlite3.connect(path)
        forms = _search.term_forms(conn, ["liv", "lisbon", "absent"], None)
        conn.close()
    _, vocab = counts(path)
    assert forms["lisbon"] == [("lisbon", vocab["lisbon"])]
    assert sorted(forms["liv"]) == sorted((w, vocab[w]) for w in ("lives", "lived") if w in vocab)
    assert forms["absent"] == []


def test_a_failed_fold_never_fails_the_write_and_the_next_write_catches_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.sqlite"
    with SqliteStore(path, index=INDEX) as store:
        fill(store, 6)

        def broken(conn: sqlite3.Connection, texts: Any) -> dict[str, int]:
            raise sqlite3.OperationalError("database or disk is full")

        with monkeypatch.context() as patch:
            patch.setattr(_term_docs, "_words", broken)
            store.put(("u", "user-0"), "late", {"text": "Lisbon written while counts fail"})
        assert store.get(("u", "user-0"), "late") is not None  # the write committed
        conn = sqlite3.connect(path)
        assert _term_docs.lookup(conn, ["lisbon"]) is None  # behind: searches read FTS5
        conn.close()
        assert "late" in [hit.key for hit in store.search(("u",), query="Lisbon written")]
        store.delete(("u", "user-1"), "k1")
        assert_exact(path)
