"""`langmem memories list | head -1`: the command stops quietly when its reader goes away (exit
141, as `cat` or `grep`), instead of printing "error: [Errno 32] Broken pipe" and exiting 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from langmem.cli._app import SIGPIPE_EXIT
from tests.cli._support import run


def test_a_reader_that_stops_early_gets_no_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}?embed=hashing&dims=16"
    lines = "".join(
        json.dumps(
            {
                "namespace": ["m", "u"],
                "key": f"k{n}",
                "value": {"content": f"memory {n} " + "x" * 400},
                "created_at": "2024-01-01T00:00:00+00:00",
                "updated_at": "2024-01-01T00:00:00+00:00",
            }
        )
        + "\n"
        for n in range(400)  # about 190 kB: more than a pipe holds
    )
    assert run("memories", "import", "-", "--store", url, input=lines).exit_code == 0
    env = {**os.environ, "LANGMEM_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    for command in (["memories", "list", "--limit", "1000"], ["memories", "export"]):
        process = subprocess.Popen(
            [sys.executable, "-m", "langmem", *command, "--store", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert process.stdout is not None and process.stderr is not None
        first = json.loads(process.stdout.readline())
        process.stdout.close()  # what `head -1` does after one line
        error = process.stderr.read().decode()
        assert process.wait(timeout=120) == SIGPIPE_EXIT, error
        assert error == "" and first["namespace"] == ["m", "u"]
