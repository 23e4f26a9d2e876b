"""``PostgresStore``'s arguments as a new user gives them: ``ranking=`` and the URL's own
``options`` (libpq settings), and ``read_only``."""

from __future__ import annotations

from typing import Any

import pytest

from langmem.errors import ConfigurationError, LangMemError
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


def test_the_urls_own_options_reach_the_server_with_spaces_intact(pg_database: str) -> None:
    url = f"{pg_database}?options=-c%20statement_timeout%3D4321"
    with PostgresStore.from_url(url, index=_index()) as store, store._transaction() as cur:
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone()["statement_timeout"] == "4321ms"
        cur.execute("SHOW hnsw.ef_search")  # langmem's own settings are kept too
        assert cur.fetchone()["hnsw.ef_search"] != ""


def test_read_only_is_false_on_a_writable_database_and_true_on_a_read_only_one(
    pg_database: str,
) -> None:
    from langmem.stores import _pg_connect

    with PostgresStore.from_url(pg_database, index=_index()) as store:
        assert store.read_only is False
        store.put(("a",), "1", {"content": "I live in Paris"})
    read_only = f"{pg_database}?options=-c%20default_transaction_read_only%3Don"
    conninfo, _ = _pg_connect.split_url(read_only)
    pool = _pg_connect.make_pool(conninfo, ef_search=40, max_size=2)
    try:
        reader = PostgresStore(pool, url=read_only)
        assert reader.read_only is True
    finally:
        pool.close()


def test_opening_a_read_only_database_not_set_up_says_why_and_what_to_do(
    pg_database: str,
) -> None:
    """A read-only database is opened without writing when its tables are there and current
    (tests/postgres/test_read_only.py); one never set up cannot be, and says so."""
    url = f"{pg_database}?options=-c%20default_transaction_read_only%3Don"
    with pytest.raises(LangMemError) as caught:
        PostgresStore.from_url(url, index=_index())
    message = str(caught.value)
    assert "it is read-only (default_transaction_read_only is on" in message
    assert "its tables are not set up" in message and "store_migrations is missing" in message
    assert "Fix: open it once where it can be written" in message
    assert "reachable" not in message
