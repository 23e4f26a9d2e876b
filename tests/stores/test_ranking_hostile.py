"""Hostile input to ``Ranking(...)``: every bad value of every parameter is refused with a
:class:`RankingOptionError` (a ``ValueError``) naming the parameter, the value, the rule and
the fix; odd but valid values (fractions, decimals, numpy scalars, ints past any float, the
largest counts and weights) are taken, stored as plain ints and floats, and rank as the same
plain values do."""

from __future__ import annotations

import dataclasses
import math
import warnings
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.errors import ConfigurationError, RankingOptionError
from langmem.stores import SqliteStore
from langmem.stores.ranking import Ranking

DEFAULTS = {f.name: f.default for f in dataclasses.fields(Ranking)}
COUNTS = ("depth", "redundancy_depth", "feedback_docs", "feedback_terms", "rerank_depth")
SWITCHES = ("feedback_fetch", "rerank_fallback")
NUMBERS = [n for n in DEFAULTS if n not in ("fusion", "rerank", *SWITCHES)]
HUGE = 10**400  # past the largest float
NOT_NUMBERS: list[Any] = ["0.5", "1", None, True, False, [0.5], b"1", complex(1, 0), {}]
BAD_FOR_ALL: list[Any] = [*NOT_NUMBERS, math.nan, np.float64("nan"), -math.inf, -1.5]
INFINITE_ALLOWED = ("thread_boost", "thread_window", "recency_half_life")


def _bad_values(name: str) -> list[Any]:
    bad = list(BAD_FOR_ALL)
    if not name.endswith("_threshold"):  # a cosine threshold goes from -1
        bad.append(-1)
    if name not in INFINITE_ALLOWED:
        bad += [math.inf, HUGE]
    if name in COUNTS:
        bad += [2.5, 10**9 + 1, 2**63, 1e308, Fraction(5, 2), 1e-9]
    if name in ("k1", "feedback_weight"):
        bad += [1e6 * 1.0000001, 1e308]
    if name in ("dense_weight", "b", "redundancy", "supersede", "restate", "centering"):
        bad += [1.0000001, -1e-12, Decimal("1.5")]
    return bad


CASES = (
    [(name, value) for name in NUMBERS for value in _bad_values(name)]
    + [
        (name, value)
        for name in SWITCHES
        for value in [1, 0, "true", None, np.bool_(True), math.nan]
    ]
    + [("fusion", value) for value in ["ABSOLUTE", "dense", "", None, 1, ["rrf"]]]
)


@pytest.mark.parametrize(("name", "value"), CASES, ids=[f"{n}={v!r:.20}" for n, v in CASES])
def test_every_bad_value_names_the_parameter_the_value_the_rule_and_the_fix(
    name: str, value: Any
) -> None:
    with pytest.raises(RankingOptionError) as caught:
        Ranking(**{name: value})
    error = caught.value
    assert isinstance(error, ValueError) and isinstance(error, ConfigurationError)
    assert error.field == name and error.value is value
    message = str(error)
    assert message.startswith(f"Ranking({name}=")
    assert f": {name} " in message  # the rule
    assert "fix: pass " in message and f"the default {name}={DEFAULTS[name]!r}" in message
    assert len(message) < 400  # a value of 400 digits is cut short


def test_a_value_past_pythons_int_text_limit_is_still_named() -> None:
    with pytest.raises(RankingOptionError, match=r"Ranking\(depth=<an int of \d+ bits>\)"):
        Ranking(depth=10**5000)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (5, "is not a re-ranker"),
        ([], "is not a re-ranker"),
        ("no-such-reranker", "names no built-in re-ranker"),
        (HashingEmbeddings, "is a class, not a re-ranker"),
    ],
)
def test_a_bad_reranker_is_named(value: Any, fragment: str) -> None:
    with pytest.raises(RankingOptionError) as caught:
        Ranking(rerank=value)
    assert caught.value.field == "rerank" and caught.value.value is value
    assert fragment in str(caught.value) and "fix: pass" in str(caught.value)


