"""Same search results before and after a change: log many searches, compare two logs.

A speed-up of the embedded store's search must not change a single result: the same items, the
same scores (to the last bit), in the same order. This script runs a fixed, deterministic set
of searches and writes every result to a log; run it on the old code and on the new code and
compare the two logs:

    python bench/search_identity.py [--against main]    # this code against main's src/

``--against REF`` (default ``main``) extracts ``src/`` of that git ref to a temporary folder,
runs the same cases there in a subprocess, and compares; ``--write FILE`` keeps this run's log
and ``--compare FILE`` compares with a log written earlier instead (``--against ""``: none).
Give as REF the commit the change started from (``main`` moves). ``--overlap on|off`` forces
this run's cosines onto the worker thread or inline (by default the machine's load decides).

What it logs (each line: a scenario, a case, the results; scores as ``float.hex``):

* ``bench``: the corpus of bench/search.py (Zipf words, random 384-d vectors), hybrid and
  dense-only searches of 10 results, other limits and offsets, and ``explain`` (every part
  of every score); the same again through a handle reopened on the file, which installs the
  matrix cache (its packed texts) when the store is large enough (``--size`` >= 20k); and
  searches with the optional parts (centering, learned fusion, supersede, all three).
* ``threads``: memories with threads, times, several namespaces, items indexed by two fields
  (two texts, two candidates per item), real words with stems, diacritics and numbers; every
  fusion, recency on and off, thread boost on and off, centering, supersede (with low
  thresholds too, so that texts supersede each other), namespace prefixes, filters, offsets,
  ``explain``.
* ``threads-ascii``: the same with the words' diacritics removed (every text ASCII: the
  store ranks from its in-memory word postings, not FTS5).
* ``writes``: searches between puts, updates and deletes, by this handle and by another
  handle on the same file (the change-log sync).
* ``churn``: ASCII texts rewritten and deleted in batches by two handles, searched between
  batches (postings extended, merged, rebuilt after compaction; threads and times changing).
* ``rank``: :func:`langmem.stores.ranking.rank` and ``ranked_items`` called directly on
  generated candidate sets (ties, duplicate items, threads, times, empty documents).
* ``restate`` (``bench-restate*``, ``threads*-restate*``; only where ``Ranking`` has
  ``restate``): searches with ``Ranking(restate=...)``, alone and with supersede, centering
  and the learned fusion, thresholds low enough that texts restate each other. A baseline
  without restate cannot run them, so they are compared in this tree instead: each search
  also runs on the general Python path (``_fused.covers`` answering no, as
  tests/stores/test_fused_options.py does), and the two must be identical; the run also
  prints in how many of them restate changed the results (the same search without it).

Timestamps are fixed (items are written with ``restore``, or carry ``created_at`` in their
value) so that two runs give the same provenance and recency (the ``bench`` corpus too: it was
loaded with ``put`` once, whose clock made the default ranking's recency differ between runs).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _search_corpus as bench_search
from langgraph.store.base import Item, PutOp, SearchOp

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore
from langmem.stores import ranking as rules

Entry = dict[str, Any]


def _hits(results: list[Any]) -> list[Any]:
    return [
        [list(hit.namespace), hit.key, None if hit.score is None else float(hit.score).hex()]
        for hit in results
    ]


def _parts(explained: list[Any]) -> list[Any]:
    out = []
    for hit, why in explained:
        numbers = [why.score, why.cosine, why.dense, why.bm25, why.lexical, why.base]
        numbers += [why.thread, why.recency]
        out.append(
            [
                list(hit.namespace),
                hit.key,
                None if hit.score is None else float(hit.score).hex(),
                [float(x).hex() for x in numbers],
                sorted(why.matched.items()),
            ]
        )
    return out


def bench_cases(size: int, folder: Path, queries_n: int) -> Iterator[Entry]:
    texts, queries, vectors = bench_search.corpus(size, queries_n)
    embed = bench_search.LookupEmbeddings(dict(zip(texts + queries, vectors)))
    index: Any = {"dims": bench_search.DIMS, "embed": embed, "fields": ["text"]}
    path = folder / "bench.sqlite"
    ns = bench_search.NAMESPACE
    with SqliteStore(path, index=index) as store:
        _load_fixed(store, texts, ns)
        yield from _bench_searches("bench", store, queries, ns)
    # a reopened handle installs the matrix cache (>= 20k rows) instead of loading from SQLite
    with SqliteStore(path, index=index) as store:
        yield from _bench_searches("bench-reopened", store, queries[: queries_n // 2], ns)
    with SqliteStore(path, index=index, hybrid=False) as store:
        for i, q in enumerate(queries):
            yield {"s": "bench-dense", "i": i, "r": _hits(store.search(ns, query=q, limit=10))}
    with SqliteStore(path, index=index) as store:
        for name in ("centering", "learned", "supersede", "all-options"):
            store.ranking = RANKINGS[name]
            for i, q in enumerate(queries[:50]):
                hits = store.search(ns, query=q, limit=10)
                yield {"s": f"bench-{name}", "i": i, "r": _hits(hits)}
        for name, ranking in RESTATES.items():
            for i, q in enumerate(queries[:50]):
                yield _both_paths(f"bench-{name}", i, store, ranking, ns, {"query": q, "limit": 10})


def _load_fixed(store: SqliteStore, texts: list[str], ns: Any, chunk: int = 2000) -> None:
    """The corpus as bench/search.py loads it, but with fixed timestamps (one second apart):
    the default ranking's recency reads them, so put's clock would change scores between
    runs."""
    start = datetime(2024, 3, 1, tzinfo=timezone.utc)
    for first in range(0, len(texts), chunk):
        store.restore(
            [
                Item(
                    namespace=ns,
                    key=f"k{i}",
                    value={"text": texts[i]},
                    created_at=start + timedelta(seconds=i),
                    updated_at=start + timedelta(seconds=i),
                )
                for i in range(first, min(first + chunk, len(texts)))
            ]
        )


def _bench_searches(name: str, store: SqliteStore, queries: list[str], ns: Any) -> Iterator[Entry]:
    for i, q in enumerate(queries):
        yield {"s": name, "i": i, "r": _hits(store.search(ns, query=q, limit=10))}
    for i, q in enumerate(queries[:40]):
        for limit, offset in ((1, 0), (3, 5), (25, 0), (10, 40)):
            hits = store.search(ns, query=q, limit=limit, offset=offset)
            yield {"s": name + "-limits", "i": [i, limit, offset], "r": _hits(hits)}
        two = store.batch(
            [
                SearchOp(ns, None, 5, 0, q),
                SearchOp(ns, None, 5, 0, queries[-1 - i]),
            ]
        )
        yield {"s": name + "-batch", "i": i, "r": [_hits(r) for r in two]}  # type: ignore[arg-type]
    for i, q in enumerate(queries[:30]):
        yield {"s": name + "-explain", "i": i, "r": _parts(store.explain(ns, q, limit=10))}


_WORD_TEXT = (
    "alice bob carol dmitri zoë renée lisbon oslo kyoto café flight train moved lives lived "
    "living cities city glass boxes running runs ran kindly bought buys 2019 2021 4821 lh-1234 "
    "07:45 tea coffee green hiking weekend birthday sister brother doctor appointment allergic "
    "peanuts salary raise manager project deadline piano lessons garden tomatoes dog cat vet "
    "the a of and to in is was were it on with for my our their"
)
WORDS = _WORD_TEXT.split(" ")
ASCII_WORDS = [rules.fold(word) for word in WORDS]
"""The same words without diacritics: a store of ASCII texts ranks from memory (its word
postings), one with other texts reads FTS5 (see ``langmem.stores._lexicon``)."""


def _sentence(rng: random.Random, n: int, words: list[str] = WORDS) -> str:
    return " ".join(rng.choice(words) for _ in range(n)).capitalize() + "."


def _thread_items(count: int, seed: int = 11, words: list[str] = WORDS) -> list[Item]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    namespaces = [("u1", "mem"), ("u2", "mem"), ("u1", "other")]
    items = []
    for i in range(count):
        when = start + timedelta(seconds=i * 30 + rng.randint(0, 200))
        value: dict[str, Any] = {"text": _sentence(rng, rng.randint(3, 14), words)}
        if i % 5:
            value["thread_id"] = f"t{i // 7 % 40}"
        if i % 3 == 0:
            value["created_at"] = when.isoformat()
        if i % 4 == 0:
            value["note"] = _sentence(rng, 4, words)  # a second indexed text
        value["kind"] = "x" if i % 2 else "y"
        items.append(
            Item(
                namespace=namespaces[i % 3],
                key=f"m{i}",
                value=value,
                created_at=when,
                updated_at=when,
            )
        )
    return items


RANKINGS = {
    "default": rules.Ranking(),
    "recency": rules.Ranking(recency_weight=0.3, recency_half_life=86400.0),
    "minmax": rules.Ranking(fusion="minmax"),
    "rrf": rules.Ranking(fusion="rrf"),
    "noboost": rules.Ranking(thread_boost=0.0),
    "lexical": rules.Ranking(dense_weight=0.0, depth=20),
    # the options computed over arrays since session 7 (stores/_fused_options.py); low
    # thresholds so that the hashing embeddings' texts supersede each other
    "centering": rules.Ranking(centering=0.1),
    "centering-deep": rules.Ranking(centering=0.5, depth=5, thread_boost=0.0),
    "learned": rules.Ranking(fusion="learned"),
    "learned-alike": rules.Ranking(fusion="learned", supersede_threshold=0.2, depth=8),
    "supersede": rules.Ranking(supersede=0.3),
    "supersede-alike": rules.Ranking(supersede=0.5, supersede_threshold=0.2, redundancy_depth=9),
    "all-options": rules.Ranking(
        fusion="learned", centering=0.1, supersede=0.3, supersede_threshold=0.3
    ),
}


_HAS_RESTATE = "restate" in {f.name for f in dataclasses.fields(rules.Ranking)}
RESTATES = (
    {
        "restate": rules.Ranking(restate=0.2),
        "restate-alike": rules.Ranking(restate=0.4, restate_threshold=0.1, redundancy_depth=12),
        "restate-supersede": rules.Ranking(
            restate=0.2, restate_threshold=0.1, supersede=0.3, supersede_threshold=0.12
        ),
        "restate-all": rules.Ranking(
            fusion="learned",
            centering=0.1,
            supersede=0.3,
            supersede_threshold=0.3,
            restate=0.3,
            restate_threshold=0.08,
        ),
    }
    if _HAS_RESTATE
    else {}
)
"""Rankings with restate (session 7), searched on both paths of this tree (see ``restate``
above); not in :data:`RANKINGS`, whose order names the ``rank`` cases."""


def _general(ranking: rules.Ranking, *, rows: bool = False) -> bool:
    """``_fused.covers`` answering no: every ranking takes the general path."""
    return False


def _both_paths(
    name: str, i: Any, store: SqliteStore, ranking: rules.Ranking, prefix: Any, how: dict[str, Any]
) -> Entry:
    """One search with ``ranking`` on the arrays (``r``) and on the general path
    (``general``), and whether restate changed its results (``fired``)."""
    from langmem.stores import _fused

    assert _fused.covers(ranking, rows=True), f"{name}: not computed over arrays"
    store.ranking = ranking
    arrays = _hits(store.search(prefix, **how))
    covers = _fused.covers
    _fused.covers = _general
    try:
        general = _hits(store.search(prefix, **how))
    finally:
        _fused.covers = covers
    store.ranking = dataclasses.replace(ranking, restate=0.0)
    fired = arrays != _hits(store.search(prefix, **how))
    return {"s": name, "i": i, "r": arrays, "general": general, "fired": fired}


def thread_cases(folder: Path, count: int, words: list[str] = WORDS) -> Iterator[Entry]:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text", "note"]}
    rng = random.Random(5)
    queries = [_sentence(rng, rng.randint(1, 6)) for _ in range(60)] + ["", "the of", "zzz"]
    prefixes: list[tuple[str, ...]] = [(), ("u1",), ("u1", "mem"), ("u2",)]
    tag = "threads" if words is WORDS else "threads-ascii"
    with SqliteStore(folder / f"{tag}.sqlite", index=index) as store:
        store.restore(_thread_items(count, words=words))
        for name, ranking in RANKINGS.items():
            store.ranking = ranking
            for i, q in enumerate(queries):
                prefix = prefixes[i % len(prefixes)]
                filt = {"kind": "x"} if i % 5 == 0 else None
                limit, offset = (10, 0) if i % 4 else (4, 2)
                hits = store.search(prefix, query=q, filter=filt, limit=limit, offset=offset)
                yield {"s": f"{tag}-{name}", "i": i, "r": _hits(hits)}
                if q and i % 2 == 0:
                    why = store.explain(prefix, q, filter=filt, limit=limit * 3, offset=offset)
                    yield {"s": f"{tag}-{name}-explain", "i": i, "r": _parts(why)}
        for name, ranking in RESTATES.items():
            for i, q in enumerate(queries):
                prefix = prefixes[i % len(prefixes)]
                how: dict[str, Any] = {"query": q, "filter": {"kind": "x"} if i % 5 == 0 else None}
                how["limit"], how["offset"] = (10, 0) if i % 4 else (4, 2)
                yield _both_paths(f"{tag}-{name}", i, store, ranking, prefix, how)


def write_cases(folder: Path) -> Iterator[Entry]:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text"]}
    path = folder / "writes.sqlite"
    rng = random.Random(9)
    queries = [_sentence(rng, 3) for _ in range(12)]
    with SqliteStore(path, index=index) as store, SqliteStore(path, index=index) as other:
        store.restore(_thread_items(400, seed=3))
        for step in range(40):
            writer = store if step % 2 else other
            key = f"m{rng.randint(0, 450)}"
            ns = ("u1", "mem")
            if step % 3 == 0:
                writer.delete(ns, key)
            else:
                when = datetime(2024, 2, 1, tzinfo=timezone.utc) + timedelta(minutes=step)
                value = {"text": _sentence(rng, 6), "thread_id": f"t{step % 4}"}
                value["created_at"] = when.isoformat()
                writer.put(ns, key, value)
            for i in range(4):
                hits = store.search(("u1",), query=queries[(step + i) % len(queries)], limit=8)
                yield {"s": "writes", "i": [step, i], "r": _hits(hits)}


def churn_cases(folder: Path) -> Iterator[Entry]:
    """ASCII texts rewritten in batches by two handles: the matrix's word postings take rows
    added since they were built, merge them, and are rebuilt after a compaction."""
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["text", "note"]}
    path = folder / "churn.sqlite"
    rng = random.Random(13)
    # rare codes (a few texts each) fetch lexical candidates; the common words do not
    queries = [
        _sentence(rng, rng.randint(1, 4), ASCII_WORDS) + f" code{rng.randint(0, 300)}"
        for _ in range(10)
    ]
    with SqliteStore(path, index=index) as store, SqliteStore(path, index=index) as other:
        store.restore(_thread_items(1500, seed=4, words=ASCII_WORDS))
        for step in range(30):
            writer = store if step % 3 else other
            ns = ("u1", "mem") if step % 2 else ("u2", "mem")
            when = datetime(2024, 3, 1, tzinfo=timezone.utc) + timedelta(minutes=step)
            ops: list[Any] = []
            for _ in range(90):
                key = f"m{rng.randint(0, 1600)}"
                if rng.random() < 0.15:
                    ops.append(PutOp(ns, key, None))
                    continue
                text = _sentence(rng, rng.randint(2, 10), ASCII_WORDS)
                value = {"text": f"{text} code{rng.randint(0, 300)} code{rng.randint(0, 30)}"}
                value["thread_id"] = f"t{rng.randint(0, 6)}"
                value["created_at"] = (when + timedelta(seconds=rng.randint(0, 90))).isoformat()
                ops.append(PutOp(ns, key, value))
            writer.batch(ops)
            for i in range(4):
                prefix: tuple[str, ...] = () if i % 2 == 0 else ("u1",)
                query = queries[(step + i) % len(queries)]
                if i == 3:  # a common code: many texts, the best by BM25 fetched
                    query = f"code{step % 30} " + query
                hits = store.search(prefix, query=query, limit=12)
                yield {"s": "churn", "i": [step, i], "r": _hits(hits)}


def rank_cases(sets: int) -> Iterator[Entry]:
    rng = random.Random(21)
    for i in range(sets):
        terms = rules.query_terms(_sentence(rng, rng.randint(1, 5)))
        candidates = []
        for _ in range(rng.randint(0, 90)):
            text = _sentence(rng, rng.randint(0, 12))
            cosine = round(rng.uniform(-0.3, 0.9), rng.choice([2, 7]))  # rounded: ties
            thread = rng.choice([None, "a", "b", "c"])
            when = None if rng.random() < 0.2 else 1.7e9 + rng.uniform(0, 3000)
            item = rng.randint(0, 60)  # repeated items: several texts per item
            candidates.append(rules.Candidate(item, cosine, rules.document(text), thread, when))
        counts = {t: rng.randint(0, 50) for t in terms}
        corpus = rules.Corpus(rng.randint(60, 5000), rng.uniform(3, 12), counts)
        name = list(RANKINGS)[i % len(RANKINGS)]
        ranking = RANKINGS[name]
        ranked = rules.rank(candidates, terms, corpus, ranking)
        items = rules.ranked_items(candidates, terms, corpus, ranking)
        parts = [
            [
                e.item,
                [float(x).hex() for x in (e.score, e.cosine, e.dense, e.bm25, e.lexical, e.base)],
                [e.thread.hex(), e.recency.hex()],
                sorted(e.matched.items()),
            ]
            for e in ranked
        ]
        listed = [[score.hex(), item] for score, item in items]
        yield {"s": f"rank-{name}", "i": i, "r": [parts, listed]}


def run(size: int, queries: int, sets: int) -> Iterator[Entry]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        yield from bench_cases(size, folder, queries)
        yield from thread_cases(folder, 3000)
        yield from thread_cases(folder, 3000, ASCII_WORDS)
        yield from write_cases(folder)
        yield from churn_cases(folder)
    yield from rank_cases(sets)


def compare(ours: list[Entry], theirs: list[Entry], show: Callable[[str], None]) -> int:
    """How many logged cases differ (missing or extra ones count); the cases compared in this
    tree (``general``: the ``restate`` ones) are left out on both sides."""
    key = lambda e: (e["s"], json.dumps(e["i"]))  # noqa: E731
    mine = {key(e): e["r"] for e in ours if "general" not in e}
    other = {key(e): e["r"] for e in theirs if "general" not in e}
    differ = 0
    for k in sorted(set(mine) | set(other)):
        if mine.get(k) != other.get(k):
            differ += 1
            if differ <= 5:
                show(f"  differs: {k}\n    now:    {mine.get(k)}\n    before: {other.get(k)}")
    return differ


def logged_by(ref: str, args: argparse.Namespace, folder: Path) -> Path:
    """The log of the same cases run on ``src/`` of git ``ref`` (in a subprocess)."""
    repo = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", ref, "src"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    log = folder / f"{ref.replace('/', '_')}.jsonl"
    options = ["--size", str(args.size), "--queries", str(args.queries), "--sets", str(args.sets)]
    env = dict(os.environ, PYTHONPATH=str(folder / "src"))
    command = [sys.executable, __file__, "--against", "", "--write", str(log), *options]
    subprocess.run(command, check=True, env=env)
    return log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="main", help="git ref whose src/ to compare with")
    parser.add_argument("--write", type=Path, help="keep this run's log here (JSON lines)")
    parser.add_argument("--compare", type=Path, help="a log of the same script on other code")
    parser.add_argument("--size", type=int, default=25_000, help="items of the bench corpus")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--sets", type=int, default=1600, help="direct rank() candidate sets")
    parser.add_argument(
        "--overlap",
        choices=["auto", "on", "off"],
        default="auto",
        help="force the cosines onto the worker thread (on) or inline (off) in this run",
    )
    args = parser.parse_args()
    import langmem
    from langmem import stores

    if args.overlap != "auto":  # decided by the machine's load otherwise
        forced = args.overlap == "on"
        try:
            from langmem.stores import _cosines  # type: ignore[attr-defined]

            _cosines.overlaps = lambda vectors: forced
        except ImportError:  # the code before the cosines were shared between threads
            stores._search._overlaps = lambda vectors: forced  # type: ignore[attr-defined]

    print(f"searches of {Path(langmem.__file__).parent}")
    started = time.perf_counter()
    lines = [json.dumps(entry) for entry in run(args.size, args.queries, args.sets)]
    if args.write is not None:
        args.write.write_text("".join(line + "\n" for line in lines))
    entries = [json.loads(line) for line in lines]  # as the other log reads back
    by: dict[str, int] = {}
    for entry in entries:
        by[entry["s"]] = by.get(entry["s"], 0) + 1
    print(f"{len(entries)} cases logged in {time.perf_counter() - started:.0f} s")
    print("  " + ", ".join(f"{name} {n}" for name, n in by.items()))
    paired = [entry for entry in entries if "general" in entry]
    apart = 0
    if paired:
        for entry in paired:
            if entry["r"] != entry["general"]:
                apart += 1
                if apart <= 5:
                    print(f"  differs: {entry['s']} {entry['i']}\n    arrays:  {entry['r']}")
                    print(f"    general: {entry['general']}")
        fired: dict[str, list[int]] = {}
        for entry in paired:
            fired.setdefault(entry["s"], []).append(int(entry["fired"]))
        verdict = "identical" if apart == 0 else f"{apart} cases DIFFER"
        print(
            f"restate cases, arrays against the general path of this tree ({len(paired)} cases,"
            f" {sum(map(sum, fired.values()))} where restate changed the results): {verdict}"
        )
        print("  restate changed: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in fired.items()))
    with tempfile.TemporaryDirectory() as tmp:
        other = args.compare
        if other is None and args.against:
            other = logged_by(args.against, args, Path(tmp))
        if other is None:
            sys.exit(1 if apart else 0)
        theirs = [json.loads(line) for line in other.read_text().splitlines()]
        differ = compare(entries, theirs, print)
    verdict = "identical" if differ == 0 else f"{differ} cases DIFFER"
    compared = sum("general" not in entry for entry in entries)
    print(
        f"against {args.compare or args.against} ({compared} cases here, {len(theirs)} there):"
        f" {verdict}"
    )
    sys.exit(1 if differ or apart else 0)


if __name__ == "__main__":
    main()
