"""``PostgresStore``'s arguments as a new user gives them: ``ranking=`` and the URL's own
``options`` (libpq settings), and ``read_only``."""

from __future__ import annotations

from typing import Any

import pytest

from langmem.errors import ConfigurationError
from langmem.stores import PostgresStore
from langmem.stores.ranking import Ranking
from langmem.testing import HashingEmbeddings


def _index() -> Any:
    return {"embed": HashingEmbeddings(dims=64), "dims": 64}


def test_a_ranking_that_is_not_a_ranking_is_refused(pg_database: str) -> None:
    with pytest.raises(ConfigurationError, match=r"Fix: pass ranking=Ranking\(restate=0.2\)"):
        PostgresStore.from_url(pg_database, index=_index(), ranking={"restate": 0.2})  # type: ignore[arg-type]
    with PostgresStore.from_url(pg_database, index=_index()) as store:
        store.put(("a",), "1", {"content": "I live in Paris"})
        store.ranking = "restate"  # type: ignore[assignment]
        with pytest.raises(ConfigurationError, match="not a str"):
            store.search(("a",), query="Paris")
        store.ranking = Ranking(restate=0.2)
        assert [item.key for item in store.search(("a",), query="Paris")] == ["1"]