class _ByLength:
    def rerank(self, query: str, texts: list[str]) -> list[float]:
        return [float(len(t)) for t in texts]


def test_a_reranker_class_with_an_instance_is_taken() -> None:
    reranker = _ByLength()
    assert Ranking(rerank=reranker).rerank is reranker


@pytest.mark.parametrize(
    ("name", "odd", "plain"),
    [
        ("dense_weight", Fraction(3, 4), 0.75),
        ("k1", Decimal("1.5"), 1.5),
        ("b", np.float32(0.5), 0.5),
        ("centering", np.float64(0.25), 0.25),
        ("thread_boost", HUGE, math.inf),
        ("thread_window", HUGE, math.inf),
        ("recency_half_life", HUGE, math.inf),
        ("recency_weight", 1, 1.0),
        ("depth", np.int64(30), 30),
        ("depth", Fraction(60, 2), 30),
        ("depth", Decimal("30"), 30),
        ("redundancy_depth", 12.0, 12),
        ("feedback_docs", np.uint8(3), 3),
    ],
)
def test_odd_but_valid_numbers_are_stored_plain(name: str, odd: Any, plain: Any) -> None:
    value = getattr(Ranking(**{name: odd}), name)
    assert value == plain and type(value) is type(plain)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("hostile") / "s.sqlite"
    index: Any = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["t"]}
    with SqliteStore(path, index=index) as opened:
        for i in range(40):
            value = {
                "t": f"tea number {i} with lemon {'honey ' * (i % 4)}",
                "thread_id": f"t{i % 3}",
                "created_at": f"2026-01-{1 + i % 28:02d}T00:00:00+00:00",
            }
            opened.put(("u",), str(i), value)
        yield opened


def _search(store: Any, ranking: Ranking) -> list[tuple[str, float]]:
    store.ranking = ranking
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from numpy either
        hits = store.search(("u",), query="lemon honey tea", limit=6)
    return [(h.key, h.score) for h in hits]


@pytest.mark.parametrize(
    ("odd", "plain"),
    [
        ({"k1": Fraction(6, 5), "b": Decimal("0.9")}, {"k1": 1.2, "b": 0.9}),
        ({"dense_weight": np.float32(0.5)}, {"dense_weight": 0.5}),
        ({"thread_window": HUGE}, {"thread_window": math.inf}),
        ({"depth": np.int64(50), "fusion": "learned"}, {"depth": 50, "fusion": "learned"}),
    ],
)
def test_odd_numbers_rank_as_the_plain_ones(
    store: Any, odd: dict[str, Any], plain: dict[str, Any]
) -> None:
    assert _search(store, Ranking(**odd)) == _search(store, Ranking(**plain))


@pytest.mark.parametrize(
    "options",
    [
        {"depth": 10**9, "redundancy_depth": 10**9, "redundancy": 0.5},
        {"feedback_docs": 10**9, "feedback_terms": 10**9},
        {"rerank": _ByLength(), "rerank_depth": 10**9},
        {"k1": 1e6},
        {"feedback_weight": 1e6, "feedback_docs": 3},
        {"recency_half_life": 5e-324},  # every age overflows to infinity: recency 0
        {"thread_boost": math.inf, "recency_weight": 1e300},
        {"rrf_k": 1e308, "fusion": "rrf"},
        {"rrf_k": 5e-324, "fusion": "rrf"},
    ],
)
def test_the_largest_and_smallest_valid_values_rank(store: Any, options: dict[str, Any]) -> None:
    found = _search(store, Ranking(**options))
    assert len(found) == 6
    scores = [score for _, score in found]
    assert all(0.0 <= s <= 1.0 for s in scores) and scores == sorted(scores, reverse=True)


class _Static:
    @staticmethod
    def rerank(query: str, texts: list[str]) -> list[float]:
        return [float(len(t)) for t in texts]


def test_a_class_whose_rerank_is_a_static_method_is_taken(store: Any) -> None:
    assert Ranking(rerank=_Static).rerank is _Static
    assert len(_search(store, Ranking(rerank=_Static))) == 6
