"""Retrieval on LongMemEval's chat histories: public data; its test split is held out.

LongMemEval (https://github.com/xiaowu0162/LongMemEval, MIT License) gives each question its
own history of about 50 timestamped chat sessions between a user and an assistant and marks
the turns that hold the answer. As in LongMemEval's own turn-level retrieval, the user's turns
are the memories: each is stored the way langmem writes memories (``content``, ``thread_id`` =
the session, ``created_at``/``updated_at`` = the session's date plus the turn's position in
seconds), one namespace per question's history (about 240 turns), in a SqliteStore with local
MiniLM embeddings; the question is searched as written within its history. Reported, per
question type and overall: recall@1/5/10 (the share of the evidence turns in the top k) and MRR
(first evidence turn), for dense only, BM25 only, the better of the two per type, and the
hybrid rankings, with the paired standard error of each hybrid's R@10 against the better
single ranker. The test split (the default): 100 questions (20 of each type, chosen by the
hash of their id, see the extraction script), held out: nothing was chosen on them. The dev
split (``--split dev``, added in session 7 to choose a default on): the next 90 questions by the
same hash order (20 of each type; 10 of single-session-preference, which has 30 in all).

The data is not in this repository: the first run builds its extract
(bench/data/longmemeval_extract.py) from a git copy of https://github.com/hussainzs/Memoria
(LongMemEval_S, one file per question) at the pinned commit, given by ``--source`` or
``$LANGMEM_MEMORIA_REPO``, and caches it outside the repository
(``~/.cache/langmem-bench/data``); docs/bench-data.md says where the data comes from. Every
load checks the splits (sizes per type, disjoint, evidence among each history's turns).
Embeddings are cached outside the repository too, as bench/conversations.py does.

    python bench/longmemeval.py [--split dev|test] [--source GIT_COPY]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from langgraph.store.base import PutOp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conversations import CachedEmbeddings, metrics, modes, paired
from data import longmemeval_extract

from langmem.stores import SqliteStore
from langmem.stores.ranking import Ranking

SINGLE = ("dense", "lexical")
SPLITS = {"test": "questions", "dev": "dev"}
TYPES = (
    "knowledge-update",
    "multi-session",
    "single-session-preference",
    "single-session-user",
    "temporal-reasoning",
)
# questions of each type per split: 30 single-session-preference questions are usable in all
SIZES = {"questions": dict.fromkeys(TYPES, 20), "dev": {**dict.fromkeys(TYPES, 20), TYPES[2]: 10}}


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    text: str
    history: tuple[tuple[str, str], ...]  # (session id, date)
    evidence: tuple[str, ...]  # turn keys "session#position"


def read(split: str = "test") -> tuple[dict[str, list[list[Any]]], list[Question]]:
    """The sessions (id -> [[position, user turn text], ...]) and the questions of a split
    (``"test"``: the 100 first reported; ``"dev"``: the next 90, disjoint)."""
    if split not in SPLITS:
        raise ValueError(f"split {split!r} is not one of {', '.join(SPLITS)}")
    data = longmemeval_extract.load()
    check(data, SIZES)
    questions = [
        Question(qid, kind, text, tuple((s, d) for s, d in history), tuple(evidence))
        for qid, kind, text, _date, history, evidence in data[SPLITS[split]]
    ]
    return data["sessions"], questions


def check(data: dict[str, Any], sizes: dict[str, dict[str, int]]) -> None:
    """Refuse an extract whose splits are not what the reported numbers were measured on:
    ``sizes`` questions of each type per split, no question in two splits, no question twice,
    every question with evidence, all of it among the user turns its history stores."""
    seen: set[str] = set()
    for split, expected in sizes.items():
        rows = data[split]
        kinds = dict(Counter(row[1] for row in rows))
        if kinds != expected:
            raise ValueError(
                f"the {split!r} split holds {kinds} questions per type, not {expected}"
            )
        for qid, _kind, _text, _date, history, evidence in rows:
            if qid in seen:
                raise ValueError(f"question {qid} is in the {split!r} split twice or in two splits")
            seen.add(qid)
            turns = {f"{sid}#{n}" for sid, _ in history for n, _ in data["sessions"][sid]}
            if not evidence or not set(evidence) <= turns:
                raise ValueError(
                    f"question {qid}: its evidence {evidence} is not among its history's turns"
                )


def when(date: str) -> datetime:
    """LongMemEval's ``2023/05/20 (Sat) 02:21``."""
    return datetime.strptime(date, "%Y/%m/%d (%a) %H:%M")


def memories(sessions: dict[str, list[list[Any]]], question: Question) -> list[PutOp]:
    """The question's history as langmem memories, one per user turn. Four histories hold a
    filler session twice (on two dates): its turns are one memory each, created at the first
    date and updated at the second, as a store keeps a memory written again."""
    values: dict[str, dict[str, str]] = {}
    for sid, date in question.history:
        for position, text in sessions[sid]:
            stamp = (when(date) + timedelta(seconds=position)).isoformat()
            value = values.setdefault(
                f"{sid}#{position}",
                {"content": text, "thread_id": sid, "created_at": stamp, "updated_at": stamp},
            )
            value["updated_at"] = max(value["updated_at"], stamp)
    return [PutOp(("longmemeval", question.id), key, value) for key, value in values.items()]


def load(
    sessions: dict[str, list[list[Any]]], questions: list[Question], path: Path, embed: Any
) -> int:
    store = SqliteStore(path, index={"dims": 384, "embed": embed, "fields": ["content"]})
    count = 0
    for question in questions:
        ops = memories(sessions, question)
        store.batch(ops)
        count += len(ops)
    store.close()
    return count


