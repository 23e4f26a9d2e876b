"""Helpers for CLI tests: run the real command in-process, and a store with known contents."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from langmem.cli import cli

SEED = [
    {
        "namespace": ["memories", "alice"],
        "key": "a1",
        "value": {"content": "Alice is allergic to peanuts", "kind": "health"},
        "created_at": "2024-03-01T10:00:00+00:00",
        "updated_at": "2024-03-02T11:30:00+00:00",
    },
    {
        "namespace": ["memories", "alice"],
        "key": "a2",
        "value": {"content": "Alice's daughter Maya turns 7 on 14 March", "kind": "family"},
        "created_at": "2024-03-03T09:15:00+00:00",
        "updated_at": "2024-03-03T09:15:00+00:00",
    },
    {
        "namespace": ["memories", "bob"],
        "key": "b1",
        "value": {"content": "Bob trains for the Berlin marathon", "kind": "sport"},
        "created_at": "2024-01-05T08:00:00+00:00",
        "updated_at": "2024-01-05T08:00:00+00:00",
    },
]


def line(record: dict[str, object]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def seed_text() -> str:
    return "".join(line(r) + "\n" for r in SEED)


def run(*args: str, input: str | None = None) -> Result:
    """The command as a user types it (stdout and stderr apart)."""
    return CliRunner().invoke(
        cli, list(args), input=input, catch_exceptions=False, prog_name="langmem"
    )


def seeded_store(folder: Path) -> str:
    """A store URL (hashing embeddings) holding SEED with its timestamps."""
    url = f"sqlite:///{folder / 'seed.sqlite'}?embed=hashing"
    source = folder / "seed.jsonl"
    source.write_text(seed_text(), encoding="utf-8")
    result = run("memories", "import", str(source), "--store", url)
    assert result.exit_code == 0, result.stderr
    return url
