"""The optional re-ranking stage (``Ranking(rerank=...)``) on the embedded store: which results a
re-ranker sees, the order and scores it gives, paging, filters, explain, sync/async parity, and
every malformed answer refused (or, with ``rerank_fallback``, the store's own order kept)."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from langgraph.store.base import PutOp, SearchOp

from langmem.errors import LangMemError, RerankerError, RerankerWarning
from langmem.stores import Reranker, SqliteStore, _rerank
from langmem.stores.ranking import Ranking
from langmem.testing import HashingEmbeddings

NS = ("notes", "alice")
TEXTS = [
    "alice drinks green tea every morning",
    "alice switched from coffee to tea last month",
    "tea shops in porto open at nine",
    "alice plays chess with bea on tuesdays",
    "bea prefers coffee with milk",
    "alice's flight to lisbon lands at seven",
    "green tea is her favourite drink",
    "the river in porto is wide",
]
QUERY = "what tea does alice drink"


class Scripted:
    """A re-ranker that records what it is asked and answers with ``answer(texts)``."""

    def __init__(self, answer: Callable[[list[str]], Any] | None = None) -> None:
        self.answer = answer or (lambda texts: [float(len(t)) for t in texts])  # longest first
        self.calls: list[tuple[str, list[str]]] = []

    def rerank(self, query: str, texts: Sequence[str]) -> Any:
        self.calls.append((query, list(texts)))
        return self.answer(list(texts))


class AsyncScripted(Scripted):
    """Scripted, with an ``arerank`` that async searches use (recorded apart)."""

    def __init__(self, answer: Callable[[list[str]], Any] | None = None) -> None:
        super().__init__(answer)
        self.async_calls: list[tuple[str, list[str]]] = []

    async def arerank(self, query: str, texts: Sequence[str]) -> Any:
        self.async_calls.append((query, list(texts)))
        return self.answer(list(texts))


def _store(ranking: Ranking | None = None, texts: Sequence[str] = TEXTS) -> SqliteStore:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}
    store = SqliteStore(":memory:", index=index, ranking=ranking)
    for i, text in enumerate(texts):
        store.put(NS if i % 4 else ("notes", "bob"), f"k{i}", {"text": text, "n": i})
    return store


def _keys(hits: Sequence[Any]) -> list[str]:
    return [hit.key for hit in hits]


def _fused(store: SqliteStore, limit: int = 10, **kwargs: Any) -> list[Any]:
    """The store's own order and scores (its ranking without the re-ranker)."""
    kept = store.ranking
    store.ranking = dataclasses.replace(kept, rerank=None)
    try:
        return store.search(("notes",), query=QUERY, limit=limit, **kwargs)
    finally:
        store.ranking = kept


def test_the_best_results_are_ordered_by_the_reranker_with_the_store_scores_of_their_places() -> (
    None
):
    reranker = Scripted()
    store = _store(Ranking(rerank=reranker, rerank_depth=5))
    fused = _fused(store)
    hits = store.search(("notes",), query=QUERY, limit=10)
    assert reranker.calls == [(QUERY, [hit.value["text"] for hit in fused[:5]])]
    head = sorted(fused[:5], key=lambda h: -len(h.value["text"]))
    assert _keys(hits[:5]) == _keys(head)
    assert _keys(hits[5:]) == _keys(fused[5:])  # past the depth: the store's order, own scores
    assert [h.score for h in hits] == [h.score for h in fused]  # places keep their scores
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)


def test_the_reranker_is_asked_once_per_search_whatever_the_page() -> None:
    reranker = Scripted()
    store = _store(Ranking(rerank=reranker, rerank_depth=6))
    whole = store.search(("notes",), query=QUERY, limit=6)
    pages = [store.search(("notes",), query=QUERY, limit=2, offset=at) for at in (0, 2, 4)]
    assert [_keys(p) for p in pages] == [_keys(whole[at : at + 2]) for at in (0, 2, 4)]
    assert [h.score for p in pages for h in p] == [h.score for h in whole]
    assert len(reranker.calls) == 4 and all(call == reranker.calls[0] for call in reranker.calls)


def test_pages_past_the_depth_follow_in_the_store_order() -> None:
    reranker = Scripted(lambda texts: [-len(t) for t in texts])  # shortest first
    store = _store(Ranking(rerank=reranker, rerank_depth=3))
    whole = store.search(("notes",), query=QUERY, limit=8)
    pages = [store.search(("notes",), query=QUERY, limit=3, offset=at) for at in (0, 3, 6)]
    assert [k for p in pages for k in _keys(p)] == _keys(whole)
    assert _keys(whole[3:]) == _keys(_fused(store, limit=8)[3:])
    assert all(len(texts) == 3 for _, texts in reranker.calls)


