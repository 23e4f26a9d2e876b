"""PostgresStore's search, list_namespaces and explain refuse limits and offsets that are not
whole numbers >= 0, as the embedded store does (tests/stores/test_paging_arguments.py): a
negative limit gave an empty page, a negative offset was ignored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from langmem.errors import InvalidInputError
from langmem.stores import PostgresStore
from langmem.testing import HashingEmbeddings


@pytest.fixture(scope="module")
def store(pg_module_database: str) -> Iterator[PostgresStore]:
    index = {"dims": 16, "embed": HashingEmbeddings(16), "fields": ["$"]}
    with PostgresStore.from_url(pg_module_database, index=index) as made:  # type: ignore[arg-type]
        for number in range(5):
            made.put(("n",), f"k{number}", {"text": f"fact {number}"})
        yield made


@pytest.mark.parametrize(
    ("limit", "offset", "named"),
    [(-1, 0, "limit=-1"), (2.5, 0, "limit=2.5"), (2, -1, "offset=-1"), (2, None, "offset=None")],
)
def test_bad_pages_are_named(store: PostgresStore, limit: Any, offset: Any, named: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"search\({named}\).*whole number of 0 or more"):
        store.search(("n",), query="fact", limit=limit, offset=offset)
    with pytest.raises(InvalidInputError, match=rf"search\({named}\)"):
        store.search(("n",), limit=limit, offset=offset)
    with pytest.raises(InvalidInputError, match=rf"list_namespaces\({named}\)"):
        store.list_namespaces(limit=limit, offset=offset)


async def test_async_calls_are_checked_too(store: PostgresStore) -> None:
    with pytest.raises(InvalidInputError, match="limit=-5"):
        await store.asearch(("n",), limit=-5)
    with pytest.raises(InvalidInputError, match=r"list_namespaces\(offset=-1\)"):
        await store.alist_namespaces(offset=-1)


def test_whole_pages_work(store: PostgresStore) -> None:
    assert store.search(("n",), limit=0) == []
    keys = [item.key for item in store.search(("n",), limit=10**6, offset=3)]
    assert len(keys) == 2
    assert store.list_namespaces(limit=1, offset=0) == [("n",)]


async def test_explain_checks_its_arguments_like_search(store: PostgresStore) -> None:
    with pytest.raises(InvalidInputError, match=r"search\(limit=-2\)"):
        store.explain(("n",), "fact", limit=-2)
    with pytest.raises(InvalidInputError, match=r"search\(offset=-1\)"):
        await store.aexplain(("n",), "fact", offset=-1)
    with pytest.raises(InvalidInputError, match="query is text"):
        store.explain(("n",), 5)  # type: ignore[arg-type]
    assert [item.key for item, _ in store.explain(("n",), "fact 3", limit=1)] == ["k3"]
    assert [item.key for item, _ in await store.aexplain(("n",), "fact 3", limit=1)] == ["k3"]


async def test_a_negative_max_depth_is_named(store: PostgresStore) -> None:
    with pytest.raises(InvalidInputError, match=r"list_namespaces\(max_depth=-1\)"):
        store.list_namespaces(max_depth=-1)
    with pytest.raises(InvalidInputError, match=r"max_depth=-2"):
        await store.alist_namespaces(max_depth=-2)
