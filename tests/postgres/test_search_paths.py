"""The PostgreSQL store's search paths give the same results: exact scans through the covering
index (and the small index of rows with long identities), exact scans of the table (vectors too
large for the covering index), and iterative HNSW scans with the namespace filtered after the
word lookup (large namespaces)."""

from __future__ import annotations

from typing import Any

import pytest

from langmem.stores import PostgresStore
from langmem.stores._pg_schema import COVER_INDEX, cover_limit
from langmem.testing import HashingEmbeddings

TOPICS = ["flight", "tea", "chess", "nurse", "river", "garden", "piano", "bicycle"]


def _store(url: str, dims: int, **options: Any) -> PostgresStore:
    index = {"dims": dims, "embed": HashingEmbeddings(dims), "fields": ["content"]}
    return PostgresStore.from_url(url, index=index, **options)  # type: ignore[arg-type]


def _fill(store: PostgresStore, keys: dict[int, str] | None = None) -> None:
    for i in range(48):
        topic = TOPICS[i % len(TOPICS)]
        key = (keys or {}).get(i, f"n{i:02d}")
        text = f"Note {i}: Alice talked about the {topic} in city {i % 5}"
        store.put(("notes", "alice", "work" if i % 3 else "home"), key, {"content": text})
    store.put(("other",), "x", {"content": "Bob talked about the piano in city 2"})


QUERIES = ["piano in city 2", "Alice flight", "garden river nurse", "chess"]


def _results(store: PostgresStore, prefix: tuple[str, ...]) -> list[list[Any]]:
    """Each query's hits as (score, key), the order of equal scores left out (the ranking
    leaves exact ties to the backend's order), and the keys at the lowest score shown (a hit
    past the limit may share it)."""
    out = []
    for query in QUERIES:
        hits = [
            (round(h.score or 0.0, 5), h.key) for h in store.search(prefix, query=query, limit=6)
        ]
        lowest = min((score for score, _ in hits), default=0.0)
        out.append(sorted((score, key if score > lowest else "") for score, key in hits))
    return out


def test_exact_and_hnsw_paths_agree(pg_database: str) -> None:
    exact = _store(pg_database, 64)
    # exact_max=0: every namespace counts as large (HNSW, words looked up store-wide first)
    approximate = _store(pg_database, 64, exact_max=0, ef_search=400)
    try:
        _fill(exact)
        for prefix in [("notes",), ("notes", "alice", "home"), ()]:
            found = _results(exact, prefix)
            assert all(len(hits) == 6 for hits in found), prefix
            assert found == _results(approximate, prefix), prefix
        assert "x" not in {k for hits in _results(exact, ("notes",)) for _, k in hits}
    finally:
        exact.close()
        approximate.close()


def test_rows_too_long_for_the_covering_index_are_searched_too(pg_database: str) -> None:
    dims = 384
    limit = cover_limit(dims)
    fixed = len("notes.alice.work") + len("content")  # namespace and field of key 1
    keys = {1: "k" * (limit - fixed), 2: "l" * (limit - fixed + 1), 4: "m" * 2000}
    # cosine only: a text found by its words would hide a row the vector scan missed
    store = _store(pg_database, dims, hybrid=False)
    short = _store(pg_database, dims, hybrid=False, exact_max=0, ef_search=400)
    try:
        _fill(store, keys)  # the entry of exactly the limit fits; longer ones go elsewhere
        with store._transaction() as cur:
            assert store.cover(cur) == limit
            size = "octet_length(prefix) + octet_length(key) + octet_length(field_name)"
            cur.execute(f"SELECT max({size}) AS n FROM store_vectors WHERE {size} <= {limit}")
            assert cur.fetchone()["n"] == limit
        for i, key in keys.items():
            text = f"Note {i}: Alice talked about the {TOPICS[i % len(TOPICS)]} in city {i % 5}"
            assert store.search(("notes",), query=text, limit=1)[0].key == key, i
        assert _results(store, ("notes",)) == _results(short, ("notes",))
    finally:
        store.close()
        short.close()


def test_large_vectors_are_searched_without_a_covering_index(pg_database: str) -> None:
    assert cover_limit(1536) == 0
    store = _store(pg_database, 1536)
    try:
        _fill(store)
        with store._transaction() as cur:
            assert store.cover(cur) == 0
            cur.execute("SELECT to_regclass(%s) IS NULL AS missing", (COVER_INDEX,))
            assert cur.fetchone()["missing"]
        hits = store.search(("notes",), query="piano in city 2", limit=3)
        assert hits and "piano" in hits[0].value["content"]
    finally:
        store.close()


