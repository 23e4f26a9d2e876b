"""`langmem memories search --ranking KEY=VALUE,...`: ranking options for one search, scored
exactly as the library scores them, and every mistake named with the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from langmem.cli._target import open_target
from langmem.stores.ranking import Ranking
from tests.cli._support import line, run

QUERY = "which days do I go to the gym"
TELLINGS = {  # the same fact told three times, newest last
    "first": "I go to the gym on Tuesdays now, before work",
    "second": "I go to the gym on Fridays now, after work",
    "third": "I go to the gym on Sundays now, at noon",
}


def tellings_text() -> str:
    """The tellings as `memories import` reads them (each value holds its created_at)."""
    records = []
    for day, (key, text) in enumerate(TELLINGS.items(), 1):
        at = f"2024-03-0{day}T09:00:00+00:00"
        records.append(
            {
                "namespace": ["memories", "u"],
                "key": key,
                "value": {"content": text, "created_at": at},
                "created_at": at,
                "updated_at": at,
            }
        )
    return "".join(line(r) + "\n" for r in records)


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tellings.sqlite'}?embed=hashing"
    imported = run("memories", "import", "-", "--store", url, input=tellings_text())
    assert imported.exit_code == 0, imported.stderr
    return url


def _searched(url: str, *args: str) -> list[dict[str, Any]]:
    result = run("memories", "search", QUERY, "--explain", "--store", url, *args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    return [json.loads(x) for x in result.stdout.splitlines()]


def _library(url: str, ranking: Ranking) -> list[tuple[str, float]]:
    """(key, score) of the library's search of the same store with ``ranking``."""
    store: Any = open_target(url)
    try:
        store.ranking = ranking
        return [(h.key, h.score) for h in store.search(("memories",), query=QUERY, limit=10)]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("given", "ranking"),
    [
        ((), Ranking()),
        (("restate=0.2,restate_threshold=0.3",), Ranking(restate=0.2, restate_threshold=0.3)),
        (
            ("supersede=0.5", "supersede_threshold=0.3"),
            Ranking(supersede=0.5, supersede_threshold=0.3),
        ),
        (("fusion=learned",), Ranking(fusion="learned")),
        (("centering=0.4, depth=2",), Ranking(centering=0.4, depth=2)),
    ],
)
def test_the_search_scores_as_the_library_with_those_options(
    url: str, given: tuple[str, ...], ranking: Ranking
) -> None:
    args = [a for value in given for a in ("--ranking", value)]
    shown = _searched(url, *args)
    assert [(r["key"], r["score"]) for r in shown] == _library(url, ranking)
    assert len(shown) == 3
    if given:  # the options change the scores: the equality above shows they were applied
        assert _library(url, ranking) != _library(url, Ranking())


def test_restate_changes_the_order_and_is_explained(url: str) -> None:
    plain = _searched(url)
    restated = _searched(url, "--ranking", "restate=0.2,restate_threshold=0.3")
    assert all(r["explain"]["restated"] == 0.0 for r in plain)
    by_key = {r["key"]: r["explain"] for r in restated}
    assert by_key["third"]["restated"] == 0.0  # the newest is restated by nobody
    for key in ("first", "second"):
        why = by_key[key]
        before = why["base"] + why["thread"] + why["recency"]
        assert why["restated"] == pytest.approx(0.2 * before)
    assert restated[0]["key"] == "third"
    assert [r["score"] for r in restated] != [r["score"] for r in plain]


def test_the_options_apply_to_that_search_only(url: str) -> None:
    first = _searched(url)
    _searched(url, "--ranking", "restate=0.9,restate_threshold=0.1")
    assert _searched(url) == first  # nothing is stored


