"""`langmem memories search --ranking rerank=NAME`: a command line cannot pass a function, so
``rerank=`` takes the name of a built-in re-ranker (none ship yet: a clear refusal); the other
re-ranking options parse as every ranking option."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from langmem.stores import _rerank
from tests.cli._support import run
from tests.cli.test_search_ranking import QUERY, url

__all__ = ["url"]


def test_an_unknown_reranker_name_is_refused_with_the_fix(url: str) -> None:
    result = run("memories", "search", QUERY, "--ranking", "rerank=cohere", "--store", url)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        "error: --ranking rerank=cohere: rerank takes the name of a built-in re-ranker (the "
        "names: none are built in yet); a re-ranker of your own (a cross-encoder, an API) is "
        "set from Python: Ranking(rerank=my_reranker) (docs/ranking.md, Re-ranking). Fix: drop "
        "rerank= from --ranking.\n"
    )


def test_a_bad_fallback_value_is_named(url: str) -> None:
    result = run("memories", "search", QUERY, "--ranking", "rerank_fallback=maybe", "--store", url)
    assert result.exit_code == 1
    assert "rerank_fallback is true or false" in result.stderr


def test_a_registered_name_reranks_the_search_and_explain_shows_it(
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[list[str]] = []

    def shortest(query: str, texts: Sequence[str]) -> list[float]:
        asked.append(list(texts))
        return [-float(len(t)) for t in texts]

    monkeypatch.setitem(_rerank.BUILT_IN, "shortest", lambda: shortest)
    plain = run("memories", "search", QUERY, "--explain", "--store", url)
    options = "rerank=shortest,rerank_depth=2,rerank_fallback=false"
    result = run("memories", "search", QUERY, "--explain", "--ranking", options, "--store", url)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    before = [json.loads(x)["key"] for x in plain.stdout.splitlines()]
    assert len(asked) == 1 and len(asked[0]) == 2
    head = sorted(before[:2], key=lambda k: [len(t) for t in asked[0]][before.index(k)])
    assert [r["key"] for r in rows] == [*head, *before[2:]]
    assert [r["explain"]["fused_rank"] for r in rows] == [before.index(r["key"]) + 1 for r in rows]
    assert [r["explain"]["reranked"] is None for r in rows] == [False, False, True]
    table = run(
        "memories", "search", QUERY, "--explain", "--table", "--ranking", options, "--store", url
    )
    assert table.exit_code == 0 and "fused_rank" in table.stdout and "reranked" in table.stdout
