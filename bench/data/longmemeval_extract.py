"""Build the LongMemEval_S extract bench/longmemeval.py reads, from a git copy of its source.

LongMemEval (https://github.com/xiaowu0162/LongMemEval, MIT License; Wu et al., ICLR 2025)
gives each of its 500 questions its own timestamped chat history of about 50 sessions
(``haystack_sessions``, ~490 turns), and marks the turns that hold the answer
(``has_answer``). Its own turn-level retrieval indexes the user's turns only, so this keeps
the user's turns: each session's user turns (position in the session, text), and each
question (id, type, text, date, its history's sessions with their dates, the evidence turns).

Which questions: abstention questions (``_abs``, no evidence), the single-session-assistant
type (its evidence is what the assistant said; 5 of its 55 also mark a user turn) and any
question with no user turn marked ``has_answer`` are left out; of the rest, the first
``PER_TYPE`` (20) of each type in the order of the SHA-256 of the question id are the test split
(``questions``), and the next ``DEV_PER_TYPE`` (20) of each type (fewer where a type has no more)
the dev split (``dev``), disjoint from it. Nothing about retrieval results enters the choice.

The source is LongMemEval_S as split one JSON file per question in
https://github.com/hussainzs/Memoria, ``evaluations/data/lme_jsons`` (a file's name starts with
its number of sessions: only files of 30-100 sessions, the ``_S`` histories, are read), at the
pinned commit of a git copy given by ``--source`` or ``$LANGMEM_MEMORIA_REPO``. The extract is
not in this repository: it is built on first use and cached outside it
(``~/.cache/langmem-bench/data``); docs/bench-data.md says where the data comes from.

    python bench/data/longmemeval_extract.py [--source GIT_COPY]   # builds it, prints counts
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data import sources

SOURCE = sources.Source(
    name="longmemeval",
    variable="LANGMEM_MEMORIA_REPO",
    repository="hussainzs/Memoria",
    commit="959167b875ddc992661da1cf1a3263821e6831ed",
    content="1e37fbccb093d8f068aac0ec51e2c0460b3bf4e1000507a477bb11bc452e9bf6",
)
FOLDER = "evaluations/data/lme_jsons"
SKIPPED_TYPES = ("single-session-assistant",)
PER_TYPE = 20  # test questions of each type
DEV_PER_TYPE = 20  # dev questions of each type (fewer where a type has no more)


def read(git: Path, commit: str = SOURCE.commit) -> list[dict[str, Any]]:
    """The LongMemEval_S questions (30-100 sessions) of the source, in file name order."""
    names = [
        n
        for n in sources.files(git, commit, FOLDER)
        if n.endswith(".json") and 30 <= int(n.split("_")[0]) <= 100
    ]
    return [sources.show(git, commit, f"{FOLDER}/{n}") for n in names]


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


def build(git: Path, commit: str = SOURCE.commit) -> dict[str, Any]:
    everything = read(git, commit)
    dev = choose(everything, DEV_PER_TYPE, skip=PER_TYPE)
    data = extract(choose(everything, PER_TYPE), dev)
    return {
        "source": "LongMemEval_S (https://github.com/xiaowu0162/LongMemEval)",
        "taken_from": f"{SOURCE.repository} {commit} {FOLDER}",
        "license": "MIT License (see longmemeval-LICENSE)",
        "read": len(everything),
        "session": "{session id: [[position in the session, user turn text], ...]}",
        "question": "[id, type, text, date, [[session id, date], ...], evidence 'sid#position']",
        "splits": "questions: the test split; dev: the next questions of each type, disjoint",
        **data,
    }


def load(source: Path | str | None = None) -> dict[str, Any]:
    """The extract (built from ``source`` or ``$LANGMEM_MEMORIA_REPO`` if not cached yet)."""
    data: dict[str, Any] = sources.load(SOURCE, build, source)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help=SOURCE.help())
    args = parser.parse_args()
    data = load(args.source)
    for split in ("questions", "dev"):
        kinds = Counter(q[1] for q in data[split])
        print(f"{split}: {dict(sorted(kinds.items()))}")
    print(f"{data['read']} questions read")
    print(sources.cached(SOURCE))


if __name__ == "__main__":
    main()
