"""The store contract on PostgresStore (sync and async), each check on a fresh database."""

from __future__ import annotations

import pytest
from langgraph.store.base import BaseStore, IndexConfig, TTLConfig

from langmem.stores import PostgresStore
from langmem.testing import ContractCheck, StoreUnderTest, store_contract

CHECKS = store_contract()


def postgres_target(url: str) -> StoreUnderTest:
    def make(index: IndexConfig | None, ttl: TTLConfig | None) -> BaseStore:
        return PostgresStore.from_url(url, index=index, ttl=ttl, pool_size=4)  # type: ignore[arg-type]

    def url_of(store: BaseStore) -> str:
        assert isinstance(store, PostgresStore)
        return store.url

    return StoreUnderTest(make=make, url_of=url_of, name="PostgresStore")


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("check", CHECKS, ids=str)
def test_postgres_store(check: ContractCheck, mode: str, pg_database: str) -> None:
    check(postgres_target(pg_database), mode)  # type: ignore[arg-type]
