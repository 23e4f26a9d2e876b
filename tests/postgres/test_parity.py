"""The same memory scenarios on the embedded store and on PostgreSQL give the same results:
hot-path tools, the store manager (what its model is shown, what it writes) and the searcher."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph.func import entrypoint
from langgraph.store.base import BaseStore

from langmem import (
    create_manage_memory_tool,
    create_memory_searcher,
    create_memory_store_manager,
    create_search_memory_tool,
)
from langmem.errors import ConfigurationError
from langmem.stores import PostgresStore, SqliteStore
from langmem.stores._pg_schema import VECTOR_STEPS, _analyzed_lengths
from langmem.stores.ranking import Explanation, Ranking
from langmem.testing import HashingEmbeddings, ScriptedChatModel, ai_tool_calls, requests_text
from tests.stores.test_feedback import HOPS, HopVectors

NS = ("memories", "{langgraph_user_id}")
CFG = {"configurable": {"langgraph_user_id": "alice", "thread_id": "t1"}}
FACTS = [
    "Alice switched from coffee to green tea last month",
    "Alice's flight LH-1234 to Lisbon lands at 07:45",
    "Alice lives in Porto near the river",
    "Alice's sister Bea is a nurse in Braga",
    "Alice plays chess on Tuesday evenings",
    "Alice is allergic to peanuts",
]
CONVO = [
    {"role": "user", "content": "Bea called: my flight to Lisbon moved, and I drink tea now."},
    {"role": "assistant", "content": "Noted."},
]
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+(\+00:00|Z)?")
_FLOAT = re.compile(r"-?\d+\.\d{6,}")


def _index() -> dict[str, Any]:
    # "content" only: the manager's memories also hold their write times, which differ per run
    return {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["content"]}


def _plain(value: Any) -> Any:
    """Ids and times differ between runs; everything else must match."""
    text = _STAMP.sub("<time>", _UUID.sub("<id>", json.dumps(value, sort_keys=True, default=str)))
    # float32 cosines computed by numpy and by pgvector differ in the last bits
    return _FLOAT.sub(lambda m: f"{float(m.group()):.5f}", text)


def _scenario(store: BaseStore) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    manage = create_manage_memory_tool(namespace=NS, store=store)
    search = create_search_memory_tool(namespace=NS, store=store)
    ids = [manage.invoke({"content": fact, "action": "create"}, CFG) for fact in FACTS]
    seen["created"] = [_plain(i) for i in ids]
    chess = next(i for i in store.search(("memories", "alice"), query="chess", limit=1))
    manage.invoke(
        {"content": "Alice plays chess on Fridays", "action": "update", "id": chess.key}, CFG
    )
    peanuts = store.search(("memories", "alice"), query="allergic to peanuts", limit=1)[0]
    manage.invoke({"action": "delete", "id": peanuts.key}, CFG)
    for query in ["LH-1234", "what does Alice drink", "Bea nurse", "chess day", "Porto river"]:
        seen[f"search {query}"] = _plain(search.invoke({"query": query, "limit": 3}, CFG))

    model = ScriptedChatModel(
        responses=[ai_tool_calls(("Memory", {"content": "Alice's flight to Lisbon moved"}))]
    )
    manager = create_memory_store_manager(model, namespace=NS, store=store)
    seen["manager writes"] = _plain(
        [
            {k: v for k, v in w.items() if k != "key"}
            for w in manager.invoke({"messages": CONVO}, CFG)
        ]
    )
    seen["manager prompt"] = _plain(requests_text(model.requests))

    searcher_model = ScriptedChatModel(
        responses=[ai_tool_calls(("search_memory", {"queries": ["flight Lisbon", "tea"]}))]
    )
    searcher = create_memory_searcher(searcher_model, namespace=NS)

    @entrypoint(store=store)
    def find(messages: list[Any]) -> list[Any]:
        return searcher.invoke({"messages": messages})

    found = find.invoke(CONVO, CFG)
    seen["searcher"] = [(item.value["content"], round(item.score, 5)) for item in found]
    return seen


def _backends(tmp_path: Path, pg_database: str) -> list[Callable[[], BaseStore]]:
    return [
        lambda: SqliteStore(tmp_path / "parity.sqlite", index=_index()),  # type: ignore[arg-type]
        lambda: PostgresStore.from_url(pg_database, index=_index()),  # type: ignore[arg-type]
    ]


def test_memory_scenarios_match_on_sqlite_and_postgres(tmp_path: Path, pg_database: str) -> None:
    results = []
    for make in _backends(tmp_path, pg_database):
        store = make()
        try:
            results.append(_scenario(store))
        finally:
            store.close()  # type: ignore[attr-defined]
    embedded, postgres = results
    assert embedded["searcher"], "the scenario found nothing: it would prove nothing"
    for name in embedded:
        assert postgres[name] == embedded[name], name


@pytest.mark.parametrize("query", ["LH-1234 flight", "green tea", "Braga"])
def test_scores_match_to_the_fifth_decimal(tmp_path: Path, pg_database: str, query: str) -> None:
    ranked = []
    for make in _backends(tmp_path, pg_database):
        store = make()
        try:
            for i, fact in enumerate(FACTS):
                store.put(("facts",), f"f{i}", {"content": fact})
            ranked.append(
                [(h.key, round(h.score or 0.0, 5)) for h in store.search(("facts",), query=query)]
            )
        finally:
            store.close()  # type: ignore[attr-defined]
    assert ranked[0] == ranked[1]


def _provenance_facts() -> list[dict[str, Any]]:
    """Texts with threads and write times; some words rare, some common, some inflected."""
    topics = ["flight", "tea", "chess", "nurse", "river", "garden", "piano", "bicycle"]
    facts = []
    for i in range(60):
        topic = topics[i % len(topics)]
        facts.append(
            {
                "content": f"Note {i}: Alice mentioned the {topic} while living in city {i % 7}"
                + (" and she lived near Braga" if i % 11 == 0 else ""),
                "thread_id": f"t{i % 5}",
                "created_at": f"2026-01-{1 + i % 28:02d}T10:{i % 60:02d}:00+00:00",
            }
        )
    return facts


@pytest.mark.parametrize(
    "ranking",
    [
        Ranking(depth=5),
        Ranking(depth=5, thread_boost=0.9, thread_window=86400.0 * 3, recency_weight=0.3),
        Ranking(depth=5, fusion="minmax"),
        Ranking(depth=5, redundancy=0.2, redundancy_threshold=0.75, redundancy_depth=8),
        Ranking(depth=5, redundancy=0.3, redundancy_ramp=0.3, redundancy_depth=8),
        Ranking(depth=5, supersede=0.5, supersede_threshold=0.75, redundancy_depth=8),
        Ranking(depth=5, feedback_docs=3, feedback_terms=4, feedback_weight=0.8),
        Ranking(depth=5, centering=0.5),
        Ranking(depth=5, fusion="learned", supersede_threshold=0.75, redundancy_depth=8),
        Ranking(depth=5, restate=0.4, restate_threshold=0.3, redundancy_depth=8),
        Ranking(depth=5, restate=0.2, supersede=0.3, centering=0.1),
    ],
    ids=[
        "default-boosts",
        "strong-boosts",
        "minmax",
        "redundancy",
        "redundancy-ramp",
        "supersede",
        "feedback",
        "centering",
        "learned",
        "restate",
        "restate-supersede-centering",
    ],
)
def test_explain_matches_on_sqlite_and_postgres(
    tmp_path: Path, pg_database: str, ranking: Ranking
) -> None:
    """Same score parts on both stores, with lexical candidates beyond the dense depth and
    same-thread and recency boosts at work."""
    explained = []
    marks_down = (
        ranking.redundancy_threshold < Ranking().redundancy_threshold or ranking.redundancy_ramp > 0
    )
    supersedes = ranking.supersede > 0 and ranking.supersede_threshold < 0.9
    stores: list[Any] = [
        SqliteStore(tmp_path / "explain.sqlite", index=_index(), ranking=ranking),  # type: ignore[arg-type]
        PostgresStore.from_url(pg_database, index=_index(), ranking=ranking),  # type: ignore[arg-type]
    ]
    for store in stores:
        try:
            for i, fact in enumerate(_provenance_facts()):
                store.put(("notes", "alice"), f"n{i:02d}", fact)
            rows = []
            for query in ["where did Alice live near Braga", "piano lessons", "city 3 tea"]:
                # with redundancy, every item: a near-duplicate's tie partner stays in view
                for hit, why in store.explain(("notes",), query, limit=6 + 54 * marks_down):
                    rows.append((query, hit.key, round(hit.score or 0.0, 5), _rounded(why)))
            explained.append(rows)
        finally:
            store.close()
    sqlite_rows, postgres_rows = explained
    assert any(r[3]["bm25"] > 0 for r in sqlite_rows), "no lexical match: proves nothing"
    assert any(r[3]["thread"] > 0 or r[3]["recency"] > 0 for r in sqlite_rows) or (
        ranking.recency_weight == 0 and ranking.thread_boost == Ranking().thread_boost
    )
    if marks_down:
        assert any(r[3]["redundancy"] > 0 for r in sqlite_rows), "no near-duplicate: proves nothing"
    if supersedes:
        assert any(r[3]["superseded"] > 0 for r in sqlite_rows), "no newer copy: proves nothing"
    if ranking.restate > 0 and ranking.restate_threshold < 0.5:
        assert any(r[3]["restated"] > 0 for r in sqlite_rows), "no newer telling: proves nothing"
    if ranking.fusion == "learned":  # the model's parts, crowd and superseded among them
        assert all(r[3]["learned"] for r in sqlite_rows)
        assert any(r[3]["learned"]["superseded"] != 0 for r in sqlite_rows)
    if ranking.centering:  # the dense side came from the centred query
        assert any(abs(r[3]["centered"] - r[3]["cosine"]) > 1e-3 for r in sqlite_rows)
    if ranking.feedback:  # the second pass expanded the queries and moved some scores
        assert all(r[3]["expansion"] for r in sqlite_rows)
        assert any(r[3]["feedback"] > 0 for r in sqlite_rows)
    _assert_close(_untied(postgres_rows), _untied(sqlite_rows))


def test_second_pass_matches_on_sqlite_and_postgres(tmp_path: Path, pg_database: str) -> None:
    """The second pass finds the same texts through the same expansion terms on both stores,
    with the same score parts, including a text that only an expansion term finds."""
    ranking = Ranking(
        depth=1, dense_weight=0.5, feedback_docs=2, feedback_terms=4, feedback_fetch=True
    )
    index: Any = {"dims": 32, "embed": HopVectors(), "fields": ["content"]}
    explained = []
    stores: list[Any] = [
        SqliteStore(tmp_path / "hops.sqlite", index=index, ranking=ranking),
        PostgresStore.from_url(pg_database, index=index, ranking=ranking),
    ]
    for store in stores:
        try:
            for i, text in enumerate(HOPS):
                store.put(("me",), f"h{i}", {"content": text})
            rows = []
            for query in ["Where is my sister relocating?", "weather small talk", "Tomas"]:
                for hit, why in store.explain(("me",), query, limit=4):
                    rows.append((query, hit.key, round(hit.score or 0.0, 5), _rounded(why)))
            explained.append(rows)
        finally:
            store.close()
    sqlite_rows, postgres_rows = explained
    hop = [r for r in sqlite_rows if r[0].startswith("Where") and r[1] == "h1"]
    assert hop and hop[0][3]["feedback"] > 0 and "maria" in hop[0][3]["expansion"]
    _assert_close(_untied(postgres_rows), _untied(sqlite_rows))


def _rounded(why: Explanation) -> dict[str, Any]:
    """An explanation's parts (not its backend's item id), floats to the fifth decimal."""
    parts = {
        k: round(v, 5) if isinstance(v, float) else v
        for k, v in dataclasses.asdict(why).items()
        if k != "item"
    }
    parts["expansion"] = {t: round(w, 5) for t, w in why.expansion.items()}
    parts["learned"] = {name: round(w, 5) for name, w in why.learned.items()}
    return parts


def _untied(rows: list[Any]) -> list[Any]:
    """``rows`` with the key left out where the hit may tie with another one (the same score as
    another hit of its query, or the lowest score shown, which a hit past the limit may share):
    the rule leaves the order of exact ties (identical hashing vectors here) to the backend."""
    counts = Counter((query, score) for query, _, score, _ in rows)
    # which of two exactly tied near-duplicates is marked down is each store's order of ties
    before = Counter(
        (query, round(parts["score"] + parts["redundancy"], 5)) for query, _, _, parts in rows
    )
    lowest: dict[str, float] = {}
    for query, _, score, _ in rows:
        lowest[query] = min(score, lowest.get(query, score))
    return [
        (
            query,
            key
            if counts[query, score] == 1
            and before[query, round(parts["score"] + parts["redundancy"], 5)] == 1
            and score > lowest[query]
            else None,
            score,
            parts,
        )
        for query, key, score, parts in rows
    ]


def test_postgres_explain_is_search_with_its_parts(pg_database: str) -> None:
    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        for i, fact in enumerate(FACTS):
            store.put(("facts",), f"f{i}", {"content": fact})
        hits = store.search(("facts",), query="flight to Lisbon", limit=4)
        explained = store.explain(("facts",), "flight to Lisbon", limit=4)
        assert [(h.key, h.score) for h in hits] == [(h.key, h.score) for h, _ in explained]
        assert explained[0][1].matched == {"flight": 1, "lisbon": 1}
        later = asyncio.run(store.aexplain(("facts",), "flight to Lisbon", limit=4))
        assert [(h.key, w.score) for h, w in later] == [(h.key, w.score) for h, w in explained]
        with pytest.raises(ConfigurationError, match="non-empty query"):
            store.explain(("facts",), "")
    finally:
        store.close()


def test_texts_written_before_the_upgrade_get_their_analyzed_length(pg_database: str) -> None:
    store = PostgresStore.from_url(pg_database, index=_index())  # type: ignore[arg-type]
    try:
        store.put(("facts",), "a", {"content": "Alice lives in Porto near the river"})
        with store._transaction() as cur:
            cur.execute("UPDATE store_vectors SET lm_length = NULL")
            # forget the lengths step (and the later ones: steps run in order)
            step = VECTOR_STEPS.index(_analyzed_lengths)
            cur.execute("DELETE FROM langmem_vector_migrations WHERE v >= %s", (step,))
        store.setup()
        with store._transaction() as cur:
            cur.execute("SELECT lm_length FROM store_vectors")
            assert [r["lm_length"] for r in cur.fetchall()] == [5]  # alic, liv, porto, near, river
    finally:
        store.close()


class _ZeroForBlank(HashingEmbeddings):
    """Hashing vectors, except all zeros for texts without a letter (cosine 0 with anything)."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = super().embed_documents(texts)
        return [
            v if any(c.isalpha() for c in t) else [0.0] * len(v) for t, v in zip(texts, vectors)
        ]


