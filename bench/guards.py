"""Cost of history, supersede and guards: the same turns with all of it on (the defaults) and off.

Store-manager turns (the model inserts one memory and updates one) on the embedded SQLite store
and on LangGraph's InMemoryStore, 64-d hashing embeddings, and hot-path tool calls (create,
update, delete) on the embedded store. Per scenario: model calls, request tokens (about 4
characters per token) and library time (wall time minus time inside the model, median of
repeats), with the on/off ratio. Turns alternate on and off so machine load hits both alike.

Run: ``.venv/bin/python bench/guards.py`` (``--repeats N``, default 100)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import token_economy_upstream as scenario  # noqa: E402

SIZES = (200, 1000, 5000)
SIDES = ("on", "off")


def cpu_timed_model(scripted: Any) -> Any:
    """A scripted model that adds up wall and CPU seconds spent inside it."""
    base = scenario.timed_model(scripted, [])

    class CpuTimed(type(base)):  # type: ignore[misc]
        model_cpu: float = 0.0

        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return super()._generate(*args, **kwargs)
            finally:
                self.model_cpu += time.process_time() - start

    return CpuTimed(responses=[])


class Turn:
    """One turn's calls, tokens, and library time (wall and CPU, model time excluded)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.requests = len(model.requests)
        self.model_wall, self.model_cpu = model.model_seconds, model.model_cpu
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def result(self, ok: bool) -> dict[str, Any]:
        wall = time.perf_counter() - self.wall - (self.model.model_seconds - self.model_wall)
        cpu = time.process_time() - self.cpu - (self.model.model_cpu - self.model_cpu)
        requests = self.model.requests[self.requests :]
        self.model.requests.clear()
        return {
            "calls": len(requests),
            "tokens": sum(r.approx_tokens() for r in requests),
            "library_ms": wall * 1000,
            "cpu_ms": cpu * 1000,
            "ok": ok,
        }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[0])
    for key in ("library_ms", "cpu_ms", "tokens"):
        out[key] = statistics.median(r[key] for r in runs)
    out["ok"] = all(r["ok"] for r in runs)
    return out


def managers(stores: dict[str, Any]) -> dict[str, Any]:
    from langmem import Guards, configure_trust, create_memory_store_manager
    from langmem.testing import _scripted_model as scripted

    out = {}
    for side in ("on", "off"):
        model = cpu_timed_model(scripted)
        manager = create_memory_store_manager(model, store=stores[side])
        if side == "off":
            configure_trust(manager, guards=Guards.off(), supersede=False, record_history=False)
        out[side] = (manager, model)
    return out


