"""Run upstream langmem 0.0.30 side by side with ours, from its own virtual env.

Benchmarks call :func:`upstream_python` to get (creating once) ``.bench-venvs/langmem-0.0.30``
and :func:`run_upstream` to run a scenario script there that prints one JSON object on its last
stdout line. Scenario scripts load our recording chat model with :func:`load_scripted_model`,
which imports ``src/langmem/testing/_scripted_model.py`` by path (it only needs langchain-core and
pydantic), so both sides talk to the very same test double.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
UPSTREAM_VERSION = "0.0.30"
UPSTREAM_VENV = REPO / ".bench-venvs" / f"langmem-{UPSTREAM_VERSION}"


def upstream_python() -> Path:
    """The Python of a virtual env holding upstream langmem (created on first use)."""
    python = UPSTREAM_VENV / "bin" / "python"
    marker = UPSTREAM_VENV / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(UPSTREAM_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"langmem=={UPSTREAM_VERSION}"],
            check=True,
        )
        marker.touch()
    return python


def run_upstream(script: Path, *args: str, timeout: float = 1800) -> Any:
    """Run ``script`` with upstream's Python; return the JSON printed on its last line."""
    proc = subprocess.run(
        [str(upstream_python()), str(script), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(REPO),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"upstream scenario {script.name} failed:\n{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1])


def load_scripted_model() -> ModuleType:
    """Import our ScriptedChatModel module by path (works inside upstream's env too)."""
    path = REPO / "src" / "langmem" / "testing" / "_scripted_model.py"
    spec = importlib.util.spec_from_file_location("langmem_bench_scripted_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def ratio(ours: float, theirs: float) -> str:
    """``ours/theirs`` formatted for a table (``n/a`` when the baseline is zero)."""
    return f"{ours / theirs:.2f}x" if theirs else "n/a"