def test_zero_vectors_are_nobodys_near_copy_on_both_stores(
    tmp_path: Path, pg_database: str
) -> None:
    index: Any = {"dims": 64, "embed": _ZeroForBlank(64), "fields": ["content"]}
    texts = {"a": "Ana's flight to Lisbon", "b": "Ana's flight to Lisbon", "z1": "123", "z2": "456"}
    ranking = Ranking(redundancy=0.5, redundancy_threshold=-1.0)  # every pair counts as alike
    results = []
    for store in (
        SqliteStore(tmp_path / "zero.sqlite", index=index, ranking=ranking),
        PostgresStore.from_url(pg_database, index=index, ranking=ranking),
    ):
        try:
            for key, text in texts.items():
                store.put(("zero",), key, {"content": text})
            explained = store.explain(("zero",), "flight to Lisbon 123 456", limit=4)
            results.append(sorted((h.key, round(w.redundancy, 5)) for h, w in explained))
        finally:
            store.close()
    by_key = dict(results[0])
    assert results[0] == results[1]
    # the copy of "a" is marked down; a zero vector is alike to nothing, even at threshold -1
    assert sorted(k for k, lost in by_key.items() if lost > 0) in (["a"], ["b"])
    assert by_key["z1"] == by_key["z2"] == 0.0
    # pgvector's NaN cosine of a zero vector counts as 0, as on SQLite: a score in [0, 1]
    assert all(0 < w.score <= 1 and w.cosine == 0.0 for h, w in explained if h.key[0] == "z")


