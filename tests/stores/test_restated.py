"""``Ranking(restate=...)``: an older telling that a newer item among the best restates loses a
share of its score (stores/_restated.py), by hand and through the embedded store."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore
from langmem.stores import ranking as rules
from langmem.stores.ranking import Ranking

PLAIN = Ranking(dense_weight=1.0, thread_boost=0.0, recency_weight=0.0, restate=0.5)


def _alike(cosines: dict[frozenset[str], float], floors: list[float]) -> rules.Similarity:
    """A backend's ``similarity`` over fixed cosines between text handles (others: 0)."""

    def similarity(chosen: Any, floor: float) -> list[tuple[int, int, float]]:
        floors.append(floor)
        handles = [c.text for c in chosen]
        return [
            (i, j, cosines.get(frozenset((a, b)), 0.0))
            for i, a in enumerate(handles)
            for j, b in enumerate(handles)
            if i < j and cosines.get(frozenset((a, b)), 0.0) >= floor
        ]

    return similarity


CORPUS = rules.Corpus(10, 3.0, {"gym": 2, "day": 5})
CANDIDATES = [
    rules.Candidate("a", 0.9, rules.document("gym days"), None, 100.0, "ta"),
    rules.Candidate("b", 0.8, rules.document("gym days"), None, 300.0, "tb"),  # restates a
    rules.Candidate("c", 0.7, rules.document("weather"), None, 100.0, "tc"),  # no query word
    rules.Candidate("d", 0.6, rules.document("weather"), None, 400.0, "td"),
    rules.Candidate("e", 0.5, rules.document("gym days"), None, 200.0, "te"),
    rules.Candidate("f", 0.4, rules.document("gym"), None, 500.0, "tf"),  # lacks "day"
    rules.Candidate("g", 0.3, rules.document("gym"), None, 200.0, "tg"),
]
COSINES = {
    frozenset(("ta", "tb")): 0.7,  # b is newer and holds a's words: a loses
    frozenset(("tc", "td")): 0.95,  # c holds no query word: never restated
    frozenset(("te", "tf")): 0.8,  # f is newer but lacks "day", which e holds: e keeps
    frozenset(("tg", "tf")): 0.6,  # exactly the threshold; f holds g's words: g loses
    frozenset(("ta", "te")): 0.59,  # below the threshold
}


def test_an_older_telling_restated_by_a_newer_one_loses_its_share() -> None:
    floors: list[float] = []
    ranked = rules.rank(
        CANDIDATES, ["gym", "day"], CORPUS, PLAIN, similarity=_alike(COSINES, floors)
    )
    assert floors == [0.6]
    # hand-computed (dense weight 1: the score is the cosine): a 0.9 - 0.5 * 0.9 = 0.45,
    # g 0.3 - 0.15 = 0.15; the others keep theirs
    assert [(e.item, round(e.score, 9), round(e.restated, 9)) for e in ranked] == [
        ("b", 0.8, 0.0),
        ("c", 0.7, 0.0),
        ("d", 0.6, 0.0),
        ("e", 0.5, 0.0),
        ("a", 0.45, 0.45),
        ("f", 0.4, 0.0),
        ("g", 0.15, 0.15),
    ]
    assert all(e.superseded == e.redundancy == 0.0 for e in ranked)
    assert rules.ranked_items(
        CANDIDATES, ["gym", "day"], CORPUS, PLAIN, similarity=_alike(COSINES, [])
    ) == [(e.score, e.item) for e in ranked]


