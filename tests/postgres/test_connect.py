"""Opening a PostgresStore: URL handling, the session settings, clear errors without secrets."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from langmem.embeddings import HashingEmbeddings
from langmem.errors import LangMemError, StoreConnectionError
from langmem.stores import PostgresStore, open_store
from langmem.stores._pg_connect import redact, split_url


def test_open_store_gives_a_configured_postgres_store(pg_database: str) -> None:
    store = open_store(f"{pg_database}?embed=hashing&dims=32&fields=text&ef_search=80")
    try:
        assert isinstance(store, PostgresStore)
        with store.conn.connection() as conn:  # type: ignore[attr-defined]
            settings = {
                name: conn.execute(f"SHOW {name}").fetchone()["hnsw." + name.split(".")[1]]
                for name in ("hnsw.iterative_scan", "hnsw.ef_search")
            }
        assert settings == {"hnsw.iterative_scan": "relaxed_order", "hnsw.ef_search": "80"}
        store.put(("docs",), "1", {"text": "Ana's flight LH-1234 lands at 7:45"})
        store.put(("docs",), "2", {"text": "the cat sleeps on the sofa"})
        hits = store.search(("docs",), query="LH-1234")
        assert [h.key for h in hits][:1] == ["1"]
    finally:
        store.close()  # type: ignore[attr-defined]


def test_langmem_parameters_stay_out_of_libpq() -> None:
    conninfo, ours = split_url("postgres://u:p@h:5/db?sslmode=require&embed=hashing&dims=8")
    assert conninfo == "postgresql://u:p@h:5/db?sslmode=require"
    assert ours == {"embed": "hashing", "dims": "8"}


def test_redact_hides_passwords_only() -> None:
    assert redact("postgresql://ana:pw@h:5432/db") == "postgresql://ana:***@h:5432/db"
    assert redact("postgresql://h/db?password=pw&sslmode=require") == (
        "postgresql://h/db?password=***&sslmode=require"
    )
    assert redact("postgresql://h/db") == "postgresql://h/db"


def test_unreachable_server_is_explained() -> None:
    url = "postgresql://app:topsecret@127.0.0.1:1/memories"  # nothing listens on port 1
    with pytest.raises(StoreConnectionError) as caught:
        open_store(f"{url}?embed=hashing&dims=8")
    message = str(caught.value)
    assert "postgresql://app:***@127.0.0.1" in message and "topsecret" not in message
    assert "start the server" in message
    assert isinstance(caught.value, LangMemError)


def test_wrong_password_is_explained(pg_server: str) -> None:
    parts = urlsplit(pg_server)
    wrong = pg_server.replace(f":{parts.password}@", ":not-the-password@")
    with pytest.raises(StoreConnectionError) as caught:
        PostgresStore.from_url(wrong)
    message = str(caught.value)
    assert "password authentication failed" in message
    assert "not-the-password" not in message and ":***@" in message
    assert "check the user name and password" in message


def test_missing_database_is_explained(pg_server: str) -> None:
    url = pg_server.rsplit("/", 1)[0] + "/no_such_db_here"
    with pytest.raises(StoreConnectionError, match="create the database"):
        PostgresStore.from_url(url)


def test_missing_vector_extension_is_explained(pg_database: str) -> None:
    # a role that may not create the extension stands for a server without pgvector
    parts = urlsplit(pg_database)
    with psycopg.connect(pg_database, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS lm_plain")
        admin.execute("CREATE ROLE lm_plain LOGIN PASSWORD 'plainpw'")
        admin.execute(f"GRANT ALL ON DATABASE {parts.path.lstrip('/')} TO lm_plain")
        admin.execute("GRANT ALL ON SCHEMA public TO lm_plain")
    url = pg_database.replace(f"{parts.username}:{parts.password}@", "lm_plain:plainpw@")
    try:
        with pytest.raises(StoreConnectionError) as caught:
            PostgresStore.from_url(url, index={"dims": 8, "embed": HashingEmbeddings(8)})
        message = str(caught.value)
        assert "vector" in message and "install pgvector" in message
        assert "plainpw" not in message
    finally:
        with psycopg.connect(pg_database, autocommit=True) as admin:
            admin.execute("DROP OWNED BY lm_plain")
            admin.execute("DROP ROLE lm_plain")


def test_setup_from_many_processes_at_once(pg_database: str) -> None:
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from langmem.stores import open_store\n"
        "s = open_store(sys.argv[1])\n"
        "s.put(('p',), sys.argv[2], {'text': 'hello'})\n"
        "s.close()\n"
    )
    url = f"{pg_database}?embed=hashing&dims=16"
    procs = [
        subprocess.Popen([sys.executable, "-c", script, url, str(i)], stderr=subprocess.PIPE)
        for i in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    with psycopg.connect(pg_database) as conn:
        assert conn.execute("SELECT count(*) FROM store").fetchone()[0] == 4  # type: ignore[index]
        versions = conn.execute("SELECT count(*) FROM langmem_vector_migrations").fetchone()
        assert versions is not None and versions[0] >= 1