@pytest.mark.parametrize(
    "ranking", [Ranking(centering=0.5), Ranking(fusion="learned")], ids=["centering", "learned"]
)
def test_zero_vectors_count_nothing_in_the_crowd_on_both_stores(
    tmp_path: Path, pg_database: str, ranking: Ranking
) -> None:
    """A zero vector among the dense candidates adds 0 to every text's mean cosine with them
    (itself 1), on both stores (pgvector normalises it to zero; its cosines are NaN)."""
    index: Any = {"dims": 64, "embed": _ZeroForBlank(64), "fields": ["content"]}
    texts = {"a": "Ana's flight to Lisbon", "b": "Ana's flight home", "z1": "123", "z2": "456"}
    results = []
    for store in (
        SqliteStore(tmp_path / "zero.sqlite", index=index, ranking=ranking),
        PostgresStore.from_url(pg_database, index=index, ranking=ranking),
    ):
        try:
            for key, text in texts.items():
                store.put(("zero",), key, {"content": text})
            explained = store.explain(("zero",), "flight to Lisbon 123", limit=4)
            results.append(sorted((h.key, _rounded(w)) for h, w in explained))
        finally:
            store.close()
    _assert_close(results[1], results[0])
    assert all(0 < parts["score"] <= 1 for _, parts in results[0])


