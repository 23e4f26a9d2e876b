"""The `langmem` command on PostgreSQL: lossless import/export and copies both ways."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli._support import run, seed_text, seeded_store


def test_import_export_keeps_timestamps(pg_database: str) -> None:
    url = f"{pg_database}?embed=hashing"
    imported = run("memories", "import", "-", "--store", url, input=seed_text())
    assert imported.exit_code == 0, imported.stderr
    assert run("memories", "export", "--store", url).stdout == seed_text()
    hit = run("memories", "search", "peanuts", "--limit", "1", "--store", url)
    assert '"key":"a1"' in hit.stdout


def test_copy_embedded_to_postgres_and_back(tmp_path: Path, pg_database: str) -> None:
    embedded = seeded_store(tmp_path)
    postgres = f"{pg_database}?embed=hashing"
    there = run("store", "copy", embedded, postgres)
    assert there.exit_code == 0, there.stderr
    assert json.loads(there.stdout)["vectors"] == "copied"  # copy_store: as stored, no re-embed
    back = f"sqlite:///{tmp_path / 'back.sqlite'}?embed=hashing"
    again = run("store", "copy", postgres, back)
    assert json.loads(again.stdout) == {
        "copied": 3,
        "vectors": "copied",
        "source": postgres.replace(":langmem-test@", ":***@"),
        "target": back,
    }
    assert run("memories", "export", "--store", back).stdout == seed_text()


def test_store_info_hides_the_password(pg_database: str) -> None:
    url = f"{pg_database}?embed=hashing"
    run("memories", "import", "-", "--store", url, input=seed_text())
    result = run("store", "info", "--store", url)
    assert result.exit_code == 0, result.stderr
    assert "langmem-test" not in result.stdout
    record = json.loads(result.stdout)
    assert record["store"].startswith("postgresql://postgres:***@")
    assert record["index"] == {  # as the database records it
        "embeddings": "langmem-hashing-384",
        "dims": 384,
        "fields": ["$"],
        "generation": 0,
    }
    assert record["memories"] == 3
    assert record["namespaces"] == {"memories/alice": 2, "memories/bob": 1}
    assert record["internal_records"] == 0
    assert record["size_bytes"] > 0


def test_store_info_counts_internal_records_apart(pg_database: str) -> None:
    """History records written by changes are not memories (nor namespaces)."""
    import psycopg

    url = f"{pg_database}?embed=hashing"
    run("memories", "import", "-", "--store", url, input=seed_text())
    for args in (
        ["add", "likes green tea", "-n", "memories/carol"],
        ["update", "b1", "likes oolong", "-n", "memories/bob"],
        ["delete", "a2", "-n", "memories/alice"],
    ):
        changed = run("memories", *args, "--store", url)
        assert changed.exit_code == 0, changed.stderr
    with psycopg.connect(pg_database) as conn:
        row = conn.execute(
            "SELECT count(*) FROM store WHERE split_part(prefix, '.', 1) = '__langmem__'"
        ).fetchone()
    assert row is not None and row[0] >= 3
    record = json.loads(run("store", "info", "--store", url).stdout)
    assert record["memories"] == 3
    assert record["namespaces"] == {"memories/alice": 1, "memories/bob": 1, "memories/carol": 1}
    assert record["internal_records"] == row[0]


def test_bad_password_is_one_line(pg_database: str) -> None:
    scheme, rest = pg_database.split("://", 1)
    host = rest.split("@", 1)[1]
    result = run("memories", "list", "--store", f"{scheme}://postgres:wrong@{host}")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "wrong" not in result.stderr
    assert "password authentication failed" in result.stderr


def test_queue_on_postgres(pg_database: str) -> None:
    from langmem.stores import open_store

    store = open_store(f"{pg_database}?embed=hashing")
    queue = store.task_queue()  # type: ignore[attr-defined]
    task = queue.enqueue(queue="reflection", thread_key="t1", payload={"n": 1}, now=100.0).task
    queue.close()
    store.close()
    listed = run("queue", "list", "--store", pg_database)
    assert [json.loads(x)["id"] for x in listed.stdout.splitlines()] == [task.id]
    shown = json.loads(run("queue", "show", task.id, "--store", pg_database).stdout)
    assert (shown["status"], shown["payload"], shown["due_at"]) == (
        "pending",
        {"n": 1},
        "1970-01-01T00:01:40Z",
    )


def _rounded(line: str) -> object:
    def walk(value: object) -> object:
        if isinstance(value, float):
            return round(value, 5)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(json.loads(line))


def test_search_explain_matches_the_embedded_store(tmp_path: Path, pg_database: str) -> None:
    embedded = seeded_store(tmp_path)
    postgres = f"{pg_database}?embed=hashing"
    assert run("memories", "import", "-", "--store", postgres, input=seed_text()).exit_code == 0
    shown = []
    for url in (embedded, postgres):
        result = run("memories", "search", "peanuts allergy", "--explain", "--store", url)
        assert result.exit_code == 0, result.stderr
        shown.append([_rounded(line) for line in result.stdout.splitlines()])
    assert shown[0], "nothing found: the comparison would prove nothing"
    assert shown[1] == shown[0]


def test_search_ranking_options_score_as_on_the_embedded_store(
    tmp_path: Path, pg_database: str
) -> None:
    from tests.cli.test_search_ranking import QUERY, tellings_text

    embedded = f"sqlite:///{tmp_path / 'tellings.sqlite'}?embed=hashing"
    postgres = f"{pg_database}?embed=hashing"
    shown = []
    for url in (embedded, postgres):
        assert run("memories", "import", "-", "--store", url, input=tellings_text()).exit_code == 0
        args = ("--ranking", "restate=0.2,restate_threshold=0.3", "--explain", "--store", url)
        result = run("memories", "search", QUERY, *args)
        assert result.exit_code == 0, result.stderr
        shown.append([_rounded(line) for line in result.stdout.splitlines()])
    restated = [r["explain"]["restated"] for r in shown[1]]  # type: ignore[index]
    assert len(restated) == 3 and sum(1 for r in restated if r > 0) == 2  # the option applied
    assert shown[1] == shown[0]


def test_ttls_export_from_postgres_as_from_the_embedded_store(
    tmp_path: Path, pg_database: str
) -> None:
    from langmem.stores import SqliteStore

    embedded = seeded_store(tmp_path)
    store = SqliteStore(tmp_path / "seed.sqlite")
    store.put(("memories", "alice"), "t1", {"content": "Alice is in Lisbon this week"}, ttl=90)
    store.close()
    postgres = f"{pg_database}?embed=hashing"
    assert run("store", "copy", embedded, postgres).exit_code == 0  # TTLs copied as stored
    exported = run("memories", "export", "--store", embedded).stdout
    assert '"ttl_minutes":90.0,"expires_at":' in exported
    assert run("memories", "export", "--store", postgres).stdout == exported
    # importing into PostgreSQL keeps each TTL and its exact expiry, as the embedded store
    other = run("memories", "import", "-", "--store", postgres, input=exported)
    assert other.exit_code == 0 and other.stderr == ""
    assert run("memories", "export", "--store", postgres).stdout == exported
    # an item whose TTL ran out on the way is imported expired: kept, but not returned
    stamp = exported.split('"expires_at":"', 1)[1].split('"', 1)[0]
    gone = exported.replace(stamp, "2020-01-01T00:00:00+00:00")
    assert run("memories", "import", "-", "--store", postgres, input=gone).exit_code == 0
    found = run("memories", "get", "t1", "-n", "memories/alice", "--store", postgres)
    assert found.exit_code == 1 and "no memory with key 't1'" in found.stderr


def test_the_recorded_index_is_read_as_the_store_records_it(pg_database: str) -> None:
    from langmem.cli._target import recorded_postgres_index
    from langmem.embeddings import HashingEmbeddings
    from langmem.stores import PostgresStore

    assert recorded_postgres_index(pg_database) is None  # no langmem table yet
    with PostgresStore.from_url(pg_database):  # tables, but no index recorded
        pass
    assert recorded_postgres_index(pg_database) is None
    index = {"dims": 8, "embed": HashingEmbeddings(8), "fields": ["text", "$"]}
    with PostgresStore.from_url(pg_database, index=index):  # type: ignore[arg-type]
        pass
    assert recorded_postgres_index(pg_database) == {
        "embeddings": "langmem-hashing-8",
        "dims": 8,
        "fields": ["$", "text"],
        "generation": 0,
    }
    assert recorded_postgres_index("postgresql://nobody:x@127.0.0.1:1/none") is None
