"""``SqliteStore(ranking=...)`` takes a ``Ranking``: anything else is a clear error at once."""

from __future__ import annotations

from typing import Any

import pytest

from langmem.errors import ConfigurationError
from langmem.stores import SqliteStore
from langmem.stores.ranking import Ranking
from langmem.testing import HashingEmbeddings


def _index() -> Any:
    return {"embed": HashingEmbeddings(dims=64), "dims": 64}


@pytest.mark.parametrize("given", [{"restate": 0.2}, "restate", 0.2, True, Ranking])
def test_a_ranking_that_is_not_a_ranking_is_refused_when_the_store_is_made(given: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SqliteStore(":memory:", index=_index(), ranking=given)
    message = str(caught.value)
    assert f"ranking={given!r}" in message
    assert "must be a langmem.stores.ranking.Ranking" in message
    assert "Fix: pass ranking=Ranking(" in message


def test_a_dict_of_options_is_spelled_out_as_the_ranking_to_pass() -> None:
    with pytest.raises(
        ValueError, match=r"Fix: pass ranking=Ranking\(restate=0.2, supersede=0.3\)"
    ):
        SqliteStore(":memory:", index=_index(), ranking={"restate": 0.2, "supersede": 0.3})  # type: ignore[arg-type]


def test_a_ranking_set_later_is_checked_before_searching_and_nothing_is_lost() -> None:
    store = SqliteStore(":memory:", index=_index())
    store.put(("a",), "1", {"content": "I live in Paris"})
    store.ranking = {"restate": 0.2}  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match="not a dict"):
        store.search(("a",), query="Paris")
    store.ranking = Ranking(restate=0.2)
    assert [item.key for item in store.search(("a",), query="Paris")] == ["1"]
    store.ranking = None  # type: ignore[assignment]
    assert [item.key for item in store.search(("a",), query="Paris")] == ["1"]
    assert store.ranking == Ranking()
