"""Hostile lexical input ranks the same on both stores and never raises: NUL bytes and lone
surrogates in queries, zero-width, combining, bidirectional-override and RTL characters,
emoji sequences, queries of punctuation only, numbers with thousands separators, a text of
20,000 distinct words and queries of 10,000 words.

Before, a query of thousands of distinct rare words failed on PostgreSQL ("number of parameters
must be between 0 and 65535", then "stack depth limit exceeded" in its tsquery), raised as a
``StoreConnectionError``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore, PutOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import PostgresStore, SqliteStore
from langmem.stores.ranking import Ranking
from tests.postgres.test_parity import _assert_close, _rounded, _untied

TEXTS = [
    "zero\u200bwidth join\u200dchars",
    "e\u0301te\u0301 combining cafe\u0301 \u0915\u093f\u0903",
    "שלום עולם RTL עברית",
    "مرحبا بالعالم",
    "emoji 🎉🎉 party 👩\u200d👩\u200d👧 family",
    "price 1,234,567.89 and 1.234.567,89 and 10 000",
    "only words here",
    "many " + " ".join(f"d{i}" for i in range(20_000)),
    "\u202eevil\u202c override",
    "tab\tnew\nline\rcr",
    "ﷺ ligature ﷺ",
    "Ⅻ ① ½ ²",
]
QUERIES = [
    "\x00",
    "a\x00b zero",
    "\ud800abc",
    "abc\udfff def",
    "\u200b",
    "zero\u200bwidth",
    "width",
    "cafe\u0301",
    "ete",
    "שלום",
    "مرحبا",
    "🎉",
    "party🎉",
    "!!! ??? ...",
    "1,234,567",
    "234 567",
    "1.234.567,89",
    " ".join(["word"] * 10_000),
    " ".join(f"d{i}" for i in range(0, 20_000, 2)),  # 10,000 distinct words one text holds
    " ",
    "\u202eevil",
    "ﷺ",
    "ⅻ 12",
    "½",
]


def _index() -> dict[str, Any]:
    return {"dims": 16, "embed": HashingEmbeddings(16)}


def _explained(store: BaseStore) -> list[Any]:
    store.batch([PutOp(("a",), f"t{i:02d}", {"content": t}) for i, t in enumerate(TEXTS)])
    rows: list[Any] = []
    for n, query in enumerate(QUERIES):
        hits = store.search(("a",), query=query, limit=4)
        explained = store.explain(("a",), query, limit=4)  # type: ignore[attr-defined]
        assert [h.key for h in hits] == [h.key for h, _ in explained]
        rows += [(n, h.key, round(h.score or 0.0, 5), _rounded(w)) for h, w in explained]
    return rows


def test_hostile_lexical_input_ranks_the_same_on_both_stores(
    tmp_path: Path, pg_database: str
) -> None:
    explained = []
    for store in (
        SqliteStore(tmp_path / "h.sqlite", index=_index(), ranking=Ranking(depth=3)),  # type: ignore[arg-type]
        PostgresStore.from_url(pg_database, index=_index(), ranking=Ranking(depth=3)),  # type: ignore[arg-type]
    ):
        try:
            explained.append(_explained(store))
        finally:
            store.close()
    sqlite_rows, postgres_rows = explained
    assert sum(1 for row in sqlite_rows if row[3]["bm25"] > 0) > 10, "few matches: proves little"
    _assert_close(_untied(postgres_rows), _untied(sqlite_rows))
