"""Centering, the learned fusion, supersede and restate over arrays (``_fused_options``) give
what the rule gives (``ranking.ranked_items`` with the SQLite store's similarity), to the last bit,
and what a brute-force reading of each rule gives; through the store too.

Candidates are generated with ties at every cut (rounded cosines, copied rows), items of
several texts, zero vectors, texts without a query term, items without a thread or a time.
"""

from __future__ import annotations

import dataclasses
import math
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from langgraph.store.base import Item

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore, _fused, _fused_options, _learned
from langmem.stores import ranking as rules
from langmem.stores._similarity import sqlite_similarity

OPTIONS = [
    rules.Ranking(centering=0.1),
    rules.Ranking(centering=0.6, depth=3, thread_boost=0.0),
    rules.Ranking(fusion="learned"),
    rules.Ranking(fusion="learned", supersede_threshold=0.3, depth=4, recency_weight=0.0),
    rules.Ranking(supersede=0.3),
    rules.Ranking(supersede=0.5, supersede_threshold=0.2, redundancy_depth=6),
    rules.Ranking(fusion="learned", centering=0.2, supersede=0.4, supersede_threshold=0.5),
    rules.Ranking(centering=0.1, supersede=0.3, thread_boost=0.0, recency_weight=0.0),
    rules.Ranking(restate=0.2),
    rules.Ranking(restate=0.2, supersede=0.3),
    rules.Ranking(restate=0.5, restate_threshold=0.1, redundancy_depth=7),
    rules.Ranking(restate=0.3, restate_threshold=0.2, supersede=0.5, supersede_threshold=0.4),
    rules.Ranking(restate=0.2, restate_threshold=0.3, centering=0.2, thread_boost=0.0),
    rules.Ranking(fusion="learned", restate=0.4, restate_threshold=0.25, supersede=0.3),
    rules.Ranking(restate=1.0, restate_threshold=-1.0, recency_weight=0.0),  # every pair: ties
]
RESTATES = [ranking for ranking in OPTIONS if ranking.restate > 0]
WORDS = ["tea", "walk", "river", "lisbon", "lived", "lives", "city", "the", "of", "runs"]


