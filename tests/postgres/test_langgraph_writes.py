"""Rows that LangGraph's own PostgresStore writes into the tables langmem's store reads (a user
moving from it, or both writing one database) rank as if langmem had written them.

LangGraph writes ``store_vectors`` rows without langmem's text columns (``lm_text``,
``lm_words``, ...), and on a re-put replaces the embedding and leaves them. Before, such rows
were found by their cosine only (BM25 0, not a lexical candidate), counted as texts of no words
in the statistics, and a re-put item kept matching its old words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore
from langgraph.store.postgres import PostgresStore as LangGraphPostgresStore

from langmem.stores import PostgresStore, SqliteStore
from langmem.stores.ranking import Ranking
from tests.postgres.test_parity import _assert_close, _rounded, _untied
from tests.postgres.test_parity_ties import TextVectors

TEXTS = {
    "k1": "Ana's flight LH-1234 lands at 7:45 in Lisbon",
    "k2": "Bo plays chess on Sundays with his sister",
    "k3": "the quarterly report is due on Friday",
    "k4": "Lisbon trip: book the hotel near the river",
    "k5": "chess club meets Thursday evening",
}
QUERIES = ["Lisbon flight", "chess Sunday", "report Friday", "hotel river Lisbon", "zebra"]


def _index() -> dict[str, Any]:
    return {"dims": 16, "embed": TextVectors(), "fields": ["content"]}


def _explained(store: BaseStore) -> list[Any]:
    rows = []
    for query in QUERIES:
        for hit, why in store.explain(("a",), query, limit=5):  # type: ignore[attr-defined]
            rows.append((query, hit.key, round(hit.score or 0.0, 5), _rounded(why)))
    return rows


def _langgraph_puts(url: str, texts: dict[str, str], *, setup: bool = False) -> None:
    with LangGraphPostgresStore.from_conn_string(url, index=_index()) as theirs:  # type: ignore[arg-type]
        if setup:
            theirs.setup()
        for key, text in texts.items():
            theirs.put(("a",), key, {"content": text})


def _sqlite(tmp_path: Path, texts: dict[str, str]) -> list[Any]:
    store = SqliteStore(tmp_path / "s.sqlite", index=_index(), ranking=Ranking(depth=2))  # type: ignore[arg-type]
    try:
        for key, text in texts.items():
            store.put(("a",), key, {"content": text})
        return _explained(store)
    finally:
        store.close()


def test_rows_langgraph_writes_rank_as_langmems(tmp_path: Path, pg_database: str) -> None:
    ours = PostgresStore.from_url(pg_database, index=_index(), ranking=Ranking(depth=2))  # type: ignore[arg-type]
    try:
        ours.put(("a",), "k1", {"content": TEXTS["k1"]})
        _langgraph_puts(pg_database, {k: t for k, t in TEXTS.items() if k != "k1"})
        postgres_rows = _explained(ours)
    finally:
        ours.close()
    sqlite_rows = _sqlite(tmp_path, TEXTS)
    assert any(parts["matched"].get("chess") for q, _, _, parts in postgres_rows if "chess" in q)
    _assert_close(_untied(postgres_rows), _untied(sqlite_rows))


def test_a_langgraph_database_opened_by_langmem(tmp_path: Path, pg_database: str) -> None:
    _langgraph_puts(pg_database, TEXTS, setup=True)
    ours = PostgresStore.from_url(pg_database, index=_index(), ranking=Ranking(depth=2))  # type: ignore[arg-type]
    try:
        with ours._transaction() as cur:  # the set-up filled every row
            cur.execute("SELECT count(*) AS n FROM store_vectors WHERE lm_text IS NULL")
            assert cur.fetchone()["n"] == 0
        postgres_rows = _explained(ours)
    finally:
        ours.close()
    _assert_close(_untied(postgres_rows), _untied(_sqlite(tmp_path, TEXTS)))


def test_an_item_langgraph_puts_again_matches_its_new_words(
    tmp_path: Path, pg_database: str
) -> None:
    ours = PostgresStore.from_url(pg_database, index=_index(), ranking=Ranking(depth=2))  # type: ignore[arg-type]
    try:
        for key, text in TEXTS.items():
            ours.put(("a",), key, {"content": text})
        ours.search(("a",), query="chess")  # the check is due again only after a while
        changed = {"k2": "Bo plays go on Mondays", "k5": "the go club meets Thursday evening"}
        _langgraph_puts(pg_database, changed)
        if hasattr(ours, "untexted"):  # as after CHECK_EVERY seconds (no such check before)
            ours.untexted = type(ours.untexted)()
        postgres_rows = _explained(ours)
        go = {h.key for h, w in ours.explain(("a",), "go Mondays") if w.matched}
        chess = {h.key for h, w in ours.explain(("a",), "chess") if w.matched}
    finally:
        ours.close()
    assert go == {"k2", "k5"} and chess == set()
    _assert_close(_untied(postgres_rows), _untied(_sqlite(tmp_path, {**TEXTS, **changed})))
