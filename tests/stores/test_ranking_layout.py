"""``langmem.stores.ranking`` after its parts moved into their own modules: every name it had
is still there (the same objects), the public classes say they live there, and the examples in
the parts' docstrings run."""

from __future__ import annotations

import doctest
import importlib
import pickle

import pytest

from langmem.stores import ranking as rules

PARTS = [
    "langmem.stores._analyzer",
    "langmem.stores._scoring",
    "langmem.stores._restated",
]


@pytest.mark.parametrize("name", PARTS)
def test_docstring_examples_hold(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


def test_the_names_other_modules_read_are_still_in_ranking() -> None:
    from langmem.stores import _analyzer, _demotions, _scoring

    assert rules._term is _analyzer.term_of and rules._scorer is _scoring.scorer
    assert rules._superseded is _demotions.superseded and rules._by_score is _scoring.by_score
    names = ["_analyzer", "_ranking_options", "_scoring", "_demotions", "_centering", "_provenance"]
    parts = [importlib.import_module(f"langmem.stores.{m}") for m in names]
    for name in rules.__all__:  # each public name is one object, wherever it is defined
        found = {id(getattr(part, name)) for part in parts if hasattr(part, name)}
        assert found <= {id(getattr(rules, name))}, name


@pytest.mark.parametrize("name", ["Candidate", "Corpus", "Document", "Explanation", "Ranking"])
def test_public_classes_live_in_ranking(name: str) -> None:
    cls = getattr(rules, name)
    assert cls.__module__ == "langmem.stores.ranking"
    assert f"langmem.stores.ranking.{name}" in repr(cls)


def test_a_ranking_pickles_by_its_public_path() -> None:
    ranking = rules.Ranking(restate=0.2, depth=30)
    data = pickle.dumps(ranking)
    assert b"langmem.stores.ranking" in data
    assert pickle.loads(data) == ranking
