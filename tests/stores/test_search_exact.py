"""The shortcuts of the search path give the same answers as the plain computations they replace."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pytest

from langmem.stores import ranking
from langmem.stores._vectors import VectorIndex, _top


def _scores(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "distinct":
        return rng.standard_normal(n).astype(np.float32)
    if kind == "ties":
        return rng.integers(0, 40, n).astype(np.float32)
    scores = rng.standard_normal(n).astype(np.float32)
    scores[rng.integers(0, n, 3)] = np.nan
    scores[-1] = np.nan  # also past the last whole chunk
    return scores


def _cases(kind: str, seed: int) -> Iterator[tuple[np.ndarray, int]]:
    """300 random score arrays of ``kind`` with a ``top`` below their length."""
    rng = np.random.default_rng(seed)
    for _ in range(300):
        n = int(rng.integers(2, 5000))
        top = int(rng.integers(1, min(n, 120)))
        yield _scores(kind, n, rng), top


@pytest.mark.parametrize("kind", ["distinct", "ties", "nan"])
def test_top_picks_the_rows_argpartition_picks(kind: str) -> None:
    for scores, top in _cases(kind, 5):
        n = len(scores)
        expected = np.argpartition(scores, n - top)[n - top :]
        assert sorted(_top(scores, top).tolist()) == sorted(expected.tolist())


@pytest.mark.parametrize("kind", ["distinct", "ties", "nan"])
def test_top_with_ties_keeps_every_row_tied_with_the_last(kind: str) -> None:
    for scores, top in _cases(kind, 6):
        found, plain = _top(scores, top, ties=True), _top(scores, top)
        if np.isnan(scores[plain]).any():  # NaN ranks first: no tie is counted
            assert found.tolist() == plain.tolist()
            continue
        edge = np.sort(scores[~np.isnan(scores)])[::-1][top - 1]
        assert found.tolist() == np.flatnonzero(scores >= edge).tolist()  # in row order
        every = np.ones(len(scores), dtype=bool)
        rows, best = VectorIndex.best(scores, every, top, ties=True)
        above = np.flatnonzero(scores > edge).tolist()
        tied = np.flatnonzero(scores == edge).tolist()[: 2 * top - len(above)]  # bounded
        assert sorted(rows.tolist()) == sorted(above + tied) and (np.diff(best) <= 0).all()
        assert rows[best == edge].tolist() == tied  # equal scores in row order


def test_analyzed_counts_equal_a_whole_word_regex_count() -> None:
    """BM25's term counts (the analyzer) agree with a whole-word scan of the folded text."""
    texts = [
        "Two flights, LH1234x",
        "Zoë's flight LH-1234 / lh1234_b",
        "preflight check: flightless, flights_ FLIGHT",
        "ZOE FLIGHTS LH1234 lh1234",
        "",
    ]
    for text in texts:
        counts = ranking.document(text).terms
        for term, forms in {"flight": ["flight", "flights"], "lh1234": ["lh1234"]}.items():
            pattern = r"(?<![^\W_])(?:" + "|".join(forms) + r")(?![^\W_])"
            assert counts.get(term, 0) == len(re.findall(pattern, ranking.fold(text))), text
