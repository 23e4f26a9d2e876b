"""Import cost of langmem against upstream langmem 0.0.30, measured in fresh interpreters.

Prints, for ``import langmem`` and for importing the hot-path tools, the median wall time over
several runs and the number of modules loaded, with ours/upstream ratios.

Run: ``.venv/bin/python bench/import_time.py``
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _upstream import ratio, upstream_python

RUNS = 7
STATEMENTS = {
    "import langmem": "import langmem",
    "tools": "from langmem import create_manage_memory_tool, create_search_memory_tool",
}
PROBE = (
    "import sys, time; t = time.perf_counter(); {stmt}; "
    "print(time.perf_counter() - t, len(sys.modules))"
)


def measure(python: str, stmt: str) -> tuple[float, int]:
    times, modules = [], 0
    for _ in range(RUNS):
        out = subprocess.run(
            [python, "-c", PROBE.format(stmt=stmt)], capture_output=True, text=True, check=True
        ).stdout.split()
        times.append(float(out[0]))
        modules = int(out[1])
    return statistics.median(times), modules


def main() -> None:
    theirs_python = str(upstream_python())
    print(
        f"{'what':<16}{'ours s':>10}{'upstream s':>12}{'ratio':>8}{'ours mods':>11}{'up mods':>9}"
    )
    for label, stmt in STATEMENTS.items():
        ours_t, ours_m = measure(sys.executable, stmt)
        up_t, up_m = measure(theirs_python, stmt)
        print(
            f"{label:<16}{ours_t:>10.3f}{up_t:>12.3f}{ratio(ours_t, up_t):>8}{ours_m:>11}{up_m:>9}"
        )


if __name__ == "__main__":
    main()
