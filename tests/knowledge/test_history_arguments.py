"""History refuses a namespace given as a string (it was split into one label per letter, so a
put landed elsewhere) and run or thread ids that name nothing."""

from __future__ import annotations

from typing import Any

import pytest

from langmem import History
from langmem.errors import InvalidInputError
from langmem.stores import open_store


@pytest.fixture
def history() -> History:
    return History(open_store("memory://?embed=hashing&dims=16"))


def test_a_string_namespace_is_refused_before_writing(history: History) -> None:
    with pytest.raises(InvalidInputError, match=r"namespace='memories' is a str.*\('memories',\)"):
        history.put("memories", "k", {"content": "likes tea"})  # type: ignore[arg-type]
    assert history.store.list_namespaces() == []
    with pytest.raises(InvalidInputError, match="not a tuple of labels"):
        history.history("memories", "k")  # type: ignore[arg-type]


async def test_async_reads_refuse_it_too(history: History) -> None:
    with pytest.raises(InvalidInputError, match="not a tuple of labels"):
        await history.asearch("memories", "tea")  # type: ignore[arg-type]


@pytest.mark.parametrize("run_id", [None, "", "  "])
def test_undo_of_no_run_is_refused(history: History, run_id: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"run_id=.* names no run"):
        history.undo_run(run_id)
    with pytest.raises(InvalidInputError, match=r"thread_id=.* names no thread"):
        history.undo_thread(run_id)


def test_tuple_and_list_namespaces_still_work(history: History) -> None:
    history.put(("memories", "ana"), "k", {"content": "likes tea"})
    history.put(["memories", "ana"], "k", {"content": "likes coffee"})  # type: ignore[arg-type]
    records = history.history(("memories", "ana"), "k")
    assert [r["op"] for r in records] == ["create", "update"]