def test_word_index_has_no_pending_list(pg_database: str) -> None:
    store = _store(pg_database, 64)
    try:
        with store._transaction() as cur:
            cur.execute(
                "SELECT reloptions FROM pg_class WHERE relname = 'store_vectors_lm_words_idx'"
            )
            assert cur.fetchone()["reloptions"] == ["fastupdate=off"]
    finally:
        store.close()


def test_texts_without_a_query_term_skip_analysis_with_the_same_bm25() -> None:
    """Only a candidate's words whose stem is a query term are analyzed (none in most texts):
    its BM25 and matched terms must be what the full analysis gives."""
    import random

    from langmem.stores import _pg_candidates
    from langmem.stores import ranking as rules

    words = ["living", "lives", "olive", "Zoë", "naïve", "w1", "w12", "cafés", "x_y", "2019"]
    words += ["LH-1234", "Straße", "İstanbul", "ﬁle", "Café", "re-live", "_under", "city"]
    words += ["cities", "citys", "glass", "glasses", "the", "a", "I", "lively", "livingly"]
    rng = random.Random(7)
    skipped = 0
    for _ in range(2000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 7)))
        terms = rules.query_terms(" ".join(rng.choice(words) for _ in range(2)))
        quick = _pg_candidates.query_document(
            text, _pg_candidates.term_words(terms), rules.length(text)
        )
        full = rules.document(text)
        skipped += quick is not full and not quick.terms
        weights = {t: 1.0 for t in terms}
        assert rules.bm25(quick, weights, 4.0, rules.Ranking()) == rules.bm25(
            full, weights, 4.0, rules.Ranking()
        ), (text, terms)
        assert quick is _pg_candidates.NOTHING or quick.length == full.length
    assert skipped > 100  # the shortcut was taken


def test_own_writes_update_word_counts_at_once(pg_database: str) -> None:
    """After this handle adds, replaces and deletes texts, its next search scores with the new
    counts (as a fresh handle, which counts everything anew, does)."""
    store = _store(pg_database, 64)
    try:
        _fill(store)

        def scores(handle: PostgresStore) -> list[Any]:
            return [
                (h.key, round(w.bm25, 6), round(w.score, 6))
                for q in ["piano garden", "violin city", "Alice chess"]
                for h, w in handle.explain(("notes",), q, limit=8)
            ]

        scores(store)  # counts cached
        store.put(("notes", "alice", "home"), "v1", {"content": "violin and piano in the garden"})
        store.put(("notes", "alice", "home"), "n03", {"content": "violin lessons, no more chess"})
        store.delete(("notes", "alice", "work"), "n05")
        store.put(("notes", "alice", "work"), "n07", {"content": "unindexed"}, index=False)
        fresh = _store(pg_database, 64)
        try:
            assert scores(store) == scores(fresh)
            assert any(key == "v1" for key, _, _ in scores(store))
        finally:
            fresh.close()
    finally:
        store.close()


def test_results_are_the_same_without_pipeline_mode(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a libpq too old for pipeline mode, statements go one at a time: same results."""
    from langmem.stores import _pg_connect

    store = _store(pg_database, 64)
    small = _store(pg_database, 64, exact_max=0, ef_search=400)
    try:
        _fill(store)
        piped = [_results(s, ("notes",)) for s in (store, small)]
        monkeypatch.setattr(_pg_connect, "pipelines", lambda: False)
        assert [_results(s, ("notes",)) for s in (store, small)] == piped
    finally:
        store.close()
        small.close()


def test_query_words_are_found_as_whole_words() -> None:
    """The regex that finds a candidate's query words finds exactly the words
    ``ranking.tokens`` splits the text into that are query words (boundaries at ``_``, digits,
    accents, non-ASCII letters)."""
    from langmem.stores import _pg_candidates
    from langmem.stores import ranking as rules

    words = _pg_candidates.term_words(rules.query_terms("w12 lives café straße 2019"))
    texts = [
        "w12 w123 xw12 w12x w12_w12 _w12_ w12.w12,w12",
        "Lives LIVING re-lived olives livesx 2019a a2019 2019",
        "Café cafés écafé café_ caféx straße STRASSE strasse",
        "i̇stanbul w12é éw12 w12 ﬁle w12",
    ]
    found = []
    for text in texts:
        folded = rules.fold(text)
        found.append(_pg_candidates.finder(words, folded.isascii()).findall(folded))
        assert found[-1] == [w for w in rules.tokens(text) if w in words], text
    assert found[0] == ["w12"] * 7  # counted by hand: "_" and "." separate words
