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
REPEATS = 5
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


def seeded_store(size: int) -> Any:
    """An InMemoryStore holding ``size`` memories that adds up the seconds spent in the store."""
    from langgraph.store.base import PutOp
    from langgraph.store.memory import InMemoryStore

    class TimedStore(InMemoryStore):
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

    store = TimedStore(index={"dims": DIMS, "embed": hashing_embeddings()})
    ops = [
        PutOp(NAMESPACE, f"k{i}", {"kind": "Memory", "content": {"content": FACT.format(i=i)}})
        for i in range(size)
    ]
    for start in range(0, len(ops), 500):
        store.batch(ops[start : start + 500])
    return store


def existing_ids(size: int) -> list[str]:
    return [str(uuid.UUID(int=i + 1, version=4)) for i in range(size)]


def measure(
    model: Any, wall: float, store: Any = None, store_before: float = 0.0
) -> dict[str, Any]:
    library = wall - model.model_seconds
    in_store = (store.store_seconds - store_before) if store is not None else 0.0
    return {
        "calls": len(model.requests),
        "tokens": sum(r.approx_tokens() for r in model.requests),
        "library_ms": library * 1000,
        "overhead_ms": (library - in_store) * 1000,
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
        runs = []
        for _ in range(REPEATS):
            calls: list[Any] = [("Memory", {"content": NEW_FACT})]
            if size:
                patch = {"op": "replace", "path": "/content", "value": UPDATED_FACT}
                calls.append(
                    ("PatchDoc", {"json_doc_id": ids[0], "planned_edits": "", "patches": [patch]})
                )
            model = timed_model(scripted, [scripted.ai_tool_calls(*calls)])
            manager = create_memory_manager(model)
            existing = [(ids[i], Memory(content=FACT.format(i=i))) for i in range(size)]
            start = time.perf_counter()
            out = manager.invoke({"messages": CONVERSATION, "existing": existing})
            run = measure(model, time.perf_counter() - start)
            contents = {getattr(o.content, "content", None) for o in out}
            run["ok"] = NEW_FACT in contents and (not size or UPDATED_FACT in contents)
            runs.append(run)
        results[f"manager/{size}"] = median_run(runs)
    for size in STORE_SIZES:
        store = seeded_store(size)
        for mode in ("invoke", "ainvoke"):
            runs = []
            for _ in range(REPEATS):
                reply = scripted.ai_tool_calls(("Memory", {"content": NEW_FACT}))
                model = timed_model(scripted, [reply])
                manager = create_memory_store_manager(model, store=store)
                before, start = store.store_seconds, time.perf_counter()
                if mode == "invoke":
                    writes = manager.invoke({"messages": CONVERSATION}, CONFIG)
                else:
                    writes = asyncio.run(manager.ainvoke({"messages": CONVERSATION}, CONFIG))
                run = measure(model, time.perf_counter() - start, store, before)
                run["ok"] = len(writes) == 1
                runs.append(run)
            results[f"store/{size}/{mode}"] = median_run(runs)
    return results


if __name__ == "__main__":
    print(json.dumps(run_upstream_side()))
