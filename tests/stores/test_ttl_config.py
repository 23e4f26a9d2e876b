"""The embedded store checks its TTLConfig when it opens, naming the key: a bad default_ttl used
to fail on every put (naming `ttl`), a string config on the first put (AttributeError), and
unknown keys were ignored."""

from __future__ import annotations

import math
from typing import Any

import pytest

from langmem.errors import ConfigurationError
from langmem.stores import SqliteStore, open_store

BAD_CONFIGS = [
    ({"default_ttl": -1}, r"ttl\['default_ttl'\]=-1 is not a number of minutes"),
    ({"default_ttl": math.nan}, r"ttl\['default_ttl'\]=nan"),
    ({"default_ttl": "60"}, r"ttl\['default_ttl'\]='60'"),
    ({"sweep_interval_minutes": -5}, r"ttl\['sweep_interval_minutes'\]=-5"),
    # session 9: a tiny interval busy-looped the sweeper, an infinite one killed its thread,
    # and any text (even "false") turned a flag on
    ({"sweep_interval_minutes": 1e-9}, r"ttl\['sweep_interval_minutes'\]=1e-09 is not usable"),
    ({"sweep_interval_minutes": math.inf}, r"ttl\['sweep_interval_minutes'\]=inf is not usable"),
    ({"sweep_interval_minutes": 1e300}, r"is not usable: a sweep interval is 0 \(no sweeper\)"),
    ({"refresh_on_read": "false"}, r"ttl\['refresh_on_read'\]='false' is not True or False"),
    ({"omit_expired": "no"}, r"ttl\['omit_expired'\]='no' is not True or False"),
    ({"default_tll": 60}, r"unknown key\(s\) 'default_tll'.*default_ttl"),
    ("60", r"ttl='60' is not a TTLConfig dict"),
]
"""``(config, what the error says)``; tests/postgres/test_ttl_config.py checks the same."""


@pytest.mark.parametrize(("ttl", "named"), BAD_CONFIGS)
def test_a_bad_ttl_config_is_refused_when_the_store_opens(ttl: Any, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        SqliteStore(":memory:", ttl=ttl)
    with pytest.raises(ConfigurationError, match=named):
        open_store("memory://?embed=none", ttl=ttl)


def test_valid_ttl_configs_open_and_apply() -> None:
    for ttl in (
        {"default_ttl": 30, "refresh_on_read": False, "omit_expired": True},
        {"default_ttl": 0.5, "sweep_interval_minutes": 0},
        {"default_ttl": 1 / 60, "sweep_interval_minutes": 1 / 120},  # LangGraph's test_ttl.py
        {"refresh_on_read": None, "sweep_interval_minutes": None},
        {},
    ):
        store = SqliteStore(":memory:", ttl=ttl)  # type: ignore[arg-type]
        store.put(("n",), "k", {"t": 1})
        item = store.get(("n",), "k")
        assert item is not None and item.value == {"t": 1}
        store.close()


@pytest.mark.parametrize("minutes", [-1, 1e-9, math.nan, math.inf, 1e300])
def test_a_sweeper_interval_outside_the_range_starts_no_thread(minutes: float) -> None:
    """`start_ttl_sweeper(-1)` or `(1e-9)` looped without pause; `(inf)` killed the thread."""
    store = SqliteStore(":memory:", index=None)
    with pytest.raises(ConfigurationError, match=r"sweep_interval_minutes=.* is not usable"):
        store.start_ttl_sweeper(minutes)
    assert not store._sweeper.running
    store.start_ttl_sweeper(0.0005)  # 30 ms: short, and allowed
    assert store._sweeper.running
    store.close()
