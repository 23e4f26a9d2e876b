"""Restated facts: an older telling of what a newer item among the best results tells again.

With :attr:`Ranking.restate` > 0 (off by default; 0.2 is the share measured), among the best
``redundancy_depth`` items (after the provenance boosts and supersede, before redundancy) an
item loses a share of its score when a **newer** one of them (a later ``created_at``) is about
the same thing: the cosine of their best texts is at least ``restate_threshold`` (0.6, a
looser bond than supersede's near-copy at 0.9), the older text holds at least one query term,
and the newer one holds every query term the older one holds::

    lost  = restate * (score so far)      (once, however many newer tellings)
    score = score so far - lost

A fact told again later in other words ("We moved into a flat in Porto" ... "Settled into the
new place in Braga") then ranks its latest telling above the earlier ones, and a line repeated
through the months (templated small talk, the same request asked again) keeps its newest copy
on top and lets the older copies make room for other evidence. The older items are still
returned, lower.

How it differs from the other rules that mark items down:

- supersede (:attr:`Ranking.supersede`): the same direction (the older loses), but only for
  near-copies (0.9). Tellings of one fact in other words have cosines of 0.5-0.8, as look-alike
  small talk does, so a cosine alone cannot tell them apart; the word condition does part of
  that: the pair must share the query's words, the newer one all of the older one's. A text
  that holds no query word is never restated: nothing says the two are about what the query
  asks (supersede, for near-copies, does not ask that). On the dev splits that condition
  changes little (+0.022 / +0.042 R@10 with it, +0.021 / +0.046 without; detail questions
  0.963 with it, 0.946 without).
- redundancy: the lower-ranked of two alike texts loses, whichever is newer; on RealMem, where a
  query needs several alike memories of one project, that cost 0.04-0.05 R@10. Restate does the
  opposite there (+0.04 on its dev split): in a continuing conversation the newer of two alike
  memories is the one a message needs.

Items without a time or with the same time restate nothing; without ``similarity`` nothing
changes. The cosines are the backend's ``similarity`` (the stored vectors, compared as for
supersede), so both stores give the same results. Measurements: docs/ranking.md, "Session 7".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langmem.stores import ranking as rules


def restated(
    scored: list[rules._Scored],
    items: Mapping[Any, rules.Candidate],
    ranking: rules.Ranking,
    similarity: rules.Similarity,
    amounts: dict[Any, float] | None = None,
) -> list[rules._Scored]:
    """``scored`` (best first) with each of the best ``redundancy_depth`` items that a newer one
    of them restates marked down and re-sorted (see the module docstring); ``amounts``, when
    given, receives item -> the score it lost.

    Example:
        >>> part = lambda terms: (0.5, 0.5, 0.5, 1.0, 0.5, dict.fromkeys(terms, 1))
        >>> scored = [
        ...     (0.5, 0.5, "old", part(["gym"]), 0.0, 0.0, 0.0, 0.0),
        ...     (0.4, 0.4, "new", part(["gym"]), 0.0, 0.0, 0.0, 0.0),
        ... ]
        >>> items = {
        ...     "old": rules.Candidate("old", 0.5, rules.document("gym"), None, 1.0),
        ...     "new": rules.Candidate("new", 0.4, rules.document("gym"), None, 2.0),
        ... }
        >>> alike = lambda chosen, floor: [(0, 1, 0.7)]
        >>> lost: dict[str, float] = {}
        >>> out = restated(scored, items, rules.Ranking(restate=0.5), alike, lost)
        >>> [(entry[2], entry[0]) for entry in out], lost
        ([('new', 0.4), ('old', 0.25)], {'old': 0.25})
    """
    head = scored[: ranking.redundancy_depth]
    older = rules.newer_tellings(head, items, ranking.restate_threshold, similarity, some_word=True)
    if not older:
        return scored
    out, cuts = rules.marked_down(scored, older, ranking.restate, as_superseded=False)
    if amounts is not None:
        amounts.update(cuts)
    return out
