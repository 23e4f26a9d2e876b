"""Retrieval on RealMemBench's memories: public data we did not write (held-out check).

RealMemBench (https://github.com/zhiyuan5986/RealMemBench, Apache License 2.0) simulates ten
people chatting with an assistant over about 200 sessions each, with the memories extracted from
every session. Some user messages in later sessions need earlier memories; the assistant's
answer names the ones it used. This benchmark stores each person's memories the way langmem
writes them (``content``, ``thread_id`` = the session, ``created_at``; namespace per person) in
a SqliteStore with local MiniLM embeddings, and searches with the user's message as it was
written, among the memories of earlier sessions only (a ``session < n`` filter), for
recall@1/5/10 (the share of the memories used that are in the top k) and MRR, per query category
and per single/multi-session query.

People are split in two by name order: even positions ``dev``, odd ``test``. Choose rankings on
dev; report test.

The data is not in this repository: the first run builds its extract
(bench/data/realmem_extract.py) from a git copy of RealMemBench at the pinned commit, given by
``--source`` or ``$LANGMEM_REALMEM_REPO``, and caches it outside the repository
(``~/.cache/langmem-bench/data``); docs/bench-data.md says where the data comes from.

    python bench/realmem.py [--split test|dev|all] [--source GIT_COPY]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from langgraph.store.base import PutOp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conversations import CachedEmbeddings, metrics, modes, paired
from data import realmem_extract

from langmem.stores import SqliteStore


@dataclass(frozen=True)
class Query:
    text: str
    evidence: tuple[str, ...]
    kind: str
    session: int
    person: str


def read(split: str) -> tuple[list[dict[str, Any]], list[Query]]:
    """The people (memories, queries) of ``split`` and their queries."""
    people = realmem_extract.load()["people"]
    chosen = [
        p
        for number, p in enumerate(sorted(people, key=lambda p: p["name"]))
        if split == "all" or split == ("dev" if number % 2 == 0 else "test")
    ]
    queries = [
        Query(text, tuple(evidence), f"{category} / {kind}", session, p["name"])
        for p in chosen
        for text, session, category, kind, evidence in p["queries"]
    ]
    return chosen, queries


def texts() -> list[str]:
    """Every memory text of every person (what the embeddings cache holds with the queries)."""
    return [m[4] for p in realmem_extract.load()["people"] for m in p["memories"]]


def load(people: list[dict[str, Any]], path: Path, embed: Any) -> None:
    store = SqliteStore(path, index={"dims": 384, "embed": embed, "fields": ["content"]})
    for p in people:
        ops = []
        for number, (key, session, date, thread, text) in enumerate(p["memories"]):
            when = (datetime.fromisoformat(date) + timedelta(seconds=number)).isoformat()
            value = {
                "content": text,
                "thread_id": thread,
                "session": session,
                "created_at": when,
                "updated_at": when,
            }
            ops.append(PutOp(("realmem", p["name"]), key, value))
        store.batch(ops)
    store.close()


def kinds(queries: list[Query]) -> list[str]:
    categories = sorted({q.kind.split(" / ")[0] for q in queries})
    sessions = sorted({q.kind.split(" / ")[1] for q in queries})
    return [*categories, *sessions, "overall"]


def _in(kind: str, query: Query) -> bool:
    return kind == "overall" or kind in query.kind.split(" / ")


def report(path: Path, embed: Any, queries: list[Query]) -> dict[str, Any]:
    index: Any = {"dims": 384, "embed": embed, "fields": ["content"]}
    table: dict[str, Any] = {}
    per_query: dict[str, list[float]] = {}
    for mode, settings in modes().items():
        store = SqliteStore(path, index=index, **settings)
        rankings = [
            [
                hit.key
                for hit in store.search(
                    ("realmem", q.person),
                    query=q.text,
                    filter={"session": {"$lt": q.session}},
                    limit=10,
                )
            ]
            for q in queries
        ]
        store.close()
        per_query[mode] = [metrics([r], [q])["R@10"] for r, q in zip(rankings, queries)]  # type: ignore[list-item]
        table[mode] = {
            kind: metrics(
                [r for r, q in zip(rankings, queries) if _in(kind, q)],
                [q for q in queries if _in(kind, q)],  # type: ignore[misc]
            )
            for kind in kinds(queries)
        }
    table["paired"] = per_query
    return table


def show(table: dict[str, Any], queries: list[Query], split: str, memories: int) -> None:
    per_query = table.pop("paired")
    print(f"RealMemBench memories, {split} split: {memories} memories, {len(queries)} queries")
    columns = ("R@1", "R@5", "R@10", "MRR")
    print(f"{'type':<22}{'n':>5}  {'ranking':<13}" + "".join(f"{c:>8}" for c in columns))
    for kind in kinds(queries):
        n = sum(_in(kind, q) for q in queries)
        for number, (mode, rows) in enumerate(table.items()):
            label = f"{kind if number == 0 else '':<22}{n if number == 0 else '':>5}"
            print(f"{label}  {mode:<13}" + "".join(f"{rows[kind][c]:>8.3f}" for c in columns))
        singles = [table[m][kind]["R@10"] for m in ("dense", "lexical") if m in table]
        margin = table["hybrid"][kind]["R@10"] - max(singles)
        print(f"{'':<29}hybrid R@10 - best single = {margin:+.3f}")
    for other in per_query:
        if other != "hybrid":
            print(paired(per_query, "hybrid", other))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--source", type=Path, help=realmem_extract.SOURCE.help())
    args = parser.parse_args()
    realmem_extract.load(args.source)  # builds the cached extract on first use
    people, queries = read(args.split)
    _, every = read("all")
    embed = CachedEmbeddings(texts() + [q.text for q in every])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "realmem.sqlite"
        load(people, path, embed)
        show(
            report(path, embed, queries),
            queries,
            args.split,
            sum(len(p["memories"]) for p in people),
        )
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
