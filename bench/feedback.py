"""The second ranking pass (pseudo-relevance feedback) on the dev split of bench/conversations.py.

Ranks every dev question with the default ranking and with the second pass on top of it
(``Ranking.feedback_docs`` > 0, see ``langmem.stores._feedback``), and prints R@10 per question
type and overall for each, the gain with its paired standard error (a gain within about two
standard errors is noise), and the search time with and without the pass (wall clock p50 and
CPU time per search; check ``uptime``: other processes distort both). ``--sweep`` tries a grid
of ``feedback_docs``, ``feedback_terms`` and ``feedback_weight``. Dev users only: the test split
is reported once, by ``bench/conversations.py``.

``--latency`` instead times search on bench/search.py's stores (10k and 100k items, one
namespace): p50 wall and mean CPU (this thread) per search, one pass and with the second pass,
and the difference (the pass's added cost).

    python bench/feedback.py [--sweep] [--docs 5 --terms 8 --weight 0.5] [--no-thread]
    python bench/feedback.py --latency [--sizes 10000 100000]
    python bench/feedback.py --retrieval   (bench/retrieval.py's set, hybrid with and without)
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conversations import CachedEmbeddings, load, metrics
from data.conversations import KINDS, Conversation, Question, build

from langmem.stores import SqliteStore
from langmem.stores.ranking import Ranking


def _run(
    store: SqliteStore, dev: list[Conversation]
) -> tuple[list[Question], list[float], list[float], list[float]]:
    """Each dev question, its R@10, and each search's wall and CPU seconds."""
    questions: list[Question] = []
    recalls: list[float] = []
    walls: list[float] = []
    cpus: list[float] = []
    for conversation in dev:
        for question in conversation.questions:
            wall, cpu = time.perf_counter(), time.thread_time()
            hits = store.search(("bench", conversation.user), query=question.text, limit=10)
            cpus.append(time.thread_time() - cpu)
            walls.append(time.perf_counter() - wall)
            questions.append(question)
            recalls.append(metrics([[h.key for h in hits]], [question])["R@10"])
    return questions, recalls, walls, cpus


def _line(label: str, questions: list[Question], recalls: list[float]) -> str:
    cells = []
    for kind in (*KINDS, "overall"):
        picked = [r for r, q in zip(recalls, questions) if kind in ("overall", q.kind)]
        cells.append(f"{sum(picked) / len(picked):>12.3f}")
    return f"{label:<34}" + "".join(cells)


def _gain(questions: list[Question], base: list[float], other: list[float]) -> str:
    cells = []
    for kind in (*KINDS, "overall"):
        gains = np.asarray(
            [o - b for o, b, q in zip(other, base, questions) if kind in ("overall", q.kind)]
        )
        error = float(gains.std(ddof=1) / np.sqrt(len(gains)))
        cells.append(f"{gains.mean():>+6.3f}±{error:.3f}")
    return f"{'  gain (paired s.e.)':<34}" + "".join(cells)


def _describe(ranking: Ranking, base: Ranking) -> str:
    return (
        ", ".join(
            f"{f.name}={getattr(ranking, f.name)}"
            for f in dataclasses.fields(ranking)
            if getattr(ranking, f.name) != getattr(base, f.name)
        )
        or "base"
    )


def latency(sizes: list[int], feedback: Ranking, postgres: str | None) -> None:
    """Search time with and without the second pass on bench/search.py's stores (or the same
    items in an empty PostgreSQL database at ``postgres``)."""
    import search as timing  # bench/search.py

    for n in sizes:
        texts, queries, vectors = timing.corpus(n, 200)
        embed = timing.LookupEmbeddings(dict(zip(texts + queries, vectors)))
        index: Any = {"dims": timing.DIMS, "embed": embed, "fields": ["text"]}
        with tempfile.TemporaryDirectory() as tmp:
            store: Any
            if postgres:
                from langmem.stores import PostgresStore

                # an empty database (or one this benchmark loaded with the same items)
                store = PostgresStore.from_url(postgres, index=index)
                print(f"PostgreSQL at {postgres.rsplit('@', 1)[-1]}")
            else:
                store = SqliteStore(Path(tmp) / "s.sqlite", index=index)
            if not (postgres and store.search(timing.NAMESPACE, limit=1)):  # loaded before
                timing.load(store, texts)
            load_average = os.getloadavg()[0]
            print(f"{n:,} items, 200 queries (1-min load average {load_average:.2f}):")
            rankings = {"one pass": Ranking(), "second pass": feedback}
            for ranking in rankings.values():  # warm caches (term forms, analyzed texts)
                store.ranking = ranking
                for query in queries[:20]:
                    store.search(timing.NAMESPACE, query=query, limit=10)
            walls: dict[str, list[float]] = {label: [] for label in rankings}
            cpus: dict[str, list[float]] = {label: [] for label in rankings}
            for number, query in enumerate(queries):
                # interleaved, alternating which goes first: load drifts hit both alike
                order = list(rankings) if number % 2 == 0 else list(reversed(rankings))
                for label in order:
                    store.ranking = rankings[label]
                    wall, cpu = time.perf_counter(), time.thread_time()
                    store.search(timing.NAMESPACE, query=query, limit=10)
                    cpus[label].append(time.thread_time() - cpu)
                    walls[label].append(time.perf_counter() - wall)
            for label in rankings:
                print(
                    f"  {label:<12} wall p50 {statistics.median(walls[label]) * 1e3:.3f} ms,"
                    f" CPU mean {statistics.fmean(cpus[label]) * 1e3:.3f} ms"
                )
            store.close()
            added = np.asarray(cpus["second pass"]) - np.asarray(cpus["one pass"])
            error = float(added.std(ddof=1) / np.sqrt(len(added)))
            wall_added = statistics.median(
                np.asarray(walls["second pass"]) - np.asarray(walls["one pass"])
            )
            print(
                f"  added by the second pass ({_describe(feedback, Ranking())}): CPU"
                f" {added.mean() * 1e6:+.0f} us (s.e. {error * 1e6:.0f}) per search,"
                f" wall median of the paired differences {wall_added * 1e6:+.0f} us"
            )


