"""A ``Ranking`` parameter out of its range is refused with a message about that parameter:
its value, its own rule and the fix (NaN is refused for every number parameter)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.stores import SqliteStore
from langmem.stores.ranking import Ranking

DEFAULTS = {f.name: f.default for f in dataclasses.fields(Ranking)}
NUMBERS = [name for name in DEFAULTS if name not in ("fusion", "feedback_fetch", "rerank")]


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("dense_weight", 1.5, "goes from 0 to 1"),
        ("b", -0.1, "goes from 0 to 1"),
        ("depth", 0, "is an int from 1 to 1_000_000_000"),
        ("depth", 2.5, "is an int from 1 to 1_000_000_000"),
        ("redundancy_depth", -3, "is an int from 1 to 1_000_000_000"),
        ("recency_half_life", 0.0, "is a number of seconds > 0"),
        ("thread_window", -1, "is a number of seconds >= 0"),
        ("redundancy_threshold", -1.5, "goes from -1 to 1"),
        ("redundancy_ramp", 2.5, "goes from 0 to 2"),
        ("supersede", 1.01, "goes from 0 to 1"),
        ("restate_threshold", 1.1, "goes from -1 to 1"),
        ("centering", -0.2, "goes from 0 to 1"),
        ("feedback_docs", -1, "is an int from 0 to 1_000_000_000"),
        ("feedback_terms", 1.5, "is an int from 0 to 1_000_000_000"),
        ("k1", math.inf, "goes from 0 to 1e6"),
        ("rrf_k", 0, "is a finite number > 0"),
        ("fusion", "dense", "is one of minmax, absolute, rrf, learned"),
        ("feedback_fetch", 1, "is True or False"),
    ],
)
def test_the_message_names_the_parameter_its_value_its_rule_and_the_fix(
    name: str, value: Any, rule: str
) -> None:
    with pytest.raises(ValueError) as caught:
        Ranking(**{name: value})
    assert str(caught.value) == (
        f"Ranking({name}={value!r}) is out of range: {name} {rule}; fix: pass a value in that "
        f"range, e.g. the default {name}={DEFAULTS[name]!r}."
    )
    assert "redundancy_ramp from 0 to 2" not in str(caught.value)  # not the old catch-all


@pytest.mark.parametrize("name", NUMBERS)
@pytest.mark.parametrize("nan", [float("nan"), np.float64("nan")], ids=["float", "numpy"])
def test_nan_is_refused_for_every_number_parameter(name: str, nan: float) -> None:
    options: dict[str, Any] = {name: nan}
    with pytest.raises(ValueError) as caught:
        Ranking(**options)
    message = str(caught.value)
    assert message.startswith(f"Ranking({name}={nan!r}) is out of range (NaN is not a number): ")
    assert f"; fix: pass a value in that range, e.g. the default {name}=" in message


def test_a_string_names_the_parameters_rule_too() -> None:
    with pytest.raises(ValueError) as caught:
        Ranking(restate="0.2")  # type: ignore[arg-type]
    assert str(caught.value) == (
        "Ranking(restate='0.2') is not a number: restate goes from 0 to 1; "
        "fix: pass it as a number, e.g. the default restate=0.0."
    )


def test_values_at_the_edges_and_numpy_numbers_are_taken() -> None:
    edges = Ranking(
        dense_weight=0,
        b=1,
        depth=1,
        redundancy_depth=np.int64(3),  # type: ignore[arg-type]
        thread_window=math.inf,  # no window: every pair of one thread are neighbours
        recency_half_life=math.inf,
        redundancy_threshold=-1,
        redundancy_ramp=2,
        centering=np.float32(1.0),  # type: ignore[arg-type]
        feedback_docs=0,
        rrf_k=1e-9,
        fusion="learned",
        feedback_fetch=True,
    )
    assert edges.depth == 1 and edges.redundancy_depth == 3


@pytest.mark.parametrize("name", ["depth", "redundancy_depth", "feedback_docs", "feedback_terms"])
def test_a_whole_float_count_is_taken_as_an_int(name: str) -> None:
    ranking = Ranking(**{name: 7.0})
    value = getattr(ranking, name)
    assert value == 7 and type(value) is int  # slices and ranges need an int
    with pytest.raises(ValueError, match=rf"Ranking\({name}=7.5\) is out of range"):
        Ranking(**{name: 7.5})
    with pytest.raises(ValueError, match=rf"Ranking\({name}=inf\) is out of range"):
        Ranking(**{name: float("inf")})


def test_a_store_searches_with_a_whole_float_depth(tmp_path: Path) -> None:
    index: Any = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["t"]}
    ranking = Ranking(depth=50.0, redundancy_depth=20.0, supersede=0.3)
    with SqliteStore(tmp_path / "s.sqlite", index=index, ranking=ranking) as store:
        for i in range(30):
            store.put(("u",), str(i), {"t": f"tea number {i}"})
        assert len(store.search(("u",), query="tea", limit=3)) == 3
