"""Fit the weights of ``Ranking(fusion="learned")`` on the dev splits of the three benchmarks.

Reads the candidates captured by bench/ranking_capture.py (run it first with ``--split dev``),
computes every candidate's features with :func:`langmem.stores._learned.features` (the code the
stores run), and fits a pairwise logistic regression: for each question, every (evidence text,
other text among the default rule's best 30) pair, each question weighing the same, L2 penalty
``--penalty``. Prints the weights (to paste into ``_learned.WEIGHTS``), an out-of-fold estimate
(two folds by user / person, both benchmarks in each fold), the dev R@10 per benchmark and
type of the rule with the fitted weights against the default, with paired standard errors, and
the same for a fit on one benchmark scored on the other (does it transfer?).

    python bench/ranking_fit.py [--penalty 0.001]
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ranking_capture import cache_path

from langmem.stores import _learned
from langmem.stores import ranking as rules
from langmem.stores._similarity import alike, unit_cosines

NEGATIVES = 30


def _candidates(call: dict[str, Any]) -> list[rules.Candidate]:
    return [
        rules.Candidate(i, float(c), rules.Document(t, n), th, tm, i)
        for i, (c, (t, n), th, tm) in enumerate(
            zip(call["cosines"], call["documents"], call["threads"], call["times"], strict=True)
        )
    ]


def _similarity(call: dict[str, Any]) -> rules.Similarity:
    vectors = call["vectors"]

    def similarity(chosen: Any, floor: float) -> list[tuple[int, int, float]]:
        return alike(unit_cosines(vectors[[int(c.text) for c in chosen]]), floor)

    return similarity


def _rank(call: dict[str, Any], ranking: rules.Ranking) -> list[int]:
    n, average, frequencies = call["corpus"]
    ranked = rules.ranked_items(
        _candidates(call),
        call["terms"],
        rules.Corpus(n, average, frequencies),
        ranking,
        similarity=_similarity(call),
    )
    return [item for _, item in ranked[:10]]


def _recall(call: dict[str, Any], top: list[int]) -> float:
    got = {call["keys"][i] for i in top}
    return sum(e in got for e in call["evidence"]) / len(call["evidence"])


def _features(call: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Features of every candidate (rows in the default rule's order) and its label."""
    seen: dict[str, Any] = {}
    original = _learned.rescored

    def keep(
        scored: Any, items: Any, weights: Any, ranking: Any, similarity: Any, parts: Any = None
    ) -> Any:
        seen["order"] = [entry[2] for entry in scored]
        seen["x"] = _learned.features(scored, items, weights, ranking, similarity)
        return original(scored, items, weights, ranking, similarity, parts)

    _learned.rescored = keep  # type: ignore[assignment]
    try:
        _rank(call, rules.Ranking(fusion="learned"))
    finally:
        _learned.rescored = original  # type: ignore[assignment]
    evidence = set(call["evidence"])
    labels = np.array([call["keys"][i] in evidence for i in seen["order"]], dtype=float)
    return np.asarray(seen["x"], dtype=float), labels


def _pairs(data: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    rows, weights = [], []
    for x, y in data:
        positives = np.flatnonzero(y)
        negatives = [j for j in range(min(NEGATIVES, len(y))) if y[j] == 0]
        if not len(positives) or not negatives:
            continue
        diff = (x[positives][:, None, :] - x[negatives][None, :, :]).reshape(-1, x.shape[1])
        rows.append(diff)
        weights.append(np.full(len(diff), 1.0 / len(diff)))
    return np.vstack(rows), np.concatenate(weights)


def fit(data: list[tuple[np.ndarray, np.ndarray]], penalty: float) -> np.ndarray:
    """Pairwise logistic regression by Newton's method."""
    diffs, weights = _pairs(data)
    w = np.zeros(diffs.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(diffs @ w)))
        gradient = -(weights * (1 - p)) @ diffs + penalty * w
        hessian = (diffs * (weights * p * (1 - p))[:, None]).T @ diffs + penalty * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w


def _intercept(data: list[tuple[np.ndarray, np.ndarray]], w: np.ndarray) -> float:
    """The intercept that makes the mean score of the best 30 texts equal their share of
    evidence (order does not depend on it; it only places scores in (0, 1))."""
    z = np.concatenate([x[:NEGATIVES] @ w for x, _ in data])
    y = np.concatenate([labels[:NEGATIVES] for _, labels in data])
    low, high = -50.0, 50.0
    for _ in range(100):
        middle = (low + high) / 2
        if (1 / (1 + np.exp(-(z + middle)))).mean() > y.mean():
            high = middle
        else:
            low = middle
    return (low + high) / 2


def _scores(calls: list[dict[str, Any]], weights: dict[str, float]) -> list[float]:
    saved = _learned.WEIGHTS
    _learned.WEIGHTS = weights
    try:
        return [_recall(c, _rank(c, rules.Ranking(fusion="learned"))) for c in calls]
    finally:
        _learned.WEIGHTS = saved


def _report(label: str, calls: list[dict[str, Any]], got: list[float], base: list[float]) -> None:
    for bench in sorted({c["bench"] for c in calls}):
        chosen = [i for i, c in enumerate(calls) if c["bench"] == bench]
        gain = np.array([got[i] - base[i] for i in chosen])
        kinds: dict[str, list[float]] = {}
        for i in chosen:
            kind = calls[i]["kind"].split(" / ")[0]
            kinds.setdefault(kind, []).append(got[i])
        print(
            f"{label:<28} {bench:<14} R@10 {np.mean([got[i] for i in chosen]):.3f} "
            f"(default {np.mean([base[i] for i in chosen]):.3f}; gain {gain.mean():+.3f}, "
            f"paired s.e. {gain.std(ddof=1) / np.sqrt(len(gain)):.3f}) "
            + " ".join(f"{k[:12]} {np.mean(v):.3f}" for k, v in sorted(kinds.items()))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--penalty", type=float, default=1e-3)
    args = parser.parse_args()
    with cache_path("dev").open("rb") as f:
        calls: list[dict[str, Any]] = pickle.load(f)
    data = [_features(c) for c in calls]
    base = [_recall(c, _rank(c, rules.Ranking())) for c in calls]

    def weights_of(chosen: list[int]) -> dict[str, float]:
        w = fit([data[i] for i in chosen], args.penalty)
        named = dict(zip(_learned.FEATURES, w.tolist()))
        return {"intercept": _intercept([data[i] for i in chosen], w), **named}

    everything = weights_of(list(range(len(calls))))
    print("weights (every dev split):")
    print("    " + ", ".join(f'"{k}": {v:.3f}' for k, v in everything.items()))
    _report("fitted on all (in sample)", calls, _scores(calls, everything), base)
    groups = sorted({(c["bench"], c["group"]) for c in calls})
    fold = {g: n % 2 for n, g in enumerate(groups)}
    out_of_fold = [0.0] * len(calls)
    for held in (0, 1):
        train = [i for i, c in enumerate(calls) if fold[c["bench"], c["group"]] != held]
        w = weights_of(train)
        test = [i for i, c in enumerate(calls) if fold[c["bench"], c["group"]] == held]
        for i, got in zip(test, _scores([calls[i] for i in test], w)):
            out_of_fold[i] = got
    _report("out of fold (2 folds)", calls, out_of_fold, base)
    for bench in sorted({c["bench"] for c in calls}):
        w = weights_of([i for i, c in enumerate(calls) if c["bench"] == bench])
        _report(f"fitted on {bench} only", calls, _scores(calls, w), base)
    print(dataclasses.replace(rules.Ranking(), fusion="learned"))


if __name__ == "__main__":
    main()
