"""Wall time of `langmem memories search` on a 100k-item embedded store, start-up included.

Builds the store once (``.bench-cache/cli-100k.sqlite``: 100k short memories in 500 user
namespaces, 384-d HashingEmbeddings vectors, so building takes a minute, not the hour MiniLM
would), then runs the real console script in fresh processes and reports the median wall time
of a whole-store search and a one-user search, next to the bare interpreter start-up (the floor
any Python command pays), the command's own start-up (``--version``, ``store info``, which
reads the file with SQL only but imports the store library) and the target (1 s). A search
loads the file's whole vector matrix (the embedded store's design), from the matrix cache beside
the file (``<file>-lmmatrix``, written by the first search that loaded it from SQLite; one
untimed search first makes sure it is there), and, in the "no cache" row, row by row from SQLite
(``LANGMEM_MATRIX_CACHE=0``). A list, get or write does not load the matrix. MiniLM is not in the
timed path: it would add its own load and query-embedding time, measured here separately in a
fresh process.

    python bench/cli.py [--items 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / ".bench-cache"
TARGET_S = 1.0
WORDS = [
    "tea",
    "coffee",
    "marathon",
    "Berlin",
    "Lisbon",
    "peanuts",
    "allergy",
    "daughter",
    "nurse",
    "night",
    "shift",
    "jazz",
    "piano",
    "vegan",
    "cycling",
    "Python",
    "Rust",
    "garden",
    "cat",
    "dog",
    "flight",
    "hotel",
    "Tokyo",
    "birthday",
    "March",
    "dentist",
    "insurance",
    "budget",
    "salary",
    "promotion",
    "manager",
    "sister",
    "brother",
    "wedding",
    "moving",
    "apartment",
]


def build(path: Path, items: int) -> None:
    from langgraph.store.base import Item

    from langmem.embeddings import HashingEmbeddings
    from langmem.stores import SqliteStore

    tmp = path.with_suffix(".building")
    for leftover in tmp.parent.glob(tmp.name + "*"):
        leftover.unlink()
    rng = np.random.default_rng(11)
    store = SqliteStore(tmp, index={"dims": 384, "embed": HashingEmbeddings(384)})
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    for start in range(0, items, 5000):
        batch = []
        for i in range(start, min(items, start + 5000)):
            words = " ".join(WORDS[j] for j in rng.integers(0, len(WORDS), size=8))
            batch.append(
                Item(
                    namespace=("memories", f"user-{i % 500}"),
                    key=f"m{i}",
                    value={"content": f"Memory {i}: {words}"},
                    created_at=when,
                    updated_at=when,
                )
            )
        store.restore(batch)
    store.close()
    tmp.rename(path)
    print(f"built {items} items in {time.perf_counter() - started:.1f} s -> {path}")


def wall(args: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of a fresh process running args."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(times), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"cli-{options.items}.sqlite"
    if not path.exists():
        build(path, options.items)
    command = shutil.which("langmem", path=str(Path(sys.executable).parent))
    assert command, "install langmem into this Python first (make setup)"
    store = ["--store", str(path)]
    cases = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "langmem --version": [command, "--version"],
        "store info (no store opened)": [command, "store", "info", *store],
        "list, one user (no query)": [
            command,
            "memories",
            "list",
            "-n",
            "memories/user-7",
            "-l",
            "10",
            *store,
        ],
        "search, whole store": [command, "memories", "search", "Berlin marathon", *store],
        "search, one user": [
            command,
            "memories",
            "search",
            "Berlin marathon",
            "-n",
            "memories/user-7",
            *store,
        ],
        "search --table": [command, "memories", "search", "tea", "--table", *store],
        "search, no cache": [command, "memories", "search", "Berlin marathon", *store],
    }
    no_cache = {**os.environ, "LANGMEM_MATRIX_CACHE": "0"}
    subprocess.run(cases["search, whole store"], check=True, capture_output=True)  # the cache
    cache = Path(f"{path}-lmmatrix")
    size = f"{cache.stat().st_size / 1e6:.0f} MB" if cache.exists() else "absent"
    print(
        f"{options.items} items, median of {options.runs} fresh processes; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall time suffers from load; "
        f"CPU time less so); matrix cache {size}"
    )
    print(f"{'what':<30}{'wall s':>8}{'/ target 1 s':>14}{'cpu s':>8}")
    for label, args in cases.items():
        seconds, cpu = wall(args, options.runs, no_cache if label.endswith("no cache") else None)
        print(f"{label:<30}{seconds:>8.3f}{seconds / TARGET_S:>13.2f}x{cpu:>8.3f}")
    probe = (
        "import time; t = time.perf_counter(); "
        "from langmem.embeddings import MiniLMEmbeddings; e = MiniLMEmbeddings(); "
        "e.embed_query('Berlin marathon'); print(time.perf_counter() - t)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    if done.returncode == 0:
        print(f"{'+ MiniLM load + 1 query':<30}{float(done.stdout):>8.3f}  (not in the rows above)")
    else:
        print("MiniLM weights not installed: MiniLM start-up not measured")


if __name__ == "__main__":
    main()
