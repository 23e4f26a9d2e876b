"""Turn LongMemEval_S into bench/data/longmemeval.json.gz (what bench/longmemeval.py reads).

LongMemEval (https://github.com/xiaowu0162/LongMemEval, MIT License; Wu et al., ICLR 2025)
gives each of its 500 questions its own timestamped chat history of about 50 sessions
(``haystack_sessions``, ~490 turns), and marks the turns that hold the answer
(``has_answer``). Its own turn-level retrieval indexes the user's turns only, so this keeps
the user's turns: each session's user turns (position in the session, text), and each
question (id, type, text, date, its history's sessions with their dates, the evidence turns).

Which questions: abstention questions (``_abs``, no evidence), the single-session-assistant
type (its evidence is what the assistant said; 5 of its 55 also mark a user turn) and any
question with no user turn marked ``has_answer`` are left out; of the rest, the first
``--per-type`` of each type in the order of the SHA-256 of the question id are the test split
(``questions``), and the next ``--dev-per-type`` of each type (fewer where a type has no more)
the dev split (``dev``), disjoint from it. Nothing about retrieval results enters the choice.

    python bench/data/longmemeval_extract.py SOURCE [--commit HASH] [--per-type 20]
        [--dev-per-type 20]

SOURCE is ``longmemeval_s_cleaned.json`` (a list of questions) or a folder of one JSON file
per question (as in https://github.com/hussainzs/Memoria, ``evaluations/data/lme_jsons``,
where a file's name starts with its number of sessions: only files of 30-100 sessions, the
``_S`` histories, are read).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "longmemeval.json.gz"
SKIPPED_TYPES = ("single-session-assistant",)


def read(source: Path) -> list[dict[str, Any]]:
    if source.is_file():
        return list(json.loads(source.read_text()))
    files = [p for p in sorted(source.glob("*.json")) if 30 <= int(p.name.split("_")[0]) <= 100]
    return [json.loads(p.read_text()) for p in files]


def _evidence(question: dict[str, Any]) -> list[str]:
    return [
        f"{sid}#{position}"
        for sid, session in zip(question["haystack_session_ids"], question["haystack_sessions"])
        for position, turn in enumerate(session)
        if turn["role"] == "user" and turn.get("has_answer")
    ]


def choose(questions: list[dict[str, Any]], per_type: int, skip: int = 0) -> list[dict[str, Any]]:
    """Of each type, the usable questions ranked ``skip`` to ``skip + per_type - 1`` by the
    SHA-256 of their id."""
    usable = [
        q
        for q in questions
        if not q["question_id"].endswith("_abs")
        and q["question_type"] not in SKIPPED_TYPES
        and _evidence(q)
    ]
    usable.sort(key=lambda q: hashlib.sha256(q["question_id"].encode()).hexdigest())
    taken: Counter[str] = Counter()
    chosen = []
    for q in usable:
        taken[q["question_type"]] += 1
        if skip < taken[q["question_type"]] <= skip + per_type:
            chosen.append(q)
    return chosen


def extract(
    questions: list[dict[str, Any]], dev: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Sessions are kept once (a filler session is in several histories, with the same turns
    but each history's own date); each question lists its history as [session id, date]."""
    sessions: dict[str, list[Any]] = {}
    out: dict[str, Any] = {"sessions": sessions}
    for split, chosen in (("questions", questions), ("dev", dev)):
        if chosen is not None:
            out[split] = _rows(chosen, sessions)
    return out


def _rows(questions: list[dict[str, Any]], sessions: dict[str, list[Any]]) -> list[list[Any]]:
    out = []
    for q in questions:
        pairs = zip(q["haystack_session_ids"], q["haystack_sessions"])
        for sid, session in pairs:
            kept = [[n, t["content"]] for n, t in enumerate(session) if t["role"] == "user"]
            if sessions.setdefault(sid, kept) != kept:
                raise ValueError(f"session {sid} differs between questions")
        out.append(
            [
                q["question_id"],
                q["question_type"],
                q["question"],
                q["question_date"],
                [list(p) for p in zip(q["haystack_session_ids"], q["haystack_dates"])],
                _evidence(q),
            ]
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--commit", default="", help="the source's repository and commit, recorded")
    parser.add_argument("--per-type", type=int, default=20)
    parser.add_argument("--dev-per-type", type=int, default=20)
    args = parser.parse_args()
    everything = read(args.source)
    dev = choose(everything, args.dev_per_type, skip=args.per_type)
    data = extract(choose(everything, args.per_type), dev)
    out = {
        "source": "LongMemEval_S (https://github.com/xiaowu0162/LongMemEval)",
        "taken_from": args.commit,
        "license": "MIT License (see longmemeval-LICENSE)",
        "read": len(everything),
        "session": "{session id: [[position in the session, user turn text], ...]}",
        "question": "[id, type, text, date, [[session id, date], ...], evidence 'sid#position']",
        "splits": "questions: the test split; dev: the next questions of each type, disjoint",
        **data,
    }
    # mtime=0: the same input gives the same bytes
    with gzip.GzipFile(OUT, "wb", compresslevel=9, mtime=0) as f:
        f.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode())
    for split in ("questions", "dev"):
        kinds = Counter(q[1] for q in data[split])
        print(f"{split}: {dict(sorted(kinds.items()))}")
    print(f"{len(everything)} questions read")
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
