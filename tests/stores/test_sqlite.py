"""SqliteStore specifics beyond the contract: transactions, reuse, hybrid ranking, migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from langgraph.store.base import PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.errors import IndexMismatchError, InvalidInputError
from langmem.stores import SqliteStore, _migrations, _sqlite
from langmem.stores._migrations import MIGRATIONS
from langmem.stores.ranking import Ranking


class CountingEmbeddings(HashingEmbeddings):
    """Hashing embeddings that record every text they embed."""

    def __init__(self, dims: int = 64) -> None:
        super().__init__(dims)
        self.documents: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.extend(texts)
        return super().embed_documents(texts)


class ConstantEmbeddings(Embeddings):
    """Every text gets the same vector (cosine 0.5 to every query): only BM25 tells them apart."""

    model_id = "constant"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[1.0, 0.0, 0.0, 0.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [0.5, 0.75**0.5, 0.0, 0.0]


def index(embed: Any = None, dims: int = 64, fields: list[str] | None = None) -> Any:
    return {"dims": dims, "embed": embed or HashingEmbeddings(dims), "fields": fields or ["text"]}


def test_unchanged_text_is_not_embedded_again(tmp_path: Path) -> None:
    emb = CountingEmbeddings()
    store = SqliteStore(tmp_path / "s.sqlite", index=index(emb))
    store.put(("n",), "a", {"text": "green tea"})
    store.put(("n",), "a", {"text": "green tea", "extra": 1})  # same indexed text
    store.put(("n",), "b", {"text": "green tea"})  # same text, other item
    store.batch(
        [PutOp(("n",), "c", {"text": "black tea"}), PutOp(("n",), "d", {"text": "black tea"})]
    )
    assert emb.documents == ["green tea", "black tea"]


def test_embeddings_run_before_the_write_transaction(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"

    class LockProbe(HashingEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            other = sqlite3.connect(path, timeout=0)
            other.execute("BEGIN IMMEDIATE")  # fails if the store already holds the write lock
            other.execute("ROLLBACK")
            other.close()
            return super().embed_documents(texts)

    store = SqliteStore(path, index=index(LockProbe(64)))
    store.put(("n",), "a", {"text": "tea"})
    assert store.get(("n",), "a") is not None


def test_a_failing_batch_writes_nothing(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", index=index())
    store.put(("n",), "kept", {"text": "before"})
    with pytest.raises(InvalidInputError, match=r"key .b. .*set"):
        store.batch(
            [
                PutOp(("n",), "a", {"text": "fine"}),
                PutOp(("n",), "kept", None),
                PutOp(("n",), "b", {"text": "bad", "value": {1, 2}}),  # not JSON
            ]
        )
    assert [i.key for i in store.search(("n",))] == ["kept"]
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM langmem_vectors").fetchone()[0] == 1


def test_deleting_an_item_cascades_to_vectors_and_lexical_index(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", index=index())
    store.put(("n",), "a", {"text": "xylophone lessons on tuesday"})
    store.delete(("n",), "a")
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM langmem_vectors").fetchone()[0] == 0
    hits = conn.execute("SELECT rowid FROM langmem_fts WHERE langmem_fts MATCH 'xylophone'")
    assert hits.fetchall() == []


def test_migrations_are_numbered_and_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(path).close()
    SqliteStore(path, index=index()).close()
    conn = sqlite3.connect(path)
    versions = [v for (v,) in conn.execute("SELECT v FROM langmem_migrations ORDER BY v")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_hybrid_finds_rare_words_and_numbers_the_embedding_misses(tmp_path: Path) -> None:
    # every vector is the same: every text is a near-copy of every other (no redundancy or
    # supersede), and recency off: equal cosines give equal dense sides
    unmarked = Ranking(redundancy=0.0, supersede=0.0, recency_weight=0.0)
    store = SqliteStore(
        tmp_path / "s.sqlite", index=index(ConstantEmbeddings(), dims=4), ranking=unmarked
    )
    store.put(("n",), "flight", {"text": "Flight LH1234 leaves at 07:45"})
    store.put(("n",), "dentist", {"text": "Dentist appointment with Dr Okonkwo"})
    store.put(("n",), "other", {"text": "Buy milk and bread"})
    assert store.search(("n",), query="when is LH1234?", limit=1)[0].key == "flight"
    assert store.search(("n",), query="Okonkwo", limit=1)[0].key == "dentist"
    # equal cosines (0.5): the dense side adds the same to every item, BM25 decides
    weight = store.ranking.dense_weight
    scores = [h.score for h in store.search(("n",), query="Okonkwo", limit=3)]
    assert scores[0] > scores[1] == scores[2] == pytest.approx(weight * 0.5)
    assert scores[0] == pytest.approx(weight * 0.5 + (1 - weight) * 1.0)  # average length
    dense_only = SqliteStore(
        tmp_path / "s.sqlite", index=index(ConstantEmbeddings(), 4), hybrid=False
    )
    hits = dense_only.search(("n",), query="Okonkwo", limit=3)
    assert [h.score for h in hits] == pytest.approx([0.5, 0.5, 0.5])


def test_hybrid_score_is_the_convex_fusion_of_cosine_and_normalised_bm25(tmp_path: Path) -> None:
    emb = HashingEmbeddings(64)
    fusion = Ranking(recency_weight=0.0)  # the fusion alone (no text is a copy of the other)
    store = SqliteStore(tmp_path / "s.sqlite", index=index(emb), ranking=fusion)
    texts = {"match": "walrus sightings near the pier", "plain": "a quiet afternoon"}
    for key, text in texts.items():
        store.put(("n",), key, {"text": text})
    query = "walrus"
    cosines = {
        key: sum(a * b for a, b in zip(emb.embed_query(query), emb.embed_query(text)))
        for key, text in texts.items()
    }
    weight = store.ranking.dense_weight
    scores = {h.key: h.score for h in store.search(("n",), query=query)}
    dense = {key: min(max(cos, 0.0), 1.0) for key, cos in cosines.items()}
    assert scores["plain"] == pytest.approx(weight * dense["plain"], abs=1e-6)  # no word matched
    # "walrus": one of the text's 4 terms, average length 3 terms; b and k1 as documented
    ranking = store.ranking
    norm = ranking.k1 * (1 - ranking.b + ranking.b * 4 / 3)
    lexical = min((ranking.k1 + 1) / (1 + norm), 1.0)
    expected = weight * dense["match"] + (1 - weight) * lexical
    assert scores["match"] == pytest.approx(expected, abs=1e-6)
    assert all(0.0 <= s <= 1.0 for s in scores.values() if s is not None)


def test_a_new_embedding_model_is_refused_until_reembedded(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    SqliteStore(path, index=index(ConstantEmbeddings(), dims=4)).put(
        ("n",), "a", {"text": "pelican"}
    )
    with pytest.raises(IndexMismatchError, match=r"constant.*dims=4.*langmem-hashing-64.*reembed"):
        SqliteStore(path, index=index(HashingEmbeddings(64)), hybrid=False)
    seen: list[tuple[int, int]] = []
    count = SqliteStore(path).reembed(
        index(HashingEmbeddings(64)), progress=lambda *p: seen.append(p)
    )
    assert count == 1 and seen == [(1, 1)]
    store = SqliteStore(path, index=index(HashingEmbeddings(64)), hybrid=False)
    hit = store.search(("n",), query="pelican")[0]
    assert hit.score == pytest.approx(1.0, abs=1e-6)  # same model on both sides again


def test_a_reader_behind_the_pruned_change_log_reloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sqlite, "_LOG_KEEP", 5)
    path = tmp_path / "s.sqlite"
    writer = SqliteStore(path, index=index())
    reader = SqliteStore(path, index=index())
    writer.put(("n",), "first", {"text": "first note"})
    assert [h.key for h in reader.search(("n",), query="first note", limit=1)] == ["first"]
    for i in range(300):
        writer.put(("n",), f"k{i}", {"text": f"note {i}"})
    writer.delete(("n",), "first")
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM langmem_changes").fetchone()[0] < 100
    keys = {h.key for h in reader.search(("n",), query="note", limit=1000)}
    assert keys == {f"k{i}" for i in range(300)}


def test_database_path_from_constructor_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated_user_paths: Path
) -> None:
    assert SqliteStore().path == str(_isolated_user_paths / "memories.sqlite")
    monkeypatch.setenv("LANGMEM_STORE", f"sqlite:///{tmp_path}/env.sqlite")
    assert SqliteStore().path == f"{tmp_path}/env.sqlite"
    monkeypatch.setenv("LANGMEM_STORE", str(tmp_path / "plain.sqlite"))
    assert SqliteStore().path == str(tmp_path / "plain.sqlite")
    assert SqliteStore(tmp_path / "given.sqlite").path == str(tmp_path / "given.sqlite")


def test_ttl_sweeper_deletes_expired_items(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite", index=index())
    store.put(("n",), "gone", {"text": "short lived"}, ttl=0.0001)
    store.put(("n",), "kept", {"text": "long lived"})
    store.start_ttl_sweeper(sweep_interval_minutes=0.0005)
    try:
        import time

        deadline = time.time() + 10
        conn = sqlite3.connect(tmp_path / "s.sqlite")
        while time.time() < deadline:
            if conn.execute("SELECT COUNT(*) FROM langmem_items").fetchone()[0] == 1:
                break
            time.sleep(0.02)
        assert [k for (k,) in conn.execute("SELECT key FROM langmem_items")] == ["kept"]
    finally:
        assert store.stop_ttl_sweeper(timeout=5)


def test_closed_store_says_so(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    store.close()
    with pytest.raises(ValueError, match=r"closed"):
        store.get(("n",), "a")


def test_bad_index_configuration_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"dims"):
        SqliteStore(tmp_path / "s.sqlite", index={"dims": 0, "embed": HashingEmbeddings(4)})
    store = SqliteStore(tmp_path / "t.sqlite", index={"dims": 8, "embed": HashingEmbeddings(4)})
    with pytest.raises(ValueError, match=r"dims=8"):
        store.put(("n",), "a", {"x": "y"})
    with pytest.raises(ValueError, match=r"\$regex"):
        store.search(("n",), filter={"x": {"$regex": "y"}})


def test_a_file_written_before_migration_3_is_upgraded_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite"
    with monkeypatch.context() as patch:  # a store as it was before migration 3 existed
        patch.setattr(_migrations, "MIGRATIONS", MIGRATIONS[:2])
        old = SqliteStore(path, index=index(ConstantEmbeddings(), dims=4))
        old.put(("n",), "flight", {"text": "Flight LH1234 is living up to its name"})
        old.put(("n",), "other", {"text": "Buy milk and bread"})
        old.close()
    conn = sqlite3.connect(path)
    assert [v for (v,) in conn.execute("SELECT v FROM langmem_migrations")] == [1, 2]
    conn.close()

    upgraded = SqliteStore(path, index=index(ConstantEmbeddings(), dims=4))
    assert upgraded.search(("n",), query="LH1234", limit=1)[0].key == "flight"
    upgraded.close()
    conn = sqlite3.connect(path)
    versions = [v for (v,) in conn.execute("SELECT v FROM langmem_migrations ORDER BY v")]
    assert versions == list(range(1, len(MIGRATIONS) + 1))  # 3 and every later one
    terms = {t for (t,) in conn.execute("SELECT term FROM langmem_fts_vocab")}
    assert {"lh1234", "living", "milk"} <= terms
    assert "live" not in terms  # rebuilt without stemming, from the texts already stored
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
