"""Session 9's CLI fixes on PostgreSQL, as on the embedded store (tests/cli/
test_delete_transaction.py and tests/cli/test_hostile_pass9.py): `memories delete K1 K2` is
one transaction, `store reembed --fields` refuses fields that find no text in an indexed memory,
and `memories update` keeps a memory's TTL."""

from __future__ import annotations

import json

import psycopg

from tests.cli._support import run, seed_text
from tests.cli.test_hostile_pass9 import check_update_keeps_ttl


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


def test_fields_that_find_no_text_are_refused(pg_database: str) -> None:
    url = f"{pg_database}?embed=hashing"
    assert run("memories", "import", "-", "--store", url, input=seed_text()).exit_code == 0
    result = run("store", "reembed", "--fields", "contnet", "--store", url)
    assert result.exit_code == 1
    assert "error: fields 'contnet' find no text in 3 of the 3 indexed memories" in (result.stderr)
    again = run("store", "reembed", "--fields", "content", "--store", url)
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["reembedded"] == 3
    hit = run("memories", "search", "marathon", "--limit", "1", "--store", url)
    assert json.loads(hit.stdout)["key"] == "b1"


def test_update_keeps_the_ttl(pg_database: str) -> None:
    check_update_keeps_ttl(f"{pg_database}?embed=hashing")