def rankings() -> dict[str, dict[str, Any]]:
    """Ranking name -> store settings: the single rankers as bench/conversations.py defines
    them, the default hybrid, and the variants issue 14 asks about."""
    singles = modes()
    return {
        "dense": singles["dense"],
        "lexical": singles["lexical"],
        "hybrid": {},
        "centering 0.1": {"ranking": Ranking(centering=0.1)},
        "learned": {"ranking": Ranking(fusion="learned")},
        "supersede 0.3": {"ranking": dataclasses.replace(Ranking(), supersede=0.3)},
        "restate 0.2": {"ranking": dataclasses.replace(Ranking(), restate=0.2)},
        "restate + supersede": {
            "ranking": dataclasses.replace(Ranking(), restate=0.2, supersede=0.3)
        },
    }


def kinds(questions: list[Question]) -> list[str]:
    return [*sorted({q.kind for q in questions}), "overall"]


def _of(kind: str, questions: list[Question]) -> list[int]:
    return [i for i, q in enumerate(questions) if kind in ("overall", q.kind)]


def run(path: Path, embed: Any, questions: list[Question]) -> dict[str, list[list[str]]]:
    """Each ranking's top 10 keys for each question."""
    index: Any = {"dims": 384, "embed": embed, "fields": ["content"]}
    out = {}
    for name, settings in rankings().items():
        store = SqliteStore(path, index=index, **settings)
        out[name] = [
            [h.key for h in store.search(("longmemeval", q.id), query=q.text, limit=10)]
            for q in questions
        ]
        store.close()
    return out


def _against(recall: dict[str, list[float]], first: dict[str, list[float]], a: str, b: str) -> str:
    """``a`` minus ``b`` question by question, R@10 and MRR, with paired standard errors."""
    mrr = paired(first, a, b).split(": R@10 ")[1]
    return f"{paired(recall, a, b)}; MRR {mrr}"


def show(ranked: dict[str, list[list[str]]], questions: list[Question]) -> None:
    columns = ("R@1", "R@5", "R@10", "MRR")
    each = {
        name: [metrics([r], [q]) for r, q in zip(rows, questions)]  # type: ignore[list-item]
        for name, rows in ranked.items()
    }
    print(f"{'type':<27}{'n':>4}  {'ranking':<22}" + "".join(f"{c:>8}" for c in columns))
    margins = {}
    for kind in kinds(questions):
        chosen = _of(kind, questions)
        scores = {
            name: metrics([rows[i] for i in chosen], [questions[i] for i in chosen])  # type: ignore[list-item]
            for name, rows in ranked.items()
        }
        best = max(SINGLE, key=lambda name: (scores[name]["R@10"], scores[name]["MRR"]))
        lines = [(name, scores[name]) for name in SINGLE]
        lines.append((f"best single ({best})", scores[best]))
        lines += [(name, scores[name]) for name in ranked if name not in SINGLE]
        for number, (name, row) in enumerate(lines):
            label = f"{kind if number == 0 else '':<27}{len(chosen) if number == 0 else '':>4}"
            print(f"{label}  {name:<22}" + "".join(f"{row[c]:>8.3f}" for c in columns))
        recall = {name: [each[name][i]["R@10"] for i in chosen] for name in ranked}
        first = {name: [each[name][i]["MRR"] for i in chosen] for name in ranked}
        for name in ranked:
            if name not in SINGLE:
                print(f"{'':<33}{_against(recall, first, name, best)}")
        margins[kind] = scores["hybrid"]["R@10"] - scores[best]["R@10"]
    whole = {name: [m["R@10"] for m in rows] for name, rows in each.items()}
    first = {name: [m["MRR"] for m in rows] for name, rows in each.items()}
    for name in ranked:
        if name not in (*SINGLE, "hybrid"):
            print(f"overall, {_against(whole, first, name, 'hybrid')}")
    met = margins["overall"] >= 0.08
    print(
        f"DESIGN.md section 8 target, hybrid R@10 >= best single + 0.08 overall: "
        f"{margins['overall']:+.3f} ({'met' if met else 'MISSED'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--source", type=Path, help=longmemeval_extract.SOURCE.help())
    args = parser.parse_args()
    longmemeval_extract.load(args.source)  # builds the cached extract on first use
    sessions, questions = read(args.split)
    texts = sorted(
        {text for sid, _ in {h for q in questions for h in q.history} for _, text in sessions[sid]}
    )
    print(f"load average {os.getloadavg()[0]:.2f} (2 cores shared; timings are wall clock and CPU)")
    started, cpu = time.perf_counter(), time.process_time()
    embed = CachedEmbeddings(texts + [q.text for q in questions])
    print(
        f"embeddings of {len(texts) + len(questions)} texts ready in "
        f"{time.perf_counter() - started:.1f} s (CPU {time.process_time() - cpu:.1f} s)"
    )
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "longmemeval.sqlite"
        stored = load(sessions, questions, path, embed)
        loaded = time.perf_counter() - started
        ranked = run(path, embed, questions)
    print(
        f"LongMemEval_S, {args.split} split, user turns as memories: {len(questions)} questions, "
        f"{stored} memories "
        f"in {len(questions)} namespaces (stored in {loaded:.1f} s; all rankings in "
        f"{time.perf_counter() - started:.1f} s, CPU {time.process_time() - cpu:.1f} s)"
    )
    show(ranked, questions)


if __name__ == "__main__":
    main()
