"""Token economy of memory extraction: upstream langmem 0.0.30 against ours, same scenarios.

Both sides talk to the same recording chat model (our ScriptedChatModel, loaded by path on the
upstream side) with equivalent scripted replies: the memory manager inserts one memory and
updates one when memories exist; the store manager inserts one. Stores are InMemoryStore with
64-d hashing embeddings (numpy on both sides); store-manager turns are also timed on our embedded
SQLite store (ours only). Upstream runs in its own virtual env.

Per scenario it prints model calls, request tokens (messages plus tool schemas, about 4
characters per token) and library time (wall time minus time inside the model, median of
repeats), with ours/upstream ratios, then the issue's targets.

Run: ``.venv/bin/python bench/token_economy.py``
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import token_economy_upstream as scenario  # noqa: E402
from _upstream import ratio, run_upstream, upstream_python  # noqa: E402


def run_ours() -> dict[str, Any]:
    from langmem import create_memory_manager
    from langmem.knowledge.extraction import Memory
    from langmem.testing import _scripted_model as scripted

    results: dict[str, Any] = {}
    for size in scenario.MANAGER_SIZES:
        ids = scenario.existing_ids(size)
        calls: list[Any] = [("Memory", {"content": scenario.NEW_FACT})]
        if size:
            calls.append(
                ("update_memory", {"id": "m1", "patch": {"content": scenario.UPDATED_FACT}})
            )
        model = scenario.timed_model(scripted, [])
        manager = create_memory_manager(model)
        existing = [(ids[i], Memory(content=scenario.FACT.format(i=i))) for i in range(size)]
        runs = []
        for _ in range(scenario.REPEATS):
            model.queue(scripted.ai_tool_calls(*calls))
            turn = scenario.Turn(model)
            out = manager.invoke(
                {"messages": scenario.CONVERSATION, "existing": existing, "max_steps": 1}  # type: ignore[typeddict-item]
            )
            contents = {getattr(o.content, "content", None) for o in out}
            runs.append(
                turn.result(
                    scenario.NEW_FACT in contents
                    and (not size or scenario.UPDATED_FACT in contents)
                )
            )
        results[f"manager/{size}"] = scenario.median_run(runs)
    for size in scenario.STORE_SIZES:
        store = scenario.seeded_store(size)
        results.update(store_turns(size, store, ("invoke", "ainvoke")))
    return results


def run_ours_embedded(folder: Path) -> dict[str, Any]:
    """Store-manager turns on our embedded SQLite store (upstream has no equivalent)."""
    from langmem.stores import SqliteStore
    from langmem.testing import HashingEmbeddings

    results: dict[str, Any] = {}
    for size in scenario.STORE_SIZES:
        index = {"dims": scenario.DIMS, "embed": HashingEmbeddings(scenario.DIMS)}
        store = scenario.timed(SqliteStore)(folder / f"bench-{size}.sqlite", index=index)
        scenario.seeded_store(size, store)
        for name, run in store_turns(size, store, ("invoke",)).items():
            results[name.replace("/invoke", "/embedded")] = run
    return results


def store_turns(size: int, store: Any, modes: tuple[str, ...]) -> dict[str, Any]:
    """Median of repeated store-manager turns (one inserted memory each) on ``store``."""
    from langmem import create_memory_store_manager
    from langmem.testing import _scripted_model as scripted

    results: dict[str, Any] = {}
    for mode in modes:
        model = scenario.timed_model(scripted, [])
        manager = create_memory_store_manager(model, store=store)
        state = {"messages": scenario.CONVERSATION, "max_steps": 1}
        runs = []
        for number in range(scenario.REPEATS):
            fact = f"{scenario.NEW_FACT} ({mode} {number})"  # a new fact each turn
            model.queue(scripted.ai_tool_calls(("Memory", {"content": fact})))
            turn = scenario.Turn(model, store)
            if mode == "invoke":
                writes = manager.invoke(state, scenario.CONFIG)  # type: ignore[arg-type]
            else:
                writes = asyncio.run(manager.ainvoke(state, scenario.CONFIG))  # type: ignore[arg-type]
            runs.append(turn.result(len(writes) == 1))
        results[f"store/{size}/{mode}"] = scenario.median_run(runs)
    return results


def ensure_numpy_upstream() -> None:
    """InMemoryStore falls back to pure-Python vector math without numpy: keep both sides equal."""
    python = str(upstream_python())
    if subprocess.run([python, "-c", "import numpy"], capture_output=True).returncode != 0:
        import numpy

        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", f"numpy=={numpy.__version__}"], check=True
        )


def main() -> int:
    ensure_numpy_upstream()
    theirs = run_upstream(HERE / "token_economy_upstream.py")
    ours = run_ours()
    with tempfile.TemporaryDirectory() as folder:
        embedded = run_ours_embedded(Path(folder))

    header = (
        f"{'scenario':<22}{'calls ours/up':>14}{'tokens ours':>12}{'tokens up':>11}{'ratio':>8}"
        f"{'lib ms ours':>13}{'lib ms up':>11}{'ratio':>8}{'excl. store':>13}  ok"
    )
    print("Token economy: langmem (ours) vs upstream langmem 0.0.30, same scripted model")
    print(header)
    print("-" * len(header))
    for name, up in theirs.items():
        me = ours[name]
        print(
            f"{name:<22}{me['calls']:>7}/{up['calls']:<6}{me['tokens']:>12}{up['tokens']:>11}"
            f"{ratio(me['tokens'], up['tokens']):>8}{me['library_ms']:>13.2f}"
            f"{up['library_ms']:>11.2f}{ratio(me['library_ms'], up['library_ms']):>8}"
            f"{me['overhead_ms']:>6.2f}/{up['overhead_ms']:<6.2f}"
            f"  {'ok' if me['ok'] and up['ok'] else 'MISMATCH'}"
        )

    print()
    print("Store-manager turns on our embedded SQLite store (no upstream equivalent)")
    for name, me in embedded.items():
        print(
            f"{name:<22}{me['calls']:>7}{'':<7}{me['tokens']:>12}{'':>19}{me['library_ms']:>13.2f}"
            f"{'':>19}{me['overhead_ms']:>6.2f}{'':<7}  {'ok' if me['ok'] else 'MISMATCH'}"
        )

    def per_memory(side: dict[str, Any]) -> float:
        big = scenario.MANAGER_SIZES[-1]
        return float(side[f"manager/{big}"]["tokens"] - side["manager/0"]["tokens"]) / big

    big = scenario.MANAGER_SIZES[-1]
    store_rows = [k for k in theirs if k.startswith("store/")]
    store_ratio = max(ours[k]["tokens"] / theirs[k]["tokens"] for k in store_rows)
    lib_1000 = ours["store/1000/invoke"]["library_ms"]
    own_1000 = ours["store/1000/invoke"]["overhead_ms"]
    embedded_1000 = embedded["store/1000/embedded"]["library_ms"]
    checks = [
        (
            "model calls never above upstream",
            all(ours[k]["calls"] <= theirs[k]["calls"] for k in theirs),
            "",
        ),
        (
            "memory manager tokens per existing memory <= 0.5x",
            per_memory(ours) <= 0.5 * per_memory(theirs),
            f"{per_memory(ours):.1f} vs {per_memory(theirs):.1f} "
            f"({ratio(per_memory(ours), per_memory(theirs))})",
        ),
        (
            f"memory manager total tokens at {big} existing <= 0.5x",
            ours[f"manager/{big}"]["tokens"] <= 0.5 * theirs[f"manager/{big}"]["tokens"],
            ratio(ours[f"manager/{big}"]["tokens"], theirs[f"manager/{big}"]["tokens"]),
        ),
        ("store manager turn tokens <= 0.7x", store_ratio <= 0.7, f"worst {store_ratio:.2f}x"),
        (
            "store manager library time at 1,000 memories <= 5 ms (embedded store)",
            embedded_1000 <= 5.0,
            f"{embedded_1000:.2f} ms",
        ),
    ]
    print()
    for label, passed, detail in checks:
        print(f"[{'PASS' if passed else 'FAIL'}] {label}{': ' + detail if detail else ''}")
    print(
        f"[INFO] store manager library time at 1,000 memories: {lib_1000:.2f} ms on "
        f"InMemoryStore, of which {own_1000:.2f} ms outside the store"
    )
    mismatches = [k for k in theirs if not (ours[k]["ok"] and theirs[k]["ok"])]
    mismatches += [k for k, run in embedded.items() if not run["ok"]]
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