def test_only_results_within_the_namespace_and_filter_are_given_to_the_reranker() -> None:
    reranker = Scripted()
    store = _store(Ranking(rerank=reranker, rerank_depth=20))
    hits = store.search(NS, query=QUERY, filter={"n": {"$gt": 2}}, limit=10)
    (call,) = reranker.calls
    allowed = {t for i, t in enumerate(TEXTS) if i % 4 and i > 2}
    assert set(call[1]) == allowed and len(call[1]) == len(allowed)
    assert {h.value["text"] for h in hits} == allowed
    assert all(h.namespace == NS for h in hits)


def test_fewer_results_than_the_depth_are_all_reranked() -> None:
    reranker = Scripted()
    store = _store(Ranking(rerank=reranker, rerank_depth=50), texts=TEXTS[:3])
    hits = store.search(("notes",), query=QUERY)
    assert len(reranker.calls[0][1]) == 3
    assert _keys(hits) == _keys(sorted(hits, key=lambda h: -len(h.value["text"])))


def test_no_reranker_call_without_a_result_a_query_or_an_index() -> None:
    reranker = Scripted()
    empty = _store(Ranking(rerank=reranker), texts=[])
    assert empty.search(("notes",), query=QUERY) == []
    store = _store(Ranking(rerank=reranker))
    assert len(store.search(("notes",))) == len(TEXTS)  # a listing: nothing to re-rank
    assert store.search(("nobody",), query=QUERY) == []
    assert store.search(("notes",), query=QUERY, limit=0) == []
    plain = SqliteStore(":memory:", ranking=Ranking(rerank=reranker))  # no index: no ranking
    plain.put(NS, "x", {"text": "tea"})
    assert _keys(plain.search(NS, query="tea")) == ["x"]
    assert reranker.calls == []


def test_ties_keep_the_store_order() -> None:
    store = _store(Ranking(rerank=Scripted(lambda texts: [1.0] * len(texts)), rerank_depth=5))
    hits = store.search(("notes",), query=QUERY)
    assert _keys(hits) == _keys(_fused(store))
    assert [h.score for h in hits] == [h.score for h in _fused(store)]


def test_the_weight_mixes_normalised_scores_and_zero_keeps_the_store_order() -> None:
    answer: Callable[[list[str]], Any] = lambda texts: [float(len(t)) for t in texts]  # noqa: E731
    store = _store(Ranking(rerank=Scripted(answer), rerank_depth=6, rerank_weight=0.0))
    fused = _fused(store)
    assert _keys(store.search(("notes",), query=QUERY)) == _keys(fused)
    store.ranking = Ranking(rerank=Scripted(answer), rerank_depth=6, rerank_weight=0.4)
    head = fused[:6]
    given = [float(len(h.value["text"])) for h in head]
    own = [float(h.score) for h in head]

    def unit(values: list[float]) -> list[float]:
        return [(v - min(values)) / (max(values) - min(values)) for v in values]

    mix = [0.4 * r + 0.6 * f for r, f in zip(unit(given), unit(own))]
    expected = [head[i].key for i in sorted(range(6), key=lambda i: (-mix[i], i))]
    assert _keys(store.search(("notes",), query=QUERY)[:6]) == expected


def test_a_plain_function_and_a_numpy_answer_work() -> None:
    seen: list[int] = []

    def by_length(query: str, texts: Sequence[str]) -> Any:
        seen.append(len(texts))
        return np.array([len(t) for t in texts], dtype=np.float32)

    store = _store(Ranking(rerank=by_length, rerank_depth=4))
    hits = store.search(("notes",), query=QUERY)
    assert seen == [4]
    lengths = [len(h.value["text"]) for h in hits[:4]]
    assert lengths == sorted(lengths, reverse=True)


def test_async_searches_use_arerank_and_match_the_sync_ones() -> None:
    reranker = AsyncScripted(lambda texts: [-len(t) for t in texts])
    store = _store(Ranking(rerank=reranker, rerank_depth=5))
    sync = store.search(("notes",), query=QUERY, limit=4, offset=1)
    assert len(reranker.calls) == 1 and reranker.async_calls == []
    async_hits = asyncio.run(store.asearch(("notes",), query=QUERY, limit=4, offset=1))
    assert reranker.async_calls == reranker.calls
    assert [(h.key, h.score) for h in async_hits] == [(h.key, h.score) for h in sync]
    explained = store.explain(("notes",), QUERY, limit=4, offset=1)
    async_explained = asyncio.run(store.aexplain(("notes",), QUERY, limit=4, offset=1))
    assert explained == async_explained
    assert [hit.key for hit, _ in explained] == _keys(sync)


