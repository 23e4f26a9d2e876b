"""Hostile ``--ranking KEY=VALUE`` input: the option a refusal is about comes from the error
itself (``RankingOptionError.field``), an option given twice is refused, and odd but valid
spellings are taken."""

from __future__ import annotations

from typing import Any

import pytest

from langmem.cli._ranking import parse_ranking
from langmem.errors import ConfigurationError
from langmem.stores.ranking import Ranking
from tests.cli._support import run


@pytest.mark.parametrize(
    ("given", "start"),
    [
        (
            "depth=1e400",
            "--ranking depth=1e400: Ranking(depth=inf) is out of range: depth is an int",
        ),
        (
            "k1=1e7",
            "--ranking k1=1e7: Ranking(k1=10000000.0) is out of range: k1 goes from 0 to 1e6",
        ),
        (
            "thread_window=-5",
            "--ranking thread_window=-5: Ranking(thread_window=-5) is out of range",
        ),
        ("restate=0.2,supersede=inf", "--ranking supersede=inf: Ranking(supersede=inf) is out"),
        ("depth=10,feedback_docs=-1", "--ranking feedback_docs=-1: Ranking(feedback_docs=-1) is"),
        (
            "recency_weight=0x10",
            "--ranking recency_weight=0x10: Ranking(recency_weight='0x10') is ",
        ),
        ("rerank_fallback=2", "--ranking rerank_fallback=2: rerank_fallback is true or false."),
    ],
)
def test_the_refused_option_is_named_from_the_error(given: str, start: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_ranking((given,))
    assert str(caught.value).startswith(start)
    assert "fix" in str(caught.value).lower()


@pytest.mark.parametrize(
    "given",
    [("restate=0.2,restate=0.3",), ("restate=0.2", "restate=0.2"), ("depth=5, depth =5",)],
)
def test_an_option_given_twice_is_refused(given: tuple[str, ...]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_ranking(given)
    message = str(caught.value)
    assert "is given twice" in message and "Fix: keep the one you mean." in message


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((" restate = 0.2 ",), {"restate": 0.2}),
        (("depth=1e3",), {"depth": 1000.0}),
        (("depth=1_000",), {"depth": 1000}),
        (("k1=2", "thread_window=inf"), {"k1": 2, "thread_window": float("inf")}),
        (
            ("feedback_fetch=YES,rerank_fallback=off",),
            {"feedback_fetch": True, "rerank_fallback": False},
        ),
        (("rerank=none",), {"rerank": None}),
    ],
)
def test_odd_but_valid_spellings_are_taken(
    given: tuple[str, ...], expected: dict[str, Any]
) -> None:
    options = parse_ranking(given)
    assert options == expected
    Ranking(**options)  # and the library takes them


def test_a_duplicate_is_refused_on_the_command_line(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    result = run(
        "memories", "search", "tea", "--store", url,
        "--ranking", "restate=0.2", "--ranking", "restate=0.3",
    )  # fmt: skip
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        "error: --ranking restate=0.3: restate is given twice (restate=0.2 before); each "
        "option is given once. Fix: keep the one you mean.\n"
    )
