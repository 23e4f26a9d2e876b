"""`langmem memories delete K1 K2 ...` on PostgreSQL is one transaction, as on the embedded
store (tests/cli/test_delete_transaction.py): a failure at the second key deletes none."""

from __future__ import annotations

import json

import psycopg

from tests.cli._support import run, seed_text


def test_a_failure_at_one_key_deletes_none(pg_database: str) -> None:
    url = f"{pg_database}?embed=hashing"
    assert run("memories", "import", "-", "--store", url, input=seed_text()).exit_code == 0
    with psycopg.connect(pg_database, autocommit=True) as conn:  # the server fails at a2
        conn.execute(
            "CREATE FUNCTION fail_a2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF old.key = 'a2' THEN RAISE EXCEPTION 'simulated failure at a2'; END IF;"
            " RETURN old; END $$"
        )
        conn.execute(
            "CREATE TRIGGER fail_a2 BEFORE DELETE ON store FOR EACH ROW EXECUTE FUNCTION fail_a2()"
        )
    result = run("memories", "delete", "a1", "a2", "-n", "memories/alice", "--store", url)
    assert result.exit_code == 1
    assert "simulated failure at a2" in result.stderr
    listed = run("memories", "list", "-n", "memories", "--store", url).stdout.splitlines()
    assert sorted(json.loads(x)["key"] for x in listed) == ["a1", "a2", "b1"]
    with psycopg.connect(pg_database, autocommit=True) as conn:
        records = conn.execute("SELECT count(*) FROM store WHERE prefix LIKE '\\_\\_langmem%'")
        assert records.fetchone() == (0,)  # no change recorded either
        conn.execute("DROP TRIGGER fail_a2 ON store")
    result = run("memories", "delete", "a1", "a2", "-n", "memories/alice", "--store", url)
    assert result.exit_code == 0, result.stderr
    listed = run("memories", "list", "-n", "memories", "--store", url).stdout.splitlines()
    assert [json.loads(x)["key"] for x in listed] == ["b1"]
    with psycopg.connect(pg_database, autocommit=True) as conn:
        records = conn.execute("SELECT count(*) FROM store WHERE prefix LIKE '\\_\\_langmem%'")
        assert records.fetchone() == (2,)
