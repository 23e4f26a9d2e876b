"""Shared helpers for the extraction tests: a recording store and request shorthands."""

from __future__ import annotations

from typing import Any

from langgraph.store.base import BaseStore, GetOp, Op, Result
from langgraph.store.memory import InMemoryStore

from langmem.testing import HashingEmbeddings, RecordedRequest

USER = "user-1"
CFG = {"configurable": {"langgraph_user_id": USER}}
NS = ("memories", USER)
CONVO = [
    {"role": "user", "content": "I switched from coffee to green tea last month."},
    {"role": "assistant", "content": "Got it, green tea it is."},
]


class RecordingStore(BaseStore):
    """Wraps an InMemoryStore (hashing embeddings) and records every batch as plain ops; the
    reads that check a recorded write's memories just before it (``langmem._expect``: on a
    store that cannot check them in its own transaction) go to ``probes`` instead."""

    def __init__(self, inner: BaseStore | None = None, *, fail_writes: bool = False) -> None:
        self.inner = inner or InMemoryStore(index={"dims": 64, "embed": HashingEmbeddings(64)})
        self.batches: list[list[Op]] = []
        self.probes: list[list[Op]] = []
        self.fail_writes = fail_writes

    def _check(self, ops: list[Op]) -> None:
        if ops and all(isinstance(op, GetOp) and op.refresh_ttl is False for op in ops):
            self.probes.append(ops)
            return
        self.batches.append(ops)
        if self.fail_writes and any(type(op).__name__ == "PutOp" for op in ops):
            raise OSError("disk full")

    def batch(self, ops: Any) -> list[Result]:
        ops = list(ops)
        self._check(ops)
        return self.inner.batch(ops)

    async def abatch(self, ops: Any) -> list[Result]:
        ops = list(ops)
        self._check(ops)
        return await self.inner.abatch(ops)


def system_text(request: RecordedRequest) -> str:
    return str(request.messages[0].content)


def user_text(request: RecordedRequest) -> str:
    return str(request.messages[1].content)


def memory_lines(request: RecordedRequest) -> list[str]:
    """The ``m1: ...`` lines the model was shown."""
    text = user_text(request)
    block = text.split("<memories>", 1)[1].split("</memories>", 1)[0]
    return [line for line in block.strip().splitlines() if line and line != "none"]


def transcript(request: RecordedRequest) -> list[tuple[str, str]]:
    return [(m.type, str(m.content)) for m in request.messages]
