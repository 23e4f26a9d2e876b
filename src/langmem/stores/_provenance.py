"""The provenance parts of a score: the thread boost from a same-thread neighbour and the
recency weight ("Provenance" in :mod:`langmem.stores.ranking`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from langmem.stores._ranking_options import Ranking
from langmem.stores._scoring import Candidate, Part


def candidates_by_item(
    scored: Iterable[tuple[Candidate, float, dict[str, int]]],
) -> dict[Any, Candidate]:
    """One candidate per item (its thread and time are the item's)."""
    return {candidate.item: candidate for candidate, _, _ in scored}


def provenance_boosts(
    best: Mapping[Any, Part], items: Mapping[Any, Candidate], ranking: Ranking
) -> dict[Any, tuple[float, float]]:
    """Item -> (thread, recency) parts of its score (see "Provenance" in
    :mod:`langmem.stores.ranking`)."""
    times = [c.time for c in items.values() if c.time is not None]
    newest = max(times, default=None)
    boost, window = ranking.thread_boost, ranking.thread_window
    share = min(boost, 1.0)
    by_thread: dict[str, list[tuple[float, float, Any]]] = {}
    if boost > 0:
        for item, part in best.items():
            c = items[item]
            if c.thread is not None and c.time is not None:
                by_thread.setdefault(c.thread, []).append((c.time, part[0], item))
    weight, half_life = ranking.recency_weight, ranking.recency_half_life
    out: dict[Any, tuple[float, float]] = {}
    for item, part in best.items():
        base = part[0]
        c = items[item]
        when = c.time
        neighbour = 0.0
        if boost > 0 and c.thread is not None and when is not None:
            neighbour = max(
                (
                    other_base
                    for other_when, other_base, other in by_thread[c.thread]
                    if other != item and abs(other_when - when) <= window
                ),
                default=0.0,
            )
        thread = share * max(neighbour - base, 0.0)
        recency = 0.0
        if weight > 0 and when is not None and newest is not None:
            recent = 0.5 ** ((newest - when) / half_life)
            recency = min(weight * recent, 1.0) * (1.0 - base - thread)
        out[item] = (thread, recency)
    return out
