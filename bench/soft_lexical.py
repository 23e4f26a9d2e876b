"""Cheap soft lexical matching: does letting BM25 match words near in meaning help? (session 9)

Work in progress: the decision rule (:data:`RULE`) is committed first, before any signal is
computed; the signals follow in later commits.
"""

from __future__ import annotations

RULE_WRITTEN = "2026-12-01 16:19 UTC"
GRID_M = (1, 3, 5)
"""Neighbours added per query term, at most."""
GRID_TAU = (0.5, 0.6, 0.7, 0.8)
"""Least cosine of a neighbour with the query term."""
GRID_W = (0.25, 0.5, 1.0)
"""A neighbour's weight relative to a query term is ``w * cosine`` (below 1: below the query's
own words)."""
RULE = (
    "Written 2026-12-01 16:19 UTC, before any soft-lexical signal was computed. "
    "Signals: (a) 'encoded': each store term's vector is MiniLM's encoding of the word alone; "
    "(b) 'static': the mean of MiniLM's input word-piece embeddings of the word; (c) optional "
    "translation-style soft BM25, only if (a) or (b) shows a signal. Each query term adds its "
    "top-m store terms (not query terms) with cosine >= tau to the lexical side with weight "
    "w * cosine relative to a query term (as the second pass's expansion terms weigh: they "
    "enter BM25 and its normalising IDF mass), the candidates being the store's own (no fetch). "
    "Grid per signal (dev only): m in GRID_M x tau in GRID_TAU x w in GRID_W. Objective (dev): "
    "the worst over conversations / RealMem / LongMemEval of the mean R@10 gain over the "
    "default, ties (3 decimals) broken by the mean gain. A two-fold check picks the setting on "
    "one half of the namespaces (user, person, question) by the same objective and scores it "
    "on the other half. ADOPTION as a default: at the chosen setting, the dev R@10 gain is at "
    "least 2 paired standard errors on each of the three dev sets, the two-fold gain is "
    "positive on all three, bench/retrieval.py's dev seeds stay at R@10 >= 0.96, and the cost "
    "is at most +0.3 ms CPU per search at 10k items (bench/search.py's corpus, process_time); "
    "a signal that passes on quality but costs more is at most an opt-in. Only a signal that "
    "passes dev runs its test split, once, reported unchanged; on test it must lose on no "
    "benchmark's R@10 or MRR beyond 2 paired standard errors and gain on R@10 overall (mean of "
    "the three) by at least 0.01. If a signal's chosen setting lies on an edge of the grid, one "
    "step past that edge may be run and is reported as such."
)