def _matrix(rng: random.Random, rows: int, dims: int = 8) -> np.ndarray:
    """Unit rows, some exact copies of others and some zero (as the store keeps them)."""
    generator = np.random.default_rng(rng.randint(0, 10**6))
    matrix = generator.standard_normal((rows, dims)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    for row in range(rows):
        if rng.random() < 0.2:
            matrix[row] = matrix[rng.randrange(rows)]
        elif rng.random() < 0.05:
            matrix[row] = 0.0
    return matrix


def _case(rng: random.Random) -> tuple[Any, ...]:
    terms = rules.query_terms(" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4))))
    count = rng.randint(0, 50)
    matrix = _matrix(rng, 80)
    rows = np.array([rng.randrange(80) for _ in range(count)], dtype=np.intp)
    items = np.array([rng.randint(0, 30) for _ in range(count)], dtype=np.int64)
    cosines = np.array([round(rng.uniform(-0.3, 1.0), rng.choice([1, 2, 7])) for _ in rows])
    counts = np.array(
        [[rng.choice([0, 0, 1, 2]) for _ in terms] for _ in range(count)], dtype=np.int64
    ).reshape(count, len(terms))
    lengths = np.array([rng.randint(1, 12) for _ in range(count)], dtype=np.int64)
    thread_of = {i: rng.choice([-1, 0, 1]) for i in range(31)}
    time_of = {
        i: rng.choice([np.nan, 1.7e9 + rng.choice([0, 60, rng.uniform(0, 3000)])])
        for i in range(31)
    }
    threads = np.array([thread_of[i] for i in items.tolist()], dtype=np.int32)
    times = np.array([time_of[i] for i in items.tolist()], dtype=np.float64)
    corpus = rules.Corpus(
        rng.randint(60, 500), rng.uniform(0.5, 9.0), {t: rng.randint(0, 70) for t in terms}
    )
    return items, cosines, counts, lengths, threads, times, terms, corpus, rows, matrix


def _candidates(case: tuple[Any, ...]) -> list[rules.Candidate]:
    items, cosines, counts, lengths, threads, times, terms, _, rows, _ = case
    names = ["a", "b"]
    return [
        rules.Candidate(
            item,
            cosine,
            rules.Document({t: n for t, n in zip(terms, held) if n}, length),
            names[thread] if thread >= 0 else None,
            None if math.isnan(when) else when,
            row,
        )
        for item, cosine, held, length, thread, when, row in zip(
            items.tolist(),
            cosines.tolist(),
            counts.tolist(),
            lengths.tolist(),
            threads.tolist(),
            times.tolist(),
            rows.tolist(),
        )
    ]


def _as_the_rule(case: tuple[Any, ...], ranking: rules.Ranking, number: int) -> Any:
    """``_fused.ranked`` of the case, checked to be the rule's items and scores (to the bit)."""
    similarity = sqlite_similarity(SimpleNamespace(matrix=case[9]))  # type: ignore[arg-type]
    expected = rules.ranked_items(
        _candidates(case), case[6], case[7], ranking, similarity=similarity
    )
    got = _fused.ranked(*case[:8], ranking, (case[8], case[9]))
    assert got is not None, number
    assert [item for _, item in got] == [item for _, item in expected], number
    assert [s.hex() for s, _ in got] == [s.hex() for s, _ in expected], number
    return got


def test_options_over_arrays_equal_the_rule_on_generated_candidates() -> None:
    rng = random.Random(3)
    changed = 0  # cases where the option changed the default's ranking (the test can fail)
    for number in range(480):
        case = _case(rng)
        ranking = OPTIONS[number % len(OPTIONS)]
        got = _as_the_rule(case, ranking, number)
        changed += got != _fused.ranked(*case[:8], rules.Ranking())
    assert changed > 300


def test_options_need_the_rows_and_fall_back_without_them() -> None:
    for ranking in OPTIONS:
        assert _fused.covers(ranking, rows=True)
        assert not _fused.covers(ranking)
    assert not _fused.covers(rules.Ranking(fusion="learned", redundancy=0.5), rows=True)
    assert not _fused.covers(rules.Ranking(centering=0.1, fusion="rrf"), rows=True)
    case = _case(random.Random(9))
    while not len(case[0]):
        case = _case(random.Random(len(case[6]) + 10))
    assert _fused.ranked(*case[:8], rules.Ranking(centering=0.1)) is None  # no rows: general
    assert (
        _fused.ranked(
            *[a[:0] if isinstance(a, np.ndarray) else a for a in case[:8]],
            rules.Ranking(fusion="learned"),
            (case[8][:0], case[9]),
        )
        == []
    )


def test_centred_cosines_are_the_cosines_with_the_centred_query() -> None:
    rng = np.random.default_rng(4)
    matrix = rng.standard_normal((40, 6)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    query = rng.standard_normal(6)
    query /= np.linalg.norm(query)
    rows = np.arange(40, dtype=np.intp)
    cosines = (matrix.astype(np.float64) @ query).astype(np.float32).astype(np.float64)
    for share, depth in ((0.1, 10), (0.5, 3), (1.0, 40)):
        ranking = rules.Ranking(centering=share, depth=depth)
        got = _fused_options.centred(cosines, rows, matrix, ranking)
        best = np.argsort(-cosines, kind="stable")[:depth]
        mean = matrix[best].astype(np.float64).mean(axis=0)
        moved = query - share * mean  # brute force: the centred query itself
        expected = matrix.astype(np.float64) @ moved / np.linalg.norm(moved)
        assert np.allclose(got, expected, atol=1e-6)


def test_supersede_marks_down_exactly_the_older_copies_holding_no_extra_word() -> None:
    matrix = np.eye(6, dtype=np.float32)
    matrix[3] = matrix[0]  # row 3 copies row 0; row 4 copies row 1
    matrix[4] = matrix[1]
    matrix[5] = 0.0  # a zero vector supersedes nothing and is superseded by nothing
    rows = np.array([0, 1, 3, 4, 5, 2], dtype=np.intp)
    times = np.array([10.0, 50.0, 20.0, 40.0, 5.0, np.nan])
    held = np.array([[1, 0], [1, 0], [1, 0], [1, 1], [0, 0], [1, 1]], dtype=bool)
    ranking = rules.Ranking(supersede=0.5)
    # brute force: pairs of copies; the older loses unless it holds a word the newer lacks
    older = []
    for a in range(6):
        for b in range(6):
            copies = rows[a] != 5 and rows[b] != 5 and (matrix[rows[a]] == matrix[rows[b]]).all()
            if a != b and copies and times[a] < times[b] and not (held[a] & ~held[b]).any():
                older.append(a)
    assert (
        sorted(set(older))
        == [0]
        == _fused_options.superseded(rows, _fused_options.Pairs(matrix), times, held, ranking)
    )
    assert (
        _fused_options.superseded(
            rows, _fused_options.Pairs(matrix), times, held, rules.Ranking(redundancy_depth=2)
        )
        == []
    )


def test_learned_scores_are_the_logistic_of_the_features_by_hand() -> None:
    rng = random.Random(6)
    ranking = rules.Ranking(fusion="learned")
    for _ in range(40):
        case = _case(rng)
        terms, corpus, rows, matrix = case[6:]
        similarity = sqlite_similarity(SimpleNamespace(matrix=matrix))  # type: ignore[arg-type]
        default = rules.rank(
            _candidates(case), terms, corpus, rules.Ranking(), similarity=similarity
        )
        explained = {
            e.item: e
            for e in rules.rank(_candidates(case), terms, corpus, ranking, similarity=similarity)
        }
        got = dict(
            (item, score) for score, item in _fused.ranked(*case[:8], ranking, (rows, matrix)) or []
        )
        assert set(got) == set(explained)
        for entry in default:
            parts = explained[entry.item].learned
            z = _learned.WEIGHTS["intercept"] + sum(parts.values())
            assert got[entry.item] == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-12)
            assert parts["dense"] == pytest.approx(_learned.WEIGHTS["dense"] * entry.dense)
            assert parts["lexical"] == pytest.approx(_learned.WEIGHTS["lexical"] * entry.lexical)


class _SomeZero(Embeddings):
    """Hashing vectors, but a zero vector for texts holding "void"."""

    def __init__(self) -> None:
        self.inner = HashingEmbeddings(16)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [
            [0.0] * 16 if "void" in t else v
            for t, v in zip(texts, self.inner.embed_documents(texts))
        ]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def _store_items(rng: random.Random, ascii_only: bool) -> list[Item]:
    words = WORDS + ["void"] + ([] if ascii_only else ["café", "zoë", "crème"])
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    out = []
    for i in range(400):
        when = start + timedelta(seconds=rng.choice([0, 60, rng.randint(0, 50_000)]))
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
        value: dict[str, Any] = {"text": text, "kind": "x" if i % 2 else "y"}
        if i % 3:
            value["thread_id"] = f"t{rng.randint(0, 4)}"
        if i % 4 == 0:
            value["note"] = " ".join(rng.choice(words) for _ in range(3))
        if i % 7 == 0:
            value["text"] = "tea walk river"  # many copies: supersede and ties
        out.append(
            Item(
                value=value,
                key=f"k{i}",
                namespace=("u", f"n{i % 3}"),
                created_at=when,
                updated_at=when,
            )
        )
    return out


@pytest.mark.parametrize("ascii_only", [True, False])
def test_store_searches_with_options_equal_the_general_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ascii_only: bool
) -> None:
    rng = random.Random(7)
    index: Any = {"dims": 16, "embed": _SomeZero(), "fields": ["text", "note"]}
    fast_path = _fused.ranked
    answered: list[bool] = []  # whether each call of the array path gave the results

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = fast_path(*args, **kwargs)
        answered.append(found is not None)
        return found

    monkeypatch.setattr(_fused, "ranked", counted)
    with SqliteStore(tmp_path / "s.sqlite", index=index) as store:
        assert store.search(("u",), query="tea") == []  # an empty store
        store.restore(_store_items(rng, ascii_only))
        compared = 0
        for ranking in [*OPTIONS, rules.Ranking(fusion="learned", supersede_threshold=-1.0)]:
            store.ranking = ranking
            for query in [
                "tea",
                "tea walk river",
                "café lived",
                "void",
                "the of",
                "zzz",
                "Lisbon runs",
            ]:
                for prefix, flt, limit, offset in (
                    ((), None, 10, 0),
                    (("u",), {"kind": "x"}, 5, 2),
                    (("u", "n1"), None, 30, 0),
                ):
                    mine = store.search(prefix, query=query, filter=flt, limit=limit, offset=offset)
                    with monkeypatch.context() as patch:
                        patch.setattr(_fused, "covers", lambda ranking, rows=False: False)
                        theirs = store.search(
                            prefix, query=query, filter=flt, limit=limit, offset=offset
                        )
                    assert [(h.key, h.score) for h in mine] == [(h.key, h.score) for h in theirs]
                    compared += bool(mine)
        assert compared > 100
        assert sum(answered) > 100  # the array path ran and answered (it may decline some)


def _best_rows(case: tuple[Any, ...], explained: list[rules.Explanation]) -> list[int] | None:
    """The matrix row of each explained item's best text: its text with that cosine and those
    query terms (``None`` when two such texts of an item have different rows)."""
    items, cosines, counts, _, _, _, terms, _, rows, _ = case
    out = []
    for entry in explained:
        found = {
            row
            for item, cosine, held, row in zip(
                items.tolist(), cosines.tolist(), counts.tolist(), rows.tolist()
            )
            if item == entry.item
            and cosine == entry.cosine
            and {t for t, n in zip(terms, held) if n} == set(entry.matched)
        }
        if len(found) != 1:
            return None
        out.append(found.pop())
    return out


def _restated_by_hand(
    case: tuple[Any, ...], ranking: rules.Ranking
) -> list[tuple[float, Any]] | None:
    """Brute force: the ranking without restate, then every ordered pair of the best
    ``redundancy_depth`` compared in double precision; ``None`` when a pair's cosine is too
    near the threshold for single and double precision to agree, or a best text is not
    known."""
    times, terms, corpus, matrix = case[5], case[6], case[7], case[9]
    similarity = sqlite_similarity(SimpleNamespace(matrix=matrix))  # type: ignore[arg-type]
    before = dataclasses.replace(ranking, restate=0.0)
    explained = rules.rank(_candidates(case), terms, corpus, before, similarity=similarity)
    head = explained[: ranking.redundancy_depth]
    rows = _best_rows(case, head)
    if rows is None:
        return None
    when = {item: t for item, t in zip(case[0].tolist(), times.tolist())}
    vectors = matrix[rows].astype(np.float64)
    older = set()
    for a, first in enumerate(head):
        for b, second in enumerate(head):
            one, two = when[first.item], when[second.item]
            if a == b or math.isnan(one) or math.isnan(two) or not one < two:
                continue
            if not vectors[a].any() or not vectors[b].any():
                continue  # a zero vector is alike to nothing
            cosine = float(vectors[a] @ vectors[b])
            if abs(cosine - ranking.restate_threshold) < 1e-5:
                return None
            words = set(first.matched)
            if cosine >= ranking.restate_threshold and words and words <= set(second.matched):
                older.add(first.item)
    share = ranking.restate
    out = [
        (e.score - share * e.score if e.item in older else e.score, e.cosine, e.item)
        for e in explained
    ]
    out.sort(key=lambda entry: (entry[0], entry[1]), reverse=True)
    return [(score, item) for score, _, item in out]


def test_restate_over_arrays_equals_the_rule_and_a_brute_force_reading() -> None:
    rng = random.Random(17)
    fired = checked = 0
    for number in range(480):
        case = _case(rng)
        ranking = RESTATES[number % len(RESTATES)]
        got = _as_the_rule(case, ranking, number)
        without = dataclasses.replace(ranking, restate=0.0)
        fired += got != _fused.ranked(*case[:8], without, (case[8], case[9]))
        by_hand = _restated_by_hand(case, ranking)
        if by_hand is not None:
            checked += 1
            assert [item for _, item in got] == [item for _, item in by_hand], number
            assert [s.hex() for s, _ in got] == [s.hex() for s, _ in by_hand], number
    assert fired > 150 and checked > 400, (fired, checked)


def test_restate_marks_down_exactly_the_older_tellings_the_rule_names() -> None:
    matrix = np.zeros((7, 4), dtype=np.float32)
    matrix[0] = [1.0, 0.0, 0.0, 0.0]
    matrix[1] = [0.8, 0.6, 0.0, 0.0]  # cosine 0.8 with row 0
    matrix[2] = [0.0, 0.0, 1.0, 0.0]
    matrix[3] = [0.0, 0.0, 0.6, 0.8]  # cosine 0.6 with row 2: at the threshold
    matrix[4] = [0.0, 0.0, 0.0, 1.0]  # cosine 0.8 with row 3
    matrix[6] = [1.0, 0.0, 0.0, 0.0]  # a copy of row 0; row 5 stays zero
    ranking = rules.Ranking(restate=0.2, restate_threshold=0.6)

    def restated(rows: list[int], times: list[float], held: list[list[int]]) -> list[int]:
        return _fused_options.restated(
            np.array(rows, dtype=np.intp),
            _fused_options.Pairs(matrix),
            np.array(times, dtype=np.float64),
            np.array(held, dtype=bool).reshape(len(rows), 2),
            ranking,
        )

    # the older of an alike pair loses when the newer holds its query words
    assert restated([0, 1], [10.0, 20.0], [[1, 0], [1, 1]]) == [0]
    assert restated([1, 0], [10.0, 20.0], [[1, 0], [1, 0]]) == [0]  # older at position 0
    assert restated([0, 1], [20.0, 10.0], [[1, 0], [1, 0]]) == [1]
    assert restated([2, 3], [1.0, 2.0], [[0, 1], [0, 1]]) == [0]  # at the threshold: alike
    assert restated([0, 1], [10.0, 20.0], [[1, 1], [1, 0]]) == []  # the newer lacks a word
    assert restated([0, 1], [10.0, 20.0], [[0, 0], [1, 0]]) == []  # the older holds none
    assert restated([0, 1], [10.0, 10.0], [[1, 0], [1, 0]]) == []  # same time
    assert restated([0, 1], [np.nan, 20.0], [[1, 0], [1, 0]]) == []  # no time
    assert restated([0, 2], [10.0, 20.0], [[1, 0], [1, 0]]) == []  # not alike
    assert restated([5, 0], [10.0, 20.0], [[1, 0], [1, 0]]) == []  # a zero vector
    assert restated([0, 6], [10.0, 20.0], [[1, 0], [1, 0]]) == [0]  # copies restate too
    # a chain: each older one loses once, however many newer tellings
    assert restated([2, 3, 4, 0], [1.0, 2.0, 3.0, 0.5], [[0, 1]] * 4) == [0, 1]
    assert restated([2, 3, 4, 1, 0], [1.0, 2.0, 3.0, 5.0, 4.0], [[1, 1]] * 5) == [0, 1, 4]
    for depth, expected in ((2, []), (3, [0])):  # only the best ``redundancy_depth`` compared
        assert (
            _fused_options.restated(
                np.array([2, 0, 3], dtype=np.intp),
                _fused_options.Pairs(matrix),
                np.array([1.0, 2.0, 3.0]),
                np.ones((3, 1), dtype=bool),
                dataclasses.replace(ranking, redundancy_depth=depth),
            )
            == expected
        )


def test_store_restate_fires_and_equals_the_general_path(tmp_path: Path) -> None:
    rng = random.Random(8)
    index: Any = {"dims": 16, "embed": _SomeZero(), "fields": ["text", "note"]}
    with SqliteStore(tmp_path / "s.sqlite", index=index) as store:
        store.restore(_store_items(rng, ascii_only=False))
        store.ranking = rules.Ranking(restate=0.3, restate_threshold=0.3, supersede=0.3)
        fired = 0
        for query in ["tea", "café walk", "river lived", "crème the", "Lisbon runs"]:
            explained = store.explain(("u",), query, limit=20)
            fired += sum(why.restated > 0 for _, why in explained)
            found = store.search(("u",), query=query, limit=20)
            assert [(h.key, h.score) for h in found] == [(i.key, i.score) for i, _ in explained]
        assert fired >= 5
