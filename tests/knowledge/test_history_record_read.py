"""`History.put` (and restore, release, confirm) answer with the record just written, read back
by its key: one get, however many records the memory has (it listed them all, each time)."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.store.base import BaseStore, GetOp, PutOp, SearchOp

from langmem import History

from ._support import RecordingStore

NS = ("memories", "u")


def test_a_put_reads_its_record_by_key_however_long_the_history(any_store: BaseStore) -> None:
    store = RecordingStore(any_store)
    history = History(store)
    for n in range(30):
        history.put(NS, "profile", {"content": f"value {n}"})
    store.batches.clear()
    record = history.put(NS, "profile", {"content": "last"})

    ops = [op for batch in store.batches for op in batch]
    assert not [op for op in ops if isinstance(op, SearchOp)]
    reads = [op for op in ops if isinstance(op, GetOp)]
    assert [op.key for op in reads] == ["profile", record["change_id"]]
    assert record == history.history(NS, "profile")[-1]
    assert record["previous"] == {"content": "value 29"}
    assert record["value"] == {"content": "last"}


class ForgetfulStore(RecordingStore):
    """Acknowledges history records but does not keep them."""

    def batch(self, ops: Any) -> Any:
        kept = [op for op in ops if not (isinstance(op, PutOp) and "history" in op.namespace)]
        results = super().batch(kept)
        return results + [None] * (len(list(ops)) - len(kept))


def test_a_record_the_store_did_not_keep_is_an_error() -> None:
    history = History(ForgetfulStore())
    with pytest.raises(RuntimeError, match="of the change just written to memory 'k'"):
        history.put(NS, "k", {"content": "x"})
