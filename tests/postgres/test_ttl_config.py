"""PostgresStore checks its TTLConfig when it opens, with the embedded store's rule and errors
(tests/stores/test_ttl_config.py): a bad ``default_ttl`` used to fail on every put (naming
``ttl``), a string config on the first put (AttributeError), while a bad
``sweep_interval_minutes`` and unknown keys were accepted."""

from __future__ import annotations

import math
from typing import Any

import pytest

from langmem.errors import ConfigurationError
from langmem.stores import PostgresStore, open_store
from tests.stores.test_ttl_config import BAD_CONFIGS

UNREACHABLE = "postgresql://nobody:secret@127.0.0.1:1/nowhere"


@pytest.mark.parametrize(("ttl", "named"), BAD_CONFIGS)
def test_a_bad_ttl_config_is_refused_when_the_store_opens(
    pg_module_database: str, ttl: Any, named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        PostgresStore.from_url(pg_module_database, ttl=ttl)
    with pytest.raises(ConfigurationError, match=named):
        open_store(pg_module_database + "?embed=none", ttl=ttl)
    with pytest.raises(ConfigurationError, match=named):  # named before the server is tried
        PostgresStore.from_url(UNREACHABLE, ttl=ttl)


def test_a_handle_built_on_a_pool_checks_it_too(pg_module_database: str) -> None:
    with (
        PostgresStore.from_url(pg_module_database) as good,
        pytest.raises(ConfigurationError, match=r"ttl\['default_ttl'\]=-1"),
    ):
        PostgresStore(good.conn, url=pg_module_database, ttl={"default_ttl": -1})


def test_valid_ttl_configs_open_and_apply(pg_module_database: str) -> None:
    for ttl in (
        {"default_ttl": 30, "refresh_on_read": False, "omit_expired": True},
        {"default_ttl": 0.5, "sweep_interval_minutes": 0},
        {"default_ttl": math.inf},  # kept as 1e11 minutes (docs/compat.md)
        {},
    ):
        with PostgresStore.from_url(pg_module_database, ttl=ttl) as store:  # type: ignore[arg-type]
            store.put(("n",), "k", {"t": 1})
            item = store.get(("n",), "k")
            assert item is not None and item.value == {"t": 1}
            store.delete(("n",), "k")


@pytest.mark.parametrize("minutes", [-1, 1e-9, math.nan, math.inf])
def test_a_sweeper_interval_outside_the_range_is_refused(
    pg_module_database: str, minutes: float
) -> None:
    """`start_ttl_sweeper(1e-9)` busy-looped the PostgreSQL sweeper (0.33 s CPU per second)."""
    with PostgresStore.from_url(pg_module_database) as store:
        with pytest.raises(ConfigurationError, match=r"sweep_interval_minutes=.* is not usable"):
            store.start_ttl_sweeper(minutes)
        assert store._ttl_sweeper_thread is None  # no thread was started
