"""The CLI leftovers of session 9 on PostgreSQL (SQLite: tests/cli/test_leftovers_s10.py):
`memories add -k EXISTING` is refused, and a re-embed's dims must be its model's."""

from __future__ import annotations

import json

import psycopg

from tests.cli._support import run
from tests.cli.test_leftovers_s10 import check_add_existing_key


def test_add_with_an_existing_key_is_refused(pg_database: str) -> None:
    check_add_existing_key(f"{pg_database}?embed=hashing")
    with psycopg.connect(pg_database) as conn:
        ops = conn.execute(
            "SELECT value->>'op' FROM store WHERE prefix = '__langmem__.history.memories.alice'"
            " AND value->>'key' = 'k1' ORDER BY value->>'at_epoch'"
        ).fetchall()
    assert [op for (op,) in ops] == ["create", "update"]


def test_reembed_dims_the_model_does_not_make_is_refused(pg_database: str) -> None:
    url = f"{pg_database}?embed=hashing"
    added = run("memories", "add", "Alice likes jazz", "-n", "memories", "--store", url)
    assert added.exit_code == 0, added.stderr
    run("store", "info", "--store", url)
    with psycopg.connect(pg_database, autocommit=True) as conn:  # a store without vectors
        conn.execute("DELETE FROM store_vectors")
    result = run("store", "reembed", "--embed", "minilm", "--dims", "3", "--store", url)
    assert result.exit_code == 1
    assert "error: dims=3 does not match the embeddings: " in result.stderr
    assert "returns vectors of 384 values" in result.stderr
    assert run("store", "reembed", "--embed", "minilm", "--store", url).exit_code == 0
    # the index recorded is MiniLM's, 384 values: new memories are written and found
    added = run("memories", "add", "Bob plays the violin", "-n", "memories", "--store", pg_database)
    assert added.exit_code == 0, added.stderr
    found = run("memories", "search", "music", "-n", "memories", "--store", pg_database)
    assert found.exit_code == 0, found.stderr
    assert json.loads(found.stdout.splitlines()[0])["value"] == {"content": "Bob plays the violin"}
