"""The installed command in real processes: console script, python -m, import lightness."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.cli._support import seed_text


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "LANGMEM_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env.pop("LANGMEM_STORE", None)
    env.pop("OPENAI_API_KEY", None)
    return env


def _langmem() -> str:
    found = shutil.which("langmem", path=str(Path(sys.executable).parent))
    assert found, "the langmem console script is not installed next to this Python"
    return found


def test_console_script_round_trip(tmp_path: Path) -> None:
    source = tmp_path / "seed.jsonl"
    source.write_text(seed_text(), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing"
    env = _env(tmp_path)
    imported = subprocess.run(
        [_langmem(), "memories", "import", str(source), "--store", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stderr == ""  # no progress bar when stderr is not a terminal
    exported = subprocess.run(
        [sys.executable, "-m", "langmem", "memories", "export", "--store", url],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout == seed_text()


def test_errors_are_one_line_unless_debug(tmp_path: Path) -> None:
    args = [_langmem(), "memories", "list", "--store", "redis://x"]
    plain = subprocess.run(args, capture_output=True, text=True, env=_env(tmp_path), timeout=120)
    assert plain.returncode == 1
    assert plain.stdout == ""
    assert plain.stderr.count("\n") == 1
    debug = subprocess.run(
        [*args, "--debug"], capture_output=True, text=True, env=_env(tmp_path), timeout=120
    )
    assert debug.returncode == 1
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.endswith(plain.stderr)


def test_import_langmem_loads_no_cli_library() -> None:
    probe = (
        "import sys, langmem, langmem.stores; "
        "print(sorted(m for m in ('click', 'rich', 'langmem.cli') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout == "[]\n"


def test_demo_runs_offline(tmp_path: Path) -> None:
    done = subprocess.run(
        [_langmem(), "demo"], capture_output=True, text=True, env=_env(tmp_path), timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "== alice: 0 memories from earlier runs" in done.stdout
    assert "Alice is allergic to peanuts" in done.stdout
