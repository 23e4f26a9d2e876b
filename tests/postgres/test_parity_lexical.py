"""SQLite and PostgreSQL take the same lexical candidates when the query's rarer words match
more texts (in the whole store) than the candidates take: the best of the whole store by FTS5's
``bm25()`` (a word counted as often as a text holds it, every word of the text in its length),
then the allowed ones (namespace, filter), looking further when fewer than the results wanted
remain. Before, PostgreSQL kept the best of the namespace by the ranking's own BM25 (each word
once, analyzed length), so its results differed here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore, PutOp

from langmem.stores import PostgresStore, SqliteStore, _pg_lexical
from langmem.stores._pg_schema import VECTOR_STEPS, _fts5_counts
from langmem.stores.ranking import Ranking
from tests.postgres.test_parity_ties import TextVectors

_STOP = "the and of my not is it was to a"


def _index() -> dict[str, Any]:
    return {"dims": 16, "embed": TextVectors(), "fields": ["content"]}


def _writes() -> list[PutOp]:
    """Texts holding "quill" (and some "ember"), in two namespaces, written alternately: ones
    holding it three times (best by FTS5, the ranking's BM25 counts the word once), ones padded
    with stop words (long to FTS5, short to the ranking), plain ones; filler without it."""
    writes: list[PutOp] = []
    for i in range(24):
        ns = ("a",) if i % 2 else ("b",)
        writes.append(PutOp(ns, f"rep{i:02d}", {"content": f"quill quill quill note{i}"}))
        pad = " ".join(_STOP.split()[: 2 + i % 8])
        writes.append(PutOp(ns, f"pad{i:02d}", {"content": f"{pad} quill", "kind": f"k{i % 3}"}))
        writes.append(PutOp(ns, f"one{i:02d}", {"content": f"quill ember line{i} word{i % 5}"}))
    for i in range(60):
        writes.append(PutOp(("a",) if i % 2 else ("b",), f"fill{i:02d}", {"content": f"f{i} x"}))
    for i in range(5):  # a small namespace: its texts are far down the store's best
        writes.append(PutOp(("c",), f"c{i}", {"content": f"{_STOP} quill c{i}", "n": i}))
    return writes


def _rewrites() -> list[PutOp]:
    """Rewrites and deletes, which reorder the texts tied at the cut on both stores."""
    writes: list[PutOp] = []
    for i in range(0, 24, 5):
        ns = ("a",) if i % 2 else ("b",)
        writes.append(PutOp(ns, f"rep{i:02d}", {"content": f"quill quill quill new{i}"}))
        writes.append(PutOp(ns, f"one{i:02d}", None))
        writes.append(PutOp(ns, f"pad{i:02d}", {"content": "quill ember ember", "kind": "k1"}))
    return writes


def _results(store: BaseStore) -> list[Any]:
    out: list[Any] = []
    for query, namespace, flt in [
        ("quill", ("a",), None),
        ("quill ember", ("a",), None),
        ("ember quill", (), None),
        ("quill", ("b",), {"kind": "k1"}),
        ("quill ember", ("c",), None),  # widened in one statement
        ("quill", ("c",), {"n": {"$gte": 1}}),  # widened step by step (a filter)
    ]:
        explained = store.explain(namespace, query, limit=3, filter=flt)  # type: ignore[attr-defined]
        out.append([(query, h.key, round(w.score, 6)) for h, w in explained])
    return out


def test_many_rare_word_matches_give_the_same_candidates(
    tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ranking = Ranking(depth=2)  # few dense candidates: the lexical ones decide
    widened: list[int] = []
    real = _pg_lexical._widened

    def counted(*args: Any, **kwargs: Any) -> Any:
        widened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_pg_lexical, "_widened", counted)
    results = []
    stores: list[Any] = [
        SqliteStore(tmp_path / "lexical.sqlite", index=_index(), ranking=ranking),  # type: ignore[arg-type]
        PostgresStore.from_url(pg_database, index=_index(), ranking=ranking),  # type: ignore[arg-type]
    ]
    for store in stores:
        try:
            store.batch(_writes())
            first = _results(store)
            store.batch(_rewrites())
            results.append(first + _results(store))
        finally:
            store.close()
    sqlite, postgres = results
    assert all(rows for rows in sqlite), "a query found nothing: it would prove nothing"
    assert postgres == sqlite
    assert widened, "no search looked further than the first candidates: proves less"


def test_texts_written_before_the_upgrade_get_their_word_counts(pg_database: str) -> None:
    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        store.put(("a",), "k", {"content": "The quill, the QUILL and the ink"})
        store.put(("a",), "j", {"content": "plain words"})
        with store._transaction() as cur:
            cur.execute("UPDATE store_vectors SET lm_tokens = NULL, lm_repeats = NULL")
            step = VECTOR_STEPS.index(_fts5_counts)  # forget the step: it runs again
            cur.execute("DELETE FROM langmem_vector_migrations WHERE v >= %s", (step,))
        store.setup()
        with store._transaction() as cur:
            cur.execute("SELECT key, lm_tokens, lm_repeats FROM store_vectors ORDER BY key")
            assert [tuple(r.values()) for r in cur.fetchall()] == [
                ("j", 2, None),
                ("k", 7, {"quill": 2, "the": 3}),
            ]
    finally:
        store.close()
