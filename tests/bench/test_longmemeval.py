"""bench/longmemeval.py and its extraction (bench/data/longmemeval_extract.py) on small inputs
built here (the real data is not in the repository; the bench checks it when it loads): the
extraction rules, the dev/test split (next questions by hash, disjoint, deterministic), the
load-time check, and every question's evidence among the memories its history stores."""

from __future__ import annotations

import importlib
import random
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.bench.conftest import GitRepo

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _module(name: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module(name)


def _turn(role: str, text: str, answer: bool = False) -> dict[str, Any]:
    return {"role": role, "content": text, "has_answer": answer}


def _question(
    qid: str,
    kind: str,
    sessions: dict[str, list[dict[str, Any]]],
    dates: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "question_id": qid,
        "question_type": kind,
        "question": f"what about {qid}?",
        "question_date": "2023/06/01 (Thu) 10:00",
        "haystack_session_ids": list(sessions),
        "haystack_dates": dates or ["2023/05/20 (Sat) 02:21"] * len(sessions),
        "haystack_sessions": list(sessions.values()),
    }


FILLER = [_turn("user", "hello"), _turn("assistant", "hi"), _turn("user", "bye")]
FOUND = [_turn("assistant", "sure"), _turn("user", "my cat is Mochi", True)]
SAID = [_turn("user", "which cat?"), _turn("assistant", "Mochi", True)]


def _many(kinds: dict[str, int]) -> list[dict[str, Any]]:
    """Usable questions: ``n`` of each kind, each with its own evidence session."""
    return [
        _question(f"{kind[:2]}{n}", kind, {"f": FILLER, f"e-{kind}-{n}": FOUND})
        for kind, count in kinds.items()
        for n in range(count)
    ]


def test_extraction_keeps_user_turns_and_questions_with_user_evidence() -> None:
    extract = _module("data.longmemeval_extract")
    filler = [_turn("user", "hello"), _turn("assistant", "hi")]
    questions = [
        _question("a1", "single-session-user", {"f": filler, "e": FOUND}),
        _question("a1_abs", "single-session-user", {"f": filler, "e": FOUND}),
        _question("b2", "single-session-assistant", {"f": filler, "s": SAID}),
        _question("c3", "multi-session", {"f": filler}),
    ]
    data = extract.extract(extract.choose(questions, per_type=5))
    assert [q[0] for q in data["questions"]] == ["a1"]
    assert data["questions"][0][5] == ["e#1"]
    assert data["sessions"] == {"f": [[0, "hello"]], "e": [[1, "my cat is Mochi"]]}
    other = _question("d4", "single-session-user", {"e": [_turn("user", "changed", True)]})
    with pytest.raises(ValueError, match="session e differs"):
        extract.extract([questions[0], other])


def test_the_dev_split_is_the_next_questions_by_hash_disjoint_and_deterministic() -> None:
    extract = _module("data.longmemeval_extract")
    same = _many({"single-session-user": 5, "multi-session": 4})
    first, then = extract.choose(same, per_type=2), extract.choose(same, per_type=2, skip=2)
    ids = [[q["question_id"] for q in split] for split in (first, then)]
    assert (
        Counter(q["question_type"] for q in first)
        == Counter(q["question_type"] for q in then)
        == {"single-session-user": 2, "multi-session": 2}
    )
    assert not set(ids[0]) & set(ids[1])
    shuffled = same[:]
    random.Random(7).shuffle(shuffled)  # the input's order does not matter: the id's hash does
    assert [q["question_id"] for q in extract.choose(shuffled, per_type=2)] == ids[0]
    assert [q["question_id"] for q in extract.choose(shuffled, 2, skip=2)] == ids[1]
    rest = extract.choose(same, per_type=9, skip=2)  # fewer left: all the rest
    assert Counter(q["question_type"] for q in rest) == {
        "single-session-user": 3,
        "multi-session": 2,
    }
    both = extract.extract(first, then)
    assert [len(both["questions"]), len(both["dev"])] == [4, 4]


def test_build_reads_the_s_histories_from_the_pinned_git_copy(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    extract = _module("data.longmemeval_extract")
    folder = extract.FOLDER
    questions = _many({"single-session-user": 3, "knowledge-update": 2})
    files = {f"{folder}/45_{q['question_id']}.json": q for q in questions}
    files[f"{folder}/480_m1.json"] = _question("m1", "multi-session", {"x": FOUND})  # an _M one
    files[f"{folder}/1_t1.json"] = _question("t1", "multi-session", {"y": FOUND})  # too short
    files[f"{folder}/README.md"] = "not a question"
    root, commit = git_repo(files)
    monkeypatch.setattr(extract, "PER_TYPE", 1)
    monkeypatch.setattr(extract, "DEV_PER_TYPE", 1)
    data = extract.build(root / ".git", commit)
    assert data["read"] == 5 and data["taken_from"] == f"hussainzs/Memoria {commit} {folder}"
    assert Counter(q[1] for q in data["questions"]) == Counter(q[1] for q in data["dev"])
    assert Counter(q[1] for q in data["dev"]) == {"single-session-user": 1, "knowledge-update": 1}
    assert not {q[0] for q in data["questions"]} & {q[0] for q in data["dev"]}
    assert "x" not in data["sessions"] and "y" not in data["sessions"]
    assert extract.build(root / ".git", commit) == data


def _extract(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, dict[str, Any]]:
    """The bench reading a small extract: 3 + 2 test and 1 + 1 dev questions."""
    bench = _module("longmemeval")
    extract = _module("data.longmemeval_extract")
    questions = _many({"single-session-user": 4, "knowledge-update": 3})
    questions.append(
        _question(  # a filler session held twice in one history, on two dates
            "tw0",
            "single-session-user",
            {"f": FILLER, "e-tw": FOUND, "f2": FILLER},
            ["2023/05/20 (Sat) 02:21", "2023/05/21 (Sun) 09:00", "2023/05/22 (Mon) 09:00"],
        )
    )
    questions[-1]["haystack_session_ids"][2] = "f"
    data = extract.extract(
        extract.choose(questions, per_type=3), extract.choose(questions, per_type=2, skip=3)
    )
    sizes = {
        "questions": {"single-session-user": 3, "knowledge-update": 3},
        "dev": {"single-session-user": 2},
    }
    monkeypatch.setattr(extract, "load", lambda source=None: data)
    monkeypatch.setattr(bench, "SIZES", sizes)
    return bench, data


def test_every_question_has_evidence_among_its_stored_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bench, _ = _extract(monkeypatch)
    sessions, test = bench.read()
    _, dev = bench.read("dev")
    assert len(test) == 6 and len(dev) == 2 and not {q.id for q in test} & {q.id for q in dev}
    twice = 0
    for question in test + dev:
        ops = bench.memories(sessions, question)
        keys = [op.key for op in ops]
        assert len(keys) == len(set(keys)), question.id
        assert question.evidence and set(question.evidence) <= set(keys), question.id
        assert {op.namespace for op in ops} == {("longmemeval", question.id)}
        for op in ops:
            assert op.value is not None and op.value["content"] and op.value["thread_id"]
            assert "2020" <= op.value["created_at"] <= op.value["updated_at"]
        if question.id == "tw0":
            # one memory per turn of the session held twice: created, then updated a day later
            held = {op.key: op.value for op in ops if op.key.startswith("f#")}
            assert held["f#0"] == {
                "content": "hello",
                "thread_id": "f",
                "created_at": "2023-05-20T02:21:00",
                "updated_at": "2023-05-22T09:00:00",
            }
            assert sorted(held) == ["f#0", "f#2"]
        twice += any(op.value["created_at"] < op.value["updated_at"] for op in ops)  # type: ignore[index]
    assert twice == 1
    with pytest.raises(ValueError, match="split 'train' is not one of test, dev"):
        bench.read("train")


def test_loading_refuses_splits_other_than_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    bench, data = _extract(monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(bench, "SIZES", {**bench.SIZES, "dev": {"single-session-user": 3}})
        with pytest.raises(ValueError, match=r"'dev' split holds \{'single-session-user': 2\} "):
            bench.read("dev")
    data["dev"].append(data["questions"][0])
    data["dev"][-1] = [*data["dev"][-1][:1], "single-session-user", *data["dev"][-1][2:]]
    data["dev"].pop(0)
    with pytest.raises(ValueError, match=f"question {data['questions'][0][0]} is in the 'dev'"):
        bench.read()
    data["dev"].pop()
    data["dev"].append([*data["questions"][1][:5], ["nowhere#0"]])
    data["dev"][-1][0] = "fresh"
    data["dev"][-1][1] = "single-session-user"
    with pytest.raises(ValueError, match=r"question fresh: its evidence \['nowhere#0'\] is not"):
        bench.read()


def test_the_real_split_sizes_are_the_reported_ones() -> None:
    bench = _module("longmemeval")
    assert {split: sum(sizes.values()) for split, sizes in bench.SIZES.items()} == {
        "questions": 100,
        "dev": 90,
    }
    assert bench.SIZES["dev"]["single-session-preference"] == 10
