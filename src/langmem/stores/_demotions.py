"""The rules that mark an item down against the other best items: redundancy (the lower of two
near-copies), supersede (the older of two near-copies holding the same query words) and the
pairs restate reads (:mod:`._restated`); "Redundancy" and "Supersede" in
:mod:`langmem.stores.ranking`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langmem.stores._ranking_options import Ranking
from langmem.stores._scoring import Candidate, Scored, Similarity, by_score


def demoted(
    scored: list[Scored],
    items: Mapping[Any, Candidate],
    ranking: Ranking,
    similarity: Similarity,
) -> list[Scored]:
    """``scored`` (best first) with near-copies of better items marked down and re-sorted
    (see "Redundancy")."""
    head = scored[: ranking.redundancy_depth]
    full = ranking.redundancy_threshold
    floor = full - ranking.redundancy_ramp
    like: dict[int, list[tuple[int, float]]] = {}  # position -> (better position, cosine)
    for better, worse, cosine in similarity([items[entry[2]] for entry in head], floor):
        like.setdefault(worse, []).append((better, cosine))
    share = ranking.redundancy
    kept: set[int] = set()  # positions in ``head`` of the items that are nobody's copy
    out = scored
    for position, entry in enumerate(head):
        closest = max((c for k, c in like.get(position, ()) if k in kept), default=None)
        if closest is None or closest < full:
            kept.add(position)
        if closest is None:
            continue
        scale = 1.0 if closest >= full else (closest - floor) / (full - floor)  # ramp > 0
        if scale <= 0.0:
            continue
        if out is scored:
            out = list(scored)
        total, cosine, item, part, thread, recency, _, older = entry
        lost = share * scale * total
        out[position] = (total - lost, cosine, item, part, thread, recency, lost, older)
    if out is not scored:
        out.sort(key=by_score, reverse=True)
    return out


def newer_pairs(
    head: Sequence[Scored],
    items: Mapping[Any, Candidate],
    threshold: float,
    similarity: Similarity,
) -> list[tuple[int, int]]:
    """``(older, newer)`` positions in ``head`` of the pairs whose best texts have a cosine of
    at least ``threshold`` and whose items have different times (supersede and restate; no
    ``similarity`` call when fewer than two distinct times)."""
    times = [items[entry[2]].time for entry in head]
    if len({t for t in times if t is not None}) < 2:  # nothing is newer than anything
        return []
    pairs: list[tuple[int, int]] = []
    for first, second, _ in similarity([items[entry[2]] for entry in head], threshold):
        one, two = times[first], times[second]
        if one is None or two is None or one == two:
            continue
        pairs.append((first, second) if one < two else (second, first))
    return pairs


def superseded(
    scored: list[Scored],
    items: Mapping[Any, Candidate],
    ranking: Ranking,
    similarity: Similarity,
) -> list[Scored]:
    """``scored`` (best first) with each of the best ``redundancy_depth`` items that has a
    newer near-copy among them marked down and re-sorted (see "Supersede")."""
    head = scored[: ranking.redundancy_depth]
    older = newer_tellings(head, items, ranking.supersede_threshold, similarity)
    if not older:
        return scored
    return marked_down(scored, older, ranking.supersede, as_superseded=True)[0]


def newer_tellings(
    head: list[Scored],
    items: Mapping[Any, Candidate],
    threshold: float,
    similarity: Similarity,
    *,
    some_word: bool = False,
) -> set[int]:
    """Positions in ``head`` of the items that a newer one among them tells again: a pair of
    :func:`newer_pairs` whose newer text holds every query word the older one holds (a newer
    text lacking one is not its new version), and with ``some_word`` at least one."""
    older: set[int] = set()
    for old, new in newer_pairs(head, items, threshold, similarity):
        words = head[old][3][5].keys()
        if (words or not some_word) and words <= head[new][3][5].keys():
            older.add(old)
    return older


def marked_down(
    scored: list[Scored], older: set[int], share: float, *, as_superseded: bool
) -> tuple[list[Scored], dict[Any, float]]:
    """``scored`` with the entries at positions ``older`` losing ``share`` of their score,
    re-sorted, and item -> the score it lost; ``as_superseded``: the loss is also kept in the
    entry (supersede's part of the explanation)."""
    out = list(scored)
    cuts: dict[Any, float] = {}
    for position in older:
        total, cosine, item, part, thread, recency, lost, superseded = out[position]
        cut = share * total
        cuts[item] = cut
        kept = cut if as_superseded else superseded
        out[position] = (total - cut, cosine, item, part, thread, recency, lost, kept)
    out.sort(key=by_score, reverse=True)
    return out, cuts
