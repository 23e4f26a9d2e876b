"""Token-economy scenarios, shared by both sides of ``bench/token_economy.py``.

Imported by the bench for the scenario data; run as a script with upstream langmem 0.0.30's
Python (``python bench/token_economy_upstream.py``) it measures upstream and prints one JSON line.
Everything here needs only langchain-core, langgraph and pydantic, so it works in both envs.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

MANAGER_SIZES = (0, 10, 50, 200)
STORE_SIZES = (10, 200, 1000, 5000)
REPEATS = 15
DIMS = 64
USER = "user-1"
CONFIG = {"configurable": {"langgraph_user_id": USER}}
NAMESPACE = ("memories", USER)
FACT = "User fact {i}: enjoys long hikes on the trails near the lake."
NEW_FACT = "User switched from coffee to green tea last month."
UPDATED_FACT = "User fact 0: enjoys long hikes, now mostly at dawn."
CONVERSATION = [
    {"role": "user", "content": "I switched from coffee to green tea last month."},
    {"role": "assistant", "content": "Got it, green tea it is. Anything else?"},
    {"role": "user", "content": "Also, I hike at dawn these days."},
    {"role": "assistant", "content": "Noted: dawn hikes."},
]


def timed_model(scripted: ModuleType, replies: list[Any]) -> Any:
    """A ScriptedChatModel that also adds up the seconds spent inside the model."""

    class Timed(scripted.ScriptedChatModel):  # type: ignore[misc,name-defined]
        model_seconds: float = 0.0

        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return super()._generate(*args, **kwargs)
            finally:
                self.model_seconds += time.perf_counter() - start

        async def _agenerate(self, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await super()._agenerate(*args, **kwargs)
            finally:
                self.model_seconds += time.perf_counter() - start

    return Timed(responses=list(replies))


def hashing_embeddings() -> Any:
    """Our HashingEmbeddings, imported by path (it needs only langchain-core)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "src/langmem/embeddings/_hashing.py"
    spec = importlib.util.spec_from_file_location("langmem_bench_hashing", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.HashingEmbeddings(DIMS)


def timed(store_class: Any) -> Any:
    """A subclass of ``store_class`` that adds up the seconds spent in ``batch``/``abatch``."""

    class TimedStore(store_class):  # type: ignore[misc,valid-type]
        store_seconds = 0.0

        def batch(self, ops: Any) -> Any:
            start = time.perf_counter()
            try:
                return super().batch(ops)
            finally:
                self.store_seconds += time.perf_counter() - start

        async def abatch(self, ops: Any) -> Any:
            start = time.perf_counter()
            try:
                return await super().abatch(ops)
            finally:
                self.store_seconds += time.perf_counter() - start

    return TimedStore


def seeded_store(size: int, store: Any = None) -> Any:
    """``store`` (default: a timed InMemoryStore, hashing embeddings) holding ``size`` memories."""
    from langgraph.store.base import PutOp
    from langgraph.store.memory import InMemoryStore

    if store is None:
        store = timed(InMemoryStore)(index={"dims": DIMS, "embed": hashing_embeddings()})
    ops = [
        PutOp(NAMESPACE, f"k{i}", {"kind": "Memory", "content": {"content": FACT.format(i=i)}})
        for i in range(size)
    ]
    for start in range(0, len(ops), 500):
        store.batch(ops[start : start + 500])
    return store


def existing_ids(size: int) -> list[str]:
    return [str(uuid.UUID(int=i + 1, version=4)) for i in range(size)]


class Turn:
    """Measures one turn on a reused model (and store): calls, request tokens, library time."""

    def __init__(self, model: Any, store: Any = None) -> None:
        self.model, self.store = model, store
        self.requests = len(model.requests)
        self.model_before = model.model_seconds
        self.store_before = store.store_seconds if store is not None else 0.0
        self.start = time.perf_counter()

    def result(self, ok: bool) -> dict[str, Any]:
        wall = time.perf_counter() - self.start
        requests = self.model.requests[self.requests :]
        library = wall - (self.model.model_seconds - self.model_before)
        in_store = self.store.store_seconds - self.store_before if self.store is not None else 0.0
        # the test double's repr grows with its log (and some callers repr it): keep it small
        self.model.requests.clear()
        return {
            "calls": len(requests),
            "tokens": sum(r.approx_tokens() for r in requests),
            "library_ms": library * 1000,
            "overhead_ms": (library - in_store) * 1000,
            "ok": ok,
        }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[0])
    for key in ("library_ms", "overhead_ms"):
        out[key] = statistics.median(r[key] for r in runs)
    out["ok"] = all(r.get("ok", True) for r in runs)
    return out


def run_upstream_side() -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _upstream import load_scripted_model

    from langmem import create_memory_manager, create_memory_store_manager
    from langmem.knowledge.extraction import Memory

    scripted = load_scripted_model()
    results: dict[str, Any] = {}
    for size in MANAGER_SIZES:
        ids = existing_ids(size)
        calls: list[Any] = [("Memory", {"content": NEW_FACT})]
        if size:
            patch = {"op": "replace", "path": "/content", "value": UPDATED_FACT}
            calls.append(
                ("PatchDoc", {"json_doc_id": ids[0], "planned_edits": "", "patches": [patch]})
            )
        model = timed_model(scripted, [])
        manager = create_memory_manager(model)
        existing = [(ids[i], Memory(content=FACT.format(i=i))) for i in range(size)]
        runs = []
        for _ in range(REPEATS):
            model.queue(scripted.ai_tool_calls(*calls))
            turn = Turn(model)
            out = manager.invoke({"messages": CONVERSATION, "existing": existing})
            contents = {getattr(o.content, "content", None) for o in out}
            runs.append(
                turn.result(NEW_FACT in contents and (not size or UPDATED_FACT in contents))
            )
        results[f"manager/{size}"] = median_run(runs)
    for size in STORE_SIZES:
        store = seeded_store(size)
        for mode in ("invoke", "ainvoke"):
            model = timed_model(scripted, [])
            manager = create_memory_store_manager(model, store=store)
            runs = []
            for number in range(REPEATS):
                fact = f"{NEW_FACT} ({mode} {number})"  # a new fact each turn
                model.queue(scripted.ai_tool_calls(("Memory", {"content": fact})))
                turn = Turn(model, store)
                if mode == "invoke":
                    writes = manager.invoke({"messages": CONVERSATION}, CONFIG)
                else:
                    writes = asyncio.run(manager.ainvoke({"messages": CONVERSATION}, CONFIG))
                runs.append(turn.result(len(writes) == 1))
            results[f"store/{size}/{mode}"] = median_run(runs)
    return results


if __name__ == "__main__":
    print(json.dumps(run_upstream_side()))
