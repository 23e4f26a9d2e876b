"""open_store names the part of a URL it cannot use (and the values it accepts) instead of
ignoring it or passing LangChain's or int()'s error through."""

from __future__ import annotations

from pathlib import Path

import pytest

from langmem.errors import ConfigurationError
from langmem.stores import open_store


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("memory://?embed=bogus", r"embed='bogus'.*'hashing'"),
        ("memory://?embed=nosuchprovider:model", r"embed='nosuchprovider:model' cannot be loaded"),
        ("memory://?embed=hashing&foo=bar", r"unknown parameter\(s\) foo.*embed, dims, fields"),
        ("memory://?embed=hashing&dims=-3", r"dims='-3' is not a whole number of 1 or more"),
        ("", r"the URL is empty"),
        ("   ", r"the URL is empty"),
    ],
)
def test_bad_urls_name_the_value_and_the_fix(url: str, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        open_store(url)


def test_a_sqlite_url_with_an_unknown_parameter_creates_no_file(tmp_path: Path) -> None:
    target = tmp_path / "m.sqlite"
    with pytest.raises(ConfigurationError, match="mode"):
        open_store(f"sqlite:///{target}?mode=ro")
    assert not target.exists()


@pytest.mark.parametrize(
    "url", ["postgresql://u@h/db?ef_search=lots", "postgresql://u@h/db?pool_size=0"]
)
def test_postgres_numbers_are_checked_before_connecting(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"(ef_search|pool_size)=.*whole number"):
        open_store(url)


def test_known_parameters_still_work(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'ok.sqlite'}?embed=hashing&dims=16&fields=text")
    store.put(("n",), "1", {"text": "Ana lands at 7:45"})
    assert [item.key for item in store.search(("n",), query="Ana lands")] == ["1"]
