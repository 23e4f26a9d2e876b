"""The stores the history and guard tests run on: the embedded store, LangGraph's InMemoryStore
and, when a PostgreSQL test server is given (``LANGMEM_TEST_PG_URL``, which ``make test`` sets
once the PostgreSQL store is in), a PostgresStore on a fresh database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from langmem.stores import SqliteStore
from langmem.testing import HashingEmbeddings

INDEX: Any = {"dims": 64, "embed": HashingEmbeddings(64)}
PG_URL = os.environ.get("LANGMEM_TEST_PG_URL", "").strip()


@pytest.fixture(params=["sqlite", "memory", *(["postgres"] if PG_URL else [])])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStore]:
    if request.param == "sqlite":
        with SqliteStore(tmp_path / "m.db", index=INDEX) as sqlite:
            yield sqlite
    elif request.param == "memory":
        yield InMemoryStore(index=INDEX)
    else:
        yield from _postgres_store()


def _postgres_store() -> Iterator[BaseStore]:
    import importlib

    import psycopg

    stores: Any = importlib.import_module("langmem.stores")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    base, _, query = PG_URL.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    try:
        store = stores.PostgresStore.from_url(url, index=INDEX, pool_size=4)
        try:
            yield store
        finally:
            store.close()
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