def store_turns(stores: dict[str, Any], repeats: int) -> dict[str, dict[str, Any]]:
    """Alternating turns, each side on its own identically seeded store."""
    from langmem.testing import _scripted_model as scripted

    runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    state = {"messages": scenario.CONVERSATION, "max_steps": 1}
    sides = managers(stores)
    for number in range(repeats):
        for side, (manager, model) in sorted(sides.items(), reverse=number % 2 == 1):
            fact = f"{scenario.NEW_FACT} ({number})"  # the same on both sides
            update = {"id": "m1", "patch": {"content": f"Revised fact {number}"}}
            model.queue(
                scripted.ai_tool_calls(("Memory", {"content": fact}), ("update_memory", update))
            )
            turn = Turn(model)
            writes = manager.invoke(state, scenario.CONFIG)
            runs[side].append(turn.result(len(writes) == 2))
    return {side: median_run(r[len(r) // 10 :]) for side, r in runs.items()}


def tool_calls(store: Any, repeats: int) -> dict[str, dict[str, float]]:
    from langmem import Guards, configure_trust, create_manage_memory_tool

    tools = {
        "on": create_manage_memory_tool(scenario.NAMESPACE, store=store),
        "off": configure_trust(
            create_manage_memory_tool(scenario.NAMESPACE, store=store),
            guards=Guards.off(),
            record_history=False,
        ),
    }
    times: dict[str, dict[str, list[float]]] = {
        side: {"create": [], "update": [], "delete": []} for side in tools
    }
    for number in range(repeats):
        for side, tool in tools.items():
            config = {"configurable": {"run_id": str(uuid.uuid4())}}
            start = time.process_time()
            key = tool.invoke({"content": f"note {number}"}, config).split()[-1]
            times[side]["create"].append(time.process_time() - start)
            start = time.process_time()
            tool.invoke({"action": "update", "id": key, "content": f"note {number}!"}, config)
            times[side]["update"].append(time.process_time() - start)
            start = time.process_time()
            tool.invoke({"action": "delete", "id": key}, config)
            times[side]["delete"].append(time.process_time() - start)
    return {
        side: {op: statistics.median(v) * 1000 for op, v in ops.items()}
        for side, ops in times.items()
    }


ROWS = [*(f"embedded/{size}" for size in SIZES), *(f"in-memory/{size}" for size in SIZES[:2])]


def measure_row(row: str, repeats: int) -> Any:
    """One row, measured in this (fresh) process."""
    from langgraph.store.memory import InMemoryStore

    from langmem.stores import SqliteStore
    from langmem.testing import HashingEmbeddings

    index = {"dims": scenario.DIMS, "embed": HashingEmbeddings(scenario.DIMS)}
    kind, _, size_text = row.partition("/")
    size = int(size_text)
    with tempfile.TemporaryDirectory() as folder:
        if kind == "tools":
            hot = SqliteStore(Path(folder) / "hot.db", index=index)
            scenario.seeded_store(size, hot)
            return tool_calls(hot, repeats)
        stores: dict[str, Any] = {
            side: SqliteStore(Path(folder) / f"{side}.db", index=index)
            if kind == "embedded"
            else InMemoryStore(index=index)
            for side in SIDES
        }
        for store in stores.values():
            scenario.seeded_store(size, store)
        return store_turns(stores, repeats)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--row", help=argparse.SUPPRESS)  # one row, in a child process
    args = parser.parse_args()
    if args.row:
        print(json.dumps(measure_row(args.row, args.repeats)))
        return 0

    def child(row: str) -> Any:
        command = [sys.executable, __file__, "--row", row, "--repeats", str(args.repeats)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    rows = [(row, child(row)) for row in ROWS]  # each in a fresh process: no order effects
    tools = child("tools/1000")

    print("History + supersede + guards (defaults, 'on') vs all off, same scripted model")
    print("Timings on a shared 2-core machine under load from other jobs: compare ratios.")
    print("Library time = turn time minus time inside the model; CPU time is the steadier measure.")
    header = (
        f"{'store-manager turn':<18}{'calls on/off':>13}{'tokens on/off':>15}"
        f"{'wall ms on/off':>17}{'ratio':>7}{'cpu ms on/off':>16}{'ratio':>7}  ok"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    extra_calls = 0
    for name, side in rows:
        on, off = side["on"], side["off"]
        wall = on["library_ms"] / off["library_ms"]
        cpu = on["cpu_ms"] / off["cpu_ms"]
        worst = max(worst, cpu)
        extra_calls += on["calls"] - off["calls"]
        print(
            f"{name:<18}{on['calls']:>7}/{off['calls']:<5}{on['tokens']:>8}/{off['tokens']:<6}"
            f"{on['library_ms']:>9.2f}/{off['library_ms']:<7.2f}{wall:>6.2f}x"
            f"{on['cpu_ms']:>8.2f}/{off['cpu_ms']:<7.2f}{cpu:>6.2f}x"
            f"  {'ok' if on['ok'] and off['ok'] else 'MISMATCH'}"
        )
    print()
    print(
        f"{'manage tool call (embedded, 1,000 memories)':<44}{'cpu ms on':>10}"
        f"{'off':>8}{'ratio':>8}"
    )
    for op in ("create", "update", "delete"):
        on, off = tools["on"][op], tools["off"][op]
        print(f"{op:<44}{on:>10.2f}{off:>8.2f}{on / off:>7.2f}x")
    print()
    print(f"[{'PASS' if extra_calls == 0 else 'FAIL'}] no extra model calls ({extra_calls})")
    print(
        f"[{'PASS' if worst <= 1.10 else 'FAIL'}] store-manager library CPU time per turn "
        f"<= 1.10x: worst {worst:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