ALLOWED = (
    "dense_weight, k1, b, depth, thread_boost, thread_window, recency_weight, "
    "recency_half_life, fusion, rrf_k, redundancy, redundancy_threshold, redundancy_ramp, "
    "redundancy_depth, supersede, supersede_threshold, restate, restate_threshold, "
    "feedback_docs, feedback_terms, feedback_weight, feedback_fetch, centering, rerank, "
    "rerank_depth, rerank_weight, rerank_fallback"
)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "restat=0.2",
            f"--ranking restat=0.2: 'restat' is not a ranking option; the options are {ALLOWED}. "
            "Fix: use one of them, e.g. --ranking restate=0.2,supersede=0.3.",
        ),
        (
            "restate",
            "--ranking 'restate' is not KEY=VALUE: write it like "
            "--ranking restate=0.2,supersede=0.3.",
        ),
        (
            "restate=0.2,,supersede=0.3",
            "--ranking '' is not KEY=VALUE: write it like --ranking restate=0.2,supersede=0.3.",
        ),
        (
            "restate=high",
            "--ranking restate=high: Ranking(restate='high') is not a number: restate goes from "
            "0 to 1; fix: pass it as a number, e.g. the default restate=0.0.",
        ),
        (
            "supersede=0.3,restate=nan",
            "--ranking restate=nan: Ranking(restate=nan) is out of range (NaN is not a number): "
            "restate goes from 0 to 1; fix: pass a value in that range, e.g. the default "
            "restate=0.0.",
        ),
        (
            "dense_weight=1.5",
            "--ranking dense_weight=1.5: Ranking(dense_weight=1.5) is out of range: dense_weight "
            "goes from 0 to 1; fix: pass a value in that range, e.g. the default dense_weight=0.8.",
        ),
        (
            "depth=2.5",
            "--ranking depth=2.5: Ranking(depth=2.5) is out of range: depth is an int from 1 to "
            "1_000_000_000; fix: "
            "pass a value in that range, e.g. the default depth=50.",
        ),
        (
            "fusion=dense",
            "--ranking fusion=dense: Ranking(fusion='dense') is out of range: fusion is one of "
            "minmax, absolute, rrf, learned; fix: pass a value in that range, e.g. the default "
            "fusion='absolute'.",
        ),
        (
            "feedback_fetch=maybe",
            "--ranking feedback_fetch=maybe: feedback_fetch is true or false. "
            "Fix: write feedback_fetch=true or feedback_fetch=false.",
        ),
    ],
)
def test_a_bad_option_is_named_with_the_fix(url: str, given: str, message: str) -> None:
    result = run("memories", "search", QUERY, "--ranking", given, "--store", url)
    assert result.exit_code == 1  # as --filter and the other usage errors
    assert result.stdout == ""
    assert result.stderr == f"error: {message}\n"


def test_feedback_fetch_takes_true_and_false(url: str) -> None:
    on = "feedback_docs=2,feedback_terms=4,feedback_fetch=true"
    shown = _searched(url, "--ranking", on)
    expected = Ranking(feedback_docs=2, feedback_terms=4, feedback_fetch=True)
    assert [(r["key"], r["score"]) for r in shown] == _library(url, expected)
    assert _searched(url, "--ranking", "feedback_fetch=False") == _searched(url)


def test_the_option_is_in_the_help() -> None:
    result = run("memories", "search", "--help")
    assert "--ranking KEY=VALUE[,KEY=VALUE...]" in result.stdout


def test_a_store_without_langmems_ranking_is_named(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from langgraph.store.memory import InMemoryStore

    from langmem.cli import _memories

    other = InMemoryStore()
    other.put(("memories", "u"), "first", {"content": TELLINGS["first"]})
    monkeypatch.setattr(_memories, "open_target", lambda *_a, **_k: other)
    result = run("memories", "search", QUERY, "--ranking", "restate=0.2", "--store", url)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: search --ranking needs a store with langmem's hybrid ranking; InMemoryStore has "
        "none (use a sqlite:// or postgresql:// store). Run the search without --ranking.\n"
    )