def retrieval(feedback: Ranking) -> None:
    """bench/retrieval.py's hybrid R@10 (its test seed) with and without the second pass."""
    import retrieval as labelled  # bench/retrieval.py

    from langmem.embeddings import MiniLMEmbeddings

    embeddings = labelled.CachedEmbeddings(MiniLMEmbeddings())
    with tempfile.TemporaryDirectory() as tmp:
        for label, ranking in (("one pass", Ranking()), ("second pass", feedback)):
            report = labelled.evaluate(3, embeddings, Path(tmp), ranking)
            parts = report["parts"]
            print(
                f"bench/retrieval.py seed 3, {label} ({_describe(ranking, Ranking())}): hybrid "
                + "  ".join(f"{p} R@10={parts[p]['hybrid']['R@10']:.3f}" for p in parts)
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sweep", action="store_true", help="try a grid of feedback settings")
    parser.add_argument("--docs", type=int, default=5)
    parser.add_argument("--terms", type=int, default=8)
    parser.add_argument("--weight", type=float, default=0.5)
    parser.add_argument("--no-thread", action="store_true", help="base without thread boost")
    parser.add_argument("--latency", action="store_true", help="time bench/search.py's stores")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--retrieval", action="store_true", help="bench/retrieval.py's set")
    parser.add_argument("--postgres", help="with --latency: time a PostgresStore at this URL")
    args = parser.parse_args()
    chosen = Ranking(
        feedback_docs=args.docs, feedback_terms=args.terms, feedback_weight=args.weight
    )
    if args.latency:
        latency(args.sizes, chosen, args.postgres)
        return
    if args.retrieval:
        retrieval(chosen)
        return
    conversations = build()
    texts = [t.text for c in conversations for t in c.turns]
    texts += [q.text for c in conversations for q in c.questions]
    embed = CachedEmbeddings(texts)
    dev = [c for c in conversations if c.split == "dev"]
    base = Ranking(thread_boost=0.0) if args.no_thread else Ranking()
    if args.sweep:
        grid = [
            dataclasses.replace(base, feedback_docs=m, feedback_terms=k, feedback_weight=w)
            for m in (3, 5, 10)
            for k in (3, 8, 15)
            for w in (0.3, 0.5, 1.0)
        ]
    else:
        grid = [
            dataclasses.replace(
                base,
                feedback_docs=args.docs,
                feedback_terms=args.terms,
                feedback_weight=args.weight,
            )
        ]
    load_average = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conversations.sqlite"
        load(conversations, path, embed)
        index: Any = {"dims": 384, "embed": embed, "fields": ["content"]}
        store = SqliteStore(path, index=index, ranking=base)
        _run(store, dev)  # warm the caches (term forms, analyzed texts)
        questions, first, walls, cpus = _run(store, dev)
        print(f"dev split: {len(questions)} questions; R@10 per type")
        print(f"{'ranking':<34}" + "".join(f"{k:>12}" for k in (*KINDS, "overall")))
        print(_line(_describe(base, Ranking()), questions, first))
        timings = [("one pass", walls, cpus)]
        for ranking in grid:
            store.ranking = ranking
            _run(store, dev)
            _, recalls, walls2, cpus2 = _run(store, dev)
            print(_line(_describe(ranking, base), questions, recalls))
            print(_gain(questions, first, recalls))
            timings.append((_describe(ranking, base), walls2, cpus2))
        store.close()
    print(f"search time per question (1-min load average {load_average:.2f} at start):")
    for label, wall, cpu in timings:
        print(
            f"  {label:<34} wall p50 {statistics.median(wall) * 1e3:.2f} ms,"
            f" CPU mean {statistics.fmean(cpu) * 1e3:.2f} ms"
        )


if __name__ == "__main__":
    main()