def test_a_sync_reranker_runs_off_the_event_loop_in_async_searches() -> None:
    threads: list[int] = []

    def record(query: str, texts: Sequence[str]) -> list[float]:
        threads.append(threading.get_ident())
        return [0.0] * len(texts)

    store = _store(Ranking(rerank=record))

    async def main() -> int:
        await store.asearch(("notes",), query=QUERY)
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert threads and threads[0] != loop_thread


def test_an_async_function_serves_async_searches_and_is_refused_by_sync_ones() -> None:
    async def shortest(query: str, texts: Sequence[str]) -> list[float]:
        return [-len(t) for t in texts]

    store = _store(Ranking(rerank=shortest, rerank_depth=4))
    hits = asyncio.run(store.asearch(("notes",), query=QUERY))
    lengths = [len(h.value["text"]) for h in hits[:4]]
    assert lengths == sorted(lengths)
    with pytest.raises(RerankerError, match=r"returned an awaitable .*asearch"):
        store.search(("notes",), query=QUERY)


def test_explain_shows_the_reranker_score_and_the_place_before() -> None:
    reranker = Scripted()
    store = _store(Ranking(rerank=reranker, rerank_depth=4))
    fused = _fused(store, limit=6)
    explained = store.explain(("notes",), QUERY, limit=6)
    hits = store.search(("notes",), query=QUERY, limit=6)
    assert [(hit.key, hit.score) for hit, _ in explained] == [(h.key, h.score) for h in hits]
    place = {h.key: at + 1 for at, h in enumerate(fused)}
    own = {h.key: h.score for h in fused}
    for at, (hit, why) in enumerate(explained):
        assert why.fused_rank == place[hit.key]
        assert why.fused_score == pytest.approx(own[hit.key])
        assert why.score == hit.score
        expected = float(len(hit.value["text"])) if at < 4 else None
        assert why.reranked == expected
    plain = dataclasses.replace(store.ranking, rerank=None)
    store.ranking = plain
    assert all(
        why.reranked is None and why.fused_rank is None
        for _, why in store.explain(("notes",), QUERY)
    )


MALFORMED: list[tuple[str, Callable[[list[str]], Any], str]] = [
    ("too few", lambda texts: [1.0] * (len(texts) - 1), "scores for"),
    ("too many", lambda texts: [1.0] * (len(texts) + 2), "exactly one score per text"),
    ("nan", lambda texts: [float("nan")] + [1.0] * (len(texts) - 1), "nan as the score of text 0"),
    ("inf", lambda texts: [1.0] + [float("inf")] * (len(texts) - 1), "inf as the score of text 1"),
    ("text", lambda texts: ["0.9"] * len(texts), "'0.9' (a str) as the score of text 0"),
    ("bool", lambda texts: [True] * len(texts), "True (a bool)"),
    ("none", lambda texts: None, "None; the rule: a sequence of numbers"),
    ("dict", lambda texts: {t: 1.0 for t in texts}, "the rule: a sequence of numbers"),
    ("generator", lambda texts: (1.0 for _ in texts), "a generator"),
    ("2-d", lambda texts: np.ones((len(texts), 1)), "an array of shape"),
    ("string", lambda texts: "1,2,3", "'1,2,3'; the rule: a sequence of numbers"),
]


