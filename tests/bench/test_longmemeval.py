"""The held-out LongMemEval extract (bench/data/longmemeval.json.gz) loads, and every question
has evidence among the memories its history stores; the extraction rules on a small input."""

from __future__ import annotations

import importlib
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _module(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def test_every_question_has_evidence_among_its_stored_turns() -> None:
    bench = _module("longmemeval")
    sessions, questions = bench.read()
    assert Counter(q.kind for q in questions) == {
        "knowledge-update": 20,
        "multi-session": 20,
        "single-session-preference": 20,
        "single-session-user": 20,
        "temporal-reasoning": 20,
    }
    assert len({q.id for q in questions}) == 100
    twice = 0  # a filler session held twice in a history: one memory, created then updated
    for question in questions:
        ops = bench.memories(sessions, question)
        keys = [op.key for op in ops]
        assert len(keys) == len(set(keys)) > 100, question.id
        assert question.evidence, question.id
        assert set(question.evidence) <= set(keys), question.id
        assert {op.namespace for op in ops} == {("longmemeval", question.id)}
        value = ops[0].value
        assert value is not None and value["content"] and value["thread_id"]
        assert "2020" <= value["created_at"] <= value["updated_at"]
        assert question.text.strip()
        twice += any(op.value["created_at"] < op.value["updated_at"] for op in ops)  # type: ignore[index]
    assert twice == 4


def test_the_dev_split_is_the_next_questions_and_disjoint_from_test() -> None:
    bench = _module("longmemeval")
    sessions, dev = bench.read("dev")
    _, test = bench.read()
    assert Counter(q.kind for q in dev) == {
        "knowledge-update": 20,
        "multi-session": 20,
        "single-session-preference": 10,  # 30 usable in all: 20 test, 10 dev
        "single-session-user": 20,
        "temporal-reasoning": 20,
    }
    assert not {q.id for q in dev} & {q.id for q in test}
    for question in dev:
        keys = {op.key for op in bench.memories(sessions, question)}
        assert question.evidence and set(question.evidence) <= keys, question.id
    with pytest.raises(ValueError, match="split 'train' is not one of test, dev"):
        bench.read("train")


def _turn(role: str, text: str, answer: bool = False) -> dict[str, Any]:
    return {"role": role, "content": text, "has_answer": answer}


def _question(qid: str, kind: str, sessions: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "question_id": qid,
        "question_type": kind,
        "question": f"what about {qid}?",
        "question_date": "2023/06/01 (Thu) 10:00",
        "haystack_session_ids": list(sessions),
        "haystack_dates": ["2023/05/20 (Sat) 02:21"] * len(sessions),
        "haystack_sessions": list(sessions.values()),
    }


def test_extraction_keeps_user_turns_and_questions_with_user_evidence() -> None:
    extract = _module("data.longmemeval_extract")
    filler = [_turn("user", "hello"), _turn("assistant", "hi")]
    found = [_turn("assistant", "sure"), _turn("user", "my cat is Mochi", True)]
    said = [_turn("user", "which cat?"), _turn("assistant", "Mochi", True)]
    questions = [
        _question("a1", "single-session-user", {"f": filler, "e": found}),
        _question("a1_abs", "single-session-user", {"f": filler, "e": found}),
        _question("b2", "single-session-assistant", {"f": filler, "s": said}),
        _question("c3", "multi-session", {"f": filler}),
    ]
    data = extract.extract(extract.choose(questions, per_type=5))
    assert [q[0] for q in data["questions"]] == ["a1"]
    assert data["questions"][0][5] == ["e#1"]
    assert data["sessions"] == {"f": [[0, "hello"]], "e": [[1, "my cat is Mochi"]]}
    same = [_question(f"q{n}", "single-session-user", {"e": found}) for n in range(5)]
    first, then = extract.choose(same, per_type=2), extract.choose(same, per_type=2, skip=2)
    assert len(first) == len(then) == 2 and not {q["question_id"] for q in first} & {
        q["question_id"] for q in then
    }
    assert len(extract.choose(same, per_type=9, skip=2)) == 3  # fewer left: all the rest
    both = extract.extract(first, then)
    assert [len(both["questions"]), len(both["dev"])] == [2, 2]
    other = _question("d4", "single-session-user", {"e": [_turn("user", "changed", True)]})
    with pytest.raises(ValueError, match="session e differs"):
        extract.extract([questions[0], other])
