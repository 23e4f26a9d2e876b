"""The shortcuts of the search path give the same answers as the plain computations they replace."""

from __future__ import annotations

import re

import numpy as np
import pytest

from langmem.stores._lexical import coverage_in_text, fold
from langmem.stores._vectors import _top


def _scores(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "distinct":
        return rng.standard_normal(n).astype(np.float32)
    if kind == "ties":
        return rng.integers(0, 40, n).astype(np.float32)
    scores = rng.standard_normal(n).astype(np.float32)
    scores[rng.integers(0, n, 3)] = np.nan
    scores[-1] = np.nan  # also past the last whole chunk
    return scores


@pytest.mark.parametrize("kind", ["distinct", "ties", "nan"])
def test_top_picks_the_rows_argpartition_picks(kind: str) -> None:
    rng = np.random.default_rng(5)
    for _ in range(300):
        n = int(rng.integers(2, 5000))
        top = int(rng.integers(1, min(n, 120)))
        scores = _scores(kind, n, rng)
        expected = np.argpartition(scores, n - top)[n - top :]
        assert sorted(_top(scores, top).tolist()) == sorted(expected.tolist())


def _regex_coverage(text: str, forms: dict[str, str], weights: dict[str, float]) -> float:
    """Coverage as a whole-word regex scan of the folded text finds it."""
    alternatives = "|".join(map(re.escape, sorted(forms, key=len, reverse=True)))
    matcher = re.compile(r"(?<![^\W_])(?:" + alternatives + r")(?![^\W_])")
    found = {forms[word] for word in matcher.findall(fold(text))}
    return sum(weights[term] for term in found) / sum(weights.values())


def test_coverage_counts_whole_words_only() -> None:
    forms = {"flight": "flight", "flights": "flight", "lh1234": "lh1234", "zoe": "zoe"}
    weights = {"flight": 1.0, "lh1234": 3.0, "zoe": 2.0, "late": 1.0}
    texts = [
        "Two flights, LH1234x",
        "Zoë's flight LH-1234 / lh1234_b",
        "preflight check: flightless, flights_",
        "ZOE FLIGHTS LH1234",
        "",
    ]
    for text in texts:
        assert coverage_in_text(text, forms, weights) == _regex_coverage(text, forms, weights)