def test_restate_changes_nothing_when_off_untimed_shallow_or_without_similarity() -> None:
    plain = [("a", 0.9), ("b", 0.8), ("c", 0.7), ("d", 0.6), ("e", 0.5), ("f", 0.4), ("g", 0.3)]
    untimed = [dataclasses.replace(c, time=None) for c in CANDIDATES]
    same_time = [dataclasses.replace(c, time=1.0) for c in CANDIDATES]
    for ranking, chosen in (
        (dataclasses.replace(PLAIN, restate=0.0), CANDIDATES),
        (PLAIN, untimed),
        (PLAIN, same_time),
    ):
        ranked = rules.rank(chosen, ["gym", "day"], CORPUS, ranking, similarity=_alike(COSINES, []))
        assert [(e.item, round(e.score, 9)) for e in ranked] == plain
        assert all(e.restated == 0.0 for e in ranked)
    floors: list[float] = []
    shallow = dataclasses.replace(PLAIN, redundancy_depth=1)
    rules.rank(CANDIDATES, ["gym", "day"], CORPUS, shallow, similarity=_alike(COSINES, floors))
    assert floors == []  # one item: nothing to compare
    ranked = rules.rank(CANDIDATES, ["gym", "day"], CORPUS, PLAIN)
    assert [(e.item, round(e.score, 9)) for e in ranked] == plain


def test_restate_runs_after_supersede_and_before_redundancy() -> None:
    both = dataclasses.replace(
        PLAIN, supersede=0.5, supersede_threshold=0.7, redundancy=0.5, redundancy_threshold=0.95
    )
    by_item = {
        e.item: e
        for e in rules.rank(
            CANDIDATES, ["gym", "day"], CORPUS, both, similarity=_alike(COSINES, [])
        )
    }
    a = by_item["a"]  # superseded by b (0.7 >= 0.7), then restated by it: half of 0.45
    assert a.superseded == pytest.approx(0.45)
    assert a.restated == pytest.approx(0.225)
    assert a.score == pytest.approx(0.225)
    # c, with no query word, is superseded by its newer near-copy d (supersede allows that),
    # never restated, then marked down as d's near-copy: half of 0.35
    c = by_item["c"]
    assert (c.superseded, c.restated) == (pytest.approx(0.35), 0.0)
    assert c.redundancy == pytest.approx(0.175)


@pytest.mark.parametrize("bad", [{"restate": 1.5}, {"restate": -0.1}, {"restate_threshold": 1.1}])
def test_out_of_range_restate_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="restate"):
        Ranking(**bad)


@pytest.mark.parametrize("name", ["restate", "restate_threshold", "supersede", "depth"])
def test_a_parameter_that_is_not_a_number_is_refused_by_name(name: str) -> None:
    with pytest.raises(ValueError, match=rf"Ranking\({name}='0.2'\) is not a number"):
        Ranking(**{name: "0.2"})  # type: ignore[arg-type]


def test_the_store_ranks_the_latest_telling_first_and_explains_it(tmp_path: Path) -> None:
    index: Any = {"dims": 64, "embed": HashingEmbeddings(64), "fields": ["content"]}
    tellings = {
        "first": "I go to the gym on Tuesdays now, before work",
        "second": "I go to the gym on Fridays now, after work",
        "third": "I go to the gym on Sundays now, at noon",
    }
    query = "which days do I go to the gym"
    results = {}
    for ranking in (Ranking(), Ranking(restate=0.2, restate_threshold=0.3)):
        store = SqliteStore(tmp_path / f"s{ranking.restate}.sqlite", index=index, ranking=ranking)
        for day, (key, text) in enumerate(tellings.items(), 1):
            store.put(("u",), key, {"content": text, "created_at": f"2024-03-0{day}T09:00:00"})
        explained = store.explain(("u",), query, limit=3)
        assert [h.key for h in store.search(("u",), query=query, limit=3)] == [
            item.key for item, _ in explained
        ]
        results[ranking.restate] = {item.key: why for item, why in explained}
        store.close()
    plain, restated = results[0.0], results[0.2]
    assert all(why.restated == 0.0 for why in plain.values())
    assert restated["third"].restated == 0.0  # the newest is restated by nobody
    for key in ("first", "second"):
        why = restated[key]
        before = why.base + why.thread + why.recency
        assert why.restated == pytest.approx(0.2 * before)
        assert why.score == pytest.approx(before - why.restated)
        assert plain[key].score == pytest.approx(before)
    assert max(restated, key=lambda k: restated[k].score) == "third"


@pytest.mark.parametrize("name", ["restate", "depth", "k1"])
def test_a_bool_is_not_taken_for_a_number(name: str) -> None:
    with pytest.raises(ValueError, match=rf"Ranking\({name}=True\) is not a number"):
        Ranking(**{name: True})
