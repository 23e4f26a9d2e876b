"""`memories add` / `memories update` when another writer got to the memory first, on PostgreSQL
(SQLite and the cases: tests/cli/test_write_conflicts.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext

import pytest

from langmem.stores import PostgresStore
from tests.cli.test_write_conflicts import (
    Backend,
    check_a_memory_that_keeps_changing,
    check_add_of_a_key_created_meanwhile,
    check_add_replace_of_a_key_created_meanwhile,
    check_update_of_a_memory_deleted_meanwhile,
)


@pytest.fixture()
def postgres(pg_database: str) -> Iterator[Backend]:
    with PostgresStore.from_url(pg_database, pool_size=2) as other:
        yield Backend(f"{pg_database}?embed=hashing", PostgresStore, lambda: nullcontext(other))


def test_add_of_a_key_created_meanwhile_is_refused_as_existing(
    postgres: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_add_of_a_key_created_meanwhile(postgres, monkeypatch)


def test_add_replace_of_a_key_created_meanwhile_replaces_it(
    postgres: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_add_replace_of_a_key_created_meanwhile(postgres, monkeypatch)


def test_update_of_a_memory_deleted_in_its_write_is_refused_as_missing(
    postgres: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_update_of_a_memory_deleted_meanwhile(postgres, monkeypatch)


@pytest.mark.parametrize("command", ["update", "add --replace"])
def test_a_memory_that_keeps_changing_is_reported_as_such(
    postgres: Backend, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    check_a_memory_that_keeps_changing(postgres, monkeypatch, command)
