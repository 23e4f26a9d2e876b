"""A worker claims its first task only once it can run it at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WORKER = str(Path(__file__).with_name("_slow_import_worker.py"))
ROOT = str(Path(__file__).resolve().parents[2])


def test_no_task_is_claimed_while_the_worker_still_imports(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, WORKER, str(tmp_path / "q.sqlite")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    # before: "running" (claimed, an attempt used) during the 3 s import; a process killed then
    # lost the attempt without having started the task (3 such kills failed it for good)
    assert done.stdout.split() == ["pending", "1"]
