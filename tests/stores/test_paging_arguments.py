"""search/list_namespaces refuse limits and offsets that are not whole numbers >= 0: a negative
limit gave an empty page, a negative offset was ignored and 2.5 was truncated, silently."""

from __future__ import annotations

from typing import Any

import pytest

from langmem.errors import InvalidInputError
from langmem.stores import open_store


@pytest.fixture(scope="module")
def store() -> Any:
    made = open_store("memory://?embed=hashing&dims=16")
    for number in range(5):
        made.put(("n",), f"k{number}", {"text": f"fact {number}"})
    return made


@pytest.mark.parametrize(
    ("limit", "offset", "named"),
    [(-1, 0, "limit=-1"), (2.5, 0, "limit=2.5"), (2, -1, "offset=-1"), (2, None, "offset=None")],
)
def test_bad_pages_are_named(store: Any, limit: Any, offset: Any, named: str) -> None:
    with pytest.raises(InvalidInputError, match=rf"search\({named}\).*whole number of 0 or more"):
        store.search(("n",), query="fact", limit=limit, offset=offset)
    with pytest.raises(InvalidInputError, match=rf"list_namespaces\({named}\)"):
        store.list_namespaces(limit=limit, offset=offset)


async def test_async_calls_are_checked_too(store: Any) -> None:
    with pytest.raises(InvalidInputError, match="limit=-5"):
        await store.asearch(("n",), limit=-5)


def test_whole_pages_work(store: Any) -> None:
    assert store.search(("n",), limit=0) == []
    keys = [item.key for item in store.search(("n",), limit=10**6, offset=3)]
    assert len(keys) == 2
    assert store.list_namespaces(limit=1, offset=0) == [("n",)]


async def test_explain_checks_its_arguments_like_search(store: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"search\(limit=-2\)"):
        store.explain(("n",), "fact", limit=-2)
    with pytest.raises(InvalidInputError, match=r"search\(offset=-1\)"):
        await store.aexplain(("n",), "fact", offset=-1)
    assert [item.key for item, _ in store.explain(("n",), "fact 3", limit=1)] == ["k3"]


@pytest.mark.parametrize("depth", [-1, 1.5, "2", True])
def test_a_negative_or_fractional_max_depth_is_named(store: Any, depth: Any) -> None:
    # -1 cut the last label off every namespace (ns[:-1]): an answer to another question
    with pytest.raises(InvalidInputError, match=rf"list_namespaces\(max_depth={depth!r}\)"):
        store.list_namespaces(max_depth=depth)
    assert store.list_namespaces(max_depth=1) == [("n",)]