@pytest.mark.parametrize(("case", "answer", "named"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_answer_is_refused_by_name_and_nothing_is_written(
    case: str, answer: Callable[[list[str]], Any], named: str
) -> None:
    store = _store(Ranking(rerank=Scripted(answer), rerank_depth=5))
    before = [(h.key, h.value) for h in store.search(("notes",), limit=100)]
    ops = [PutOp(NS, "new", {"text": "tea"}), SearchOp(("notes",), None, 10, 0, QUERY)]
    with pytest.raises(RerankerError) as caught:
        store.batch(ops)
    message = str(caught.value)
    assert named in message
    assert "re-ranker Scripted returned" in message and "Fix: " in message
    assert "rerank_fallback=True" in message
    assert isinstance(caught.value, LangMemError)
    assert [(h.key, h.value) for h in store.search(("notes",), limit=100)] == before
    with pytest.raises(RerankerError):
        asyncio.run(store.abatch(ops))
    assert store.get(NS, "new") is None


def test_a_raising_reranker_is_named_with_its_error_chained() -> None:
    def broken(query: str, texts: Sequence[str]) -> list[float]:
        raise TimeoutError("the rerank API timed out")

    store = _store(Ranking(rerank=broken))
    with pytest.raises(RerankerError) as caught:
        store.search(("notes",), query=QUERY)
    assert "re-ranker test_a_raising_reranker_is_named_with_its_error_chained.<locals>.broken" in (
        str(caught.value)
    )
    assert "raised TimeoutError: the rerank API timed out" in str(caught.value)
    assert isinstance(caught.value.__cause__, TimeoutError)
    assert caught.value.query == QUERY and caught.value.reranker is broken


@pytest.mark.parametrize("case", ["raises", "nan"])
def test_with_fallback_a_failing_reranker_warns_and_the_store_order_is_kept(case: str) -> None:
    def failing(query: str, texts: Sequence[str]) -> list[float]:
        if case == "raises":
            raise RuntimeError("model not loaded")
        return [float("nan")] * len(texts)

    store = _store(Ranking(rerank=failing, rerank_fallback=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hits = store.search(("notes",), query=QUERY)
        explained = store.explain(("notes",), QUERY)
    assert [(h.key, h.score) for h in hits] == [(h.key, h.score) for h in _fused(store)]
    assert all(why.reranked is None for _, why in explained)
    assert [w.category for w in caught] == [RerankerWarning, RerankerWarning]
    assert "Kept the store's own order" in str(caught[0].message)


def test_a_batch_with_writes_reranks_before_writing_and_reads_the_state_before() -> None:
    reranker = Scripted()
    store = _store(Ranking(rerank=reranker, rerank_depth=3))
    ops = [
        SearchOp(("notes",), None, 2, 0, QUERY),
        PutOp(NS, "k1", None),
        PutOp(NS, "fresh", {"text": "alice drinks tea"}),
        SearchOp(("notes",), None, 10, 0, None),
    ]
    found, _, _, listed = store.batch(ops)
    assert len(found) == 2 and len(reranker.calls) == 1
    assert "fresh" not in _keys(found) and "alice drinks tea" not in reranker.calls[0][1]
    assert "k1" in _keys(listed) and "fresh" not in _keys(listed)  # reads: the state before
    assert store.get(NS, "fresh") is not None and store.get(NS, "k1") is None


def test_a_search_with_ttl_refreshes_the_results_the_reranker_read() -> None:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}
    ttl: Any = {"default_ttl": 10.0, "refresh_on_read": True}
    reranker = Scripted()
    ranking = Ranking(rerank=reranker, rerank_depth=3)
    store = SqliteStore(":memory:", index=index, ttl=ttl, ranking=ranking)
    for i, text in enumerate(TEXTS):
        store.put(NS, f"k{i}", {"text": text})
    with store._read() as conn:
        before = dict(conn.execute("SELECT key, expires_at FROM langmem_items").fetchall())
    hits = store.search(NS, query=QUERY, limit=2)
    with store._read() as conn:
        after = dict(conn.execute("SELECT key, expires_at FROM langmem_items").fetchall())
    read = {f"k{i}" for i, text in enumerate(TEXTS) if text in reranker.calls[0][1]}
    assert set(_keys(hits)) < read and len(read) == 3
    assert {k for k in after if after[k] != before[k]} == read


def test_ranking_with_a_reranker_compares_hashes_copies_and_prints() -> None:
    class Long:
        def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
            return [0.0] * len(texts)

        def __repr__(self) -> str:
            return "Long(" + "x" * 200 + ")"

        __hash__ = None  # type: ignore[assignment]

    model = Long()
    ranking = Ranking(rerank=model, rerank_depth=7)
    assert ranking == Ranking(rerank=model, rerank_depth=7)
    assert ranking != Ranking(rerank=Long(), rerank_depth=7)
    assert hash(ranking) == hash(Ranking(rerank=model, rerank_depth=7))  # unhashable model: fine
    assert "rerank=<test_ranking_with_a_reranker_compares" in repr(ranking)
    assert repr(Ranking()).endswith(
        "rerank=None, rerank_depth=20, rerank_weight=1.0, rerank_fallback=False)"
    )
    assert copy.deepcopy(ranking).rerank is model and copy.copy(ranking) == ranking
    assert dataclasses.replace(ranking, depth=10).rerank is model
    assert isinstance(model, Reranker)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rerank_depth": 0}, "Ranking(rerank_depth=0) is out of range: rerank_depth is an int"),
        ({"rerank_depth": 2.5}, "Ranking(rerank_depth=2.5) is out of range"),
        ({"rerank_weight": 1.5}, "Ranking(rerank_weight=1.5) is out of range: rerank_weight goes"),
        ({"rerank_weight": float("nan")}, "(NaN is not a number)"),
        ({"rerank_fallback": "yes"}, "Ranking(rerank_fallback='yes') is out of range"),
        ({"rerank": 42}, "Ranking(rerank=42) is not a re-ranker"),
        ({"rerank": "cohere"}, "Ranking(rerank='cohere') names no built-in re-ranker"),
    ],
)
def test_bad_rerank_parameters_are_named_with_the_fix(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        Ranking(**options)
    assert message in str(caught.value)
    assert "fix: " in str(caught.value)


def test_a_whole_float_depth_is_taken_and_a_registered_name_builds_its_reranker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Ranking(rerank_depth=30.0).rerank_depth == 30
    built = Scripted()
    monkeypatch.setitem(_rerank.BUILT_IN, "scripted", lambda: built)
    assert Ranking(rerank="scripted").rerank is built  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "value", "text"),
    [
        (["text"], {"text": "tea at nine"}, "tea at nine"),
        (["text"], {"text": ["tea", "nine"]}, '["tea", "nine"]'),
        (["a.b"], {"a": {"b": "deep"}}, "deep"),
        (["$"], {"b": 1, "a": "è"}, '{"a": "è", "b": 1}'),
        (["text", "more"], {"text": "t", "more": "m"}, "t\nm"),
    ],
)
def test_the_reranker_reads_each_result_as_the_store_indexed_it(
    fields: list[str], value: dict[str, Any], text: str
) -> None:
    from datetime import datetime, timezone

    from langgraph.store.base import SearchItem

    from langmem.stores import _writes

    now = datetime.now(timezone.utc)
    item = SearchItem(NS, "k", value, now, now)
    paths = _writes.index_paths(fields)
    assert _rerank.item_text(item, paths) == text
    indexed = _writes.texts_of(PutOp(NS, "k", value), paths)
    assert text == "\n".join(t for _, t in indexed)


