"""Numbers in values read back from PostgreSQL as the embedded store returns them: jsonb prints
a float such as 1e16 or 1e308 without exponent, so it came back as an int (10**308 != 1e308)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langgraph.store.base import Item

from langmem.stores import PostgresStore, SqliteStore, copy_store
from langmem.stores._pg_json import dumps

VALUE: dict[str, Any] = {
    "max": 1e308,
    "largest": 1.7976931348623157e308,
    "e16": 1e16,
    "negative": -2.5e20,
    "fraction": 1.2345678901234567e25,
    "below": 1e15,
    "tiny": 5e-324,
    "small": 1e-7,
    "tenth": 0.1,
    "int": 10**20,
    "flag": True,
    "text": "1e+16 is a float",
    "nested": [1e300, {"x": 3e17, "y": [2e22, None]}],
    "e+": {"1e+20": 4e40},
}


def _same(got: Any, want: Any) -> bool:
    """Equal, and of the same type all the way down."""
    if type(got) is not type(want):
        return False
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(_same(got[k], want[k]) for k in want)
    if isinstance(want, list):
        return len(got) == len(want) and all(map(_same, got, want))
    return bool(got == want)


def test_floats_read_back_as_floats_on_every_read(pg_database: str, tmp_path: Path) -> None:
    embedded = SqliteStore(tmp_path / "f.sqlite")
    embedded.put(("n",), "k", VALUE)
    assert _same(embedded.get(("n",), "k").value, VALUE)  # type: ignore[union-attr]
    with PostgresStore.from_url(pg_database) as store:
        store.put(("n",), "k", VALUE)
        item = store.get(("n",), "k")
        assert item is not None and _same(item.value, VALUE), item.value
        assert _same(store.search(("n",))[0].value, VALUE)
        found = store.search(("n",), filter={"e16": 1e16, "max": 1e308})
        assert [i.key for i in found] == ["k"]  # filters compare the numbers, as before
        stamp = item.created_at
        store.restore(
            [Item(value=VALUE, key="r", namespace=("n",), created_at=stamp, updated_at=stamp)]
        )
        assert _same(store.get(("n",), "r").value, VALUE)  # type: ignore[union-attr]
        copied = SqliteStore(tmp_path / "c.sqlite")
        copy_store(store, copied)
        assert _same(copied.get(("n",), "k").value, VALUE)  # type: ignore[union-attr]
        store.put(("n",), "k", {"numpy": np.float64(1e20), "zero": -0.0})
        kept = store.get(("n",), "k").value  # type: ignore[union-attr]
        assert _same(kept["numpy"], 1e20)
        assert kept["zero"] == 0.0 and math.copysign(1, kept["zero"]) == 1  # numeric: no -0.0


@pytest.mark.parametrize("value", [VALUE, {"a": [1, "e+", {"b": None}]}, {3: 1e20, None: 2.0}])
def test_the_text_holds_the_same_json(value: dict[Any, Any]) -> None:
    """What is sent is JSON that parses to what ``json.dumps`` would have sent."""
    assert _same(json.loads(dumps(value)), json.loads(json.dumps(value)))
