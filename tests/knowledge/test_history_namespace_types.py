"""History refuses a namespace that is not a tuple of string labels by name: None gave a bare
"'NoneType' object is not iterable" TypeError, an int label reached the store."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from langgraph.store.memory import InMemoryStore

from langmem import History
from langmem.errors import InvalidInputError


@pytest.mark.parametrize("namespace", [None, 5, ("memories", 5), ("memories", None)])
def test_a_namespace_that_is_not_labels_is_named(namespace: Any) -> None:
    store = InMemoryStore()
    history = History(store)
    calls = [
        lambda: history.history(namespace, "k"),
        lambda: history.changes(namespace),
        lambda: history.put(namespace, "k", {"content": "x"}),
        lambda: asyncio.run(history.ahistory(namespace, "k")),
        lambda: asyncio.run(history.adelete(namespace, "k")),
    ]
    for call in calls:
        with pytest.raises(
            InvalidInputError, match=re.escape(f"namespace={namespace!r} is not a tuple")
        ):
            call()
    assert store.search((), limit=10) == []