def test_an_async_rerank_method_serves_async_searches() -> None:
    class AsyncOnly:
        async def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
            return [-float(len(t)) for t in texts]

    store = _store(Ranking(rerank=AsyncOnly(), rerank_depth=4))
    hits = asyncio.run(store.asearch(("notes",), query=QUERY))
    lengths = [len(h.value["text"]) for h in hits[:4]]
    assert lengths == sorted(lengths)
    with pytest.raises(RerankerError, match="AsyncOnly returned an awaitable"):
        store.search(("notes",), query=QUERY)


def test_a_cosine_only_store_reranks_its_cosine_order() -> None:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}
    reranker = Scripted()
    store = SqliteStore(":memory:", index=index, hybrid=False, ranking=Ranking(rerank=reranker))
    for i, text in enumerate(TEXTS):
        store.put(NS, f"k{i}", {"text": text})
    store.ranking = Ranking()
    cosine = store.search(NS, query=QUERY)
    store.ranking = Ranking(rerank=reranker, rerank_depth=3)
    hits = store.search(NS, query=QUERY)
    assert reranker.calls == [(QUERY, [h.value["text"] for h in cosine[:3]])]
    assert _keys(hits[3:]) == _keys(cosine[3:])
    assert [h.score for h in hits] == [h.score for h in cosine]
    assert [why.fused_rank for _, why in store.explain(NS, QUERY)][3:] == list(range(4, 9))


def test_a_reranker_keeps_the_store_on_its_fast_ranking_path() -> None:
    from langmem.stores import _fused

    assert _fused.covers(Ranking(rerank=Scripted(), rerank_depth=7, rerank_weight=0.5), rows=True)
    assert _fused.covers(Ranking(rerank=Scripted(), rerank_fallback=True))


def test_extreme_but_finite_scores_still_order() -> None:
    answer = lambda texts: [1e308 if "green" in t else -1e308 for t in texts]  # noqa: E731
    store = _store(Ranking(rerank=Scripted(answer), rerank_depth=8, rerank_weight=0.5))
    hits = store.search(("notes",), query=QUERY)
    greens = [h for h in hits if "green" in h.value["text"]]
    assert hits[: len(greens)] == greens and len(greens) == 2