def test_second_pass_marks_a_copy_down_on_both_stores(tmp_path: Path, pg_database: str) -> None:
    """Redundancy applies after the second pass too (its candidates carry their texts)."""
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["content"]}
    texts = [
        "My sister is Maria, she is a nurse",
        "My sister is Maria, she is a nurse",
        "Maria is moving to Oslo for work",
        "Tea with Tomas on Friday",
    ]
    ranking = Ranking(feedback_docs=2, feedback_terms=4, feedback_fetch=True, redundancy=0.3)
    results = []
    for store in (
        SqliteStore(tmp_path / "copies.sqlite", index=index, ranking=ranking),
        PostgresStore.from_url(pg_database, index=index, ranking=ranking),
    ):
        try:
            for i, text in enumerate(texts):
                store.put(("me",), f"t{i}", {"content": text})
            explained = store.explain(("me",), "Where is my sister moving?", limit=4)
            results.append(
                [
                    (round(w.score, 5), round(w.redundancy, 5), bool(w.expansion))
                    for _, w in explained
                ]
            )
        finally:
            store.close()
    assert results[0] == results[1]
    assert any(lost > 0 for _, lost, _ in results[0]) and all(e for _, _, e in results[0])


def _assert_close(got: Any, expected: Any, where: str = "rows") -> None:
    """``got == expected``, but floats within 2e-5: the stores' cosines differ by about 1e-7
    (float32 sums), so two values rounded to five decimals may fall either side of a
    rounding boundary."""
    if isinstance(expected, float) and isinstance(got, float):
        assert got == pytest.approx(expected, abs=2e-5), where
    elif isinstance(expected, dict) and isinstance(got, dict):
        assert got.keys() == expected.keys(), where
        for key in expected:
            _assert_close(got[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        assert len(got) == len(expected), where
        for i, (a, b) in enumerate(zip(got, expected)):
            _assert_close(a, b, f"{where}[{i}]")
    else:
        assert got == expected, where
