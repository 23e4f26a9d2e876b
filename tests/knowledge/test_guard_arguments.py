"""Guards and configure_trust refuse values of the wrong kind when made, with a
ConfigurationError naming the argument, the value and the rule, instead of a TypeError or
AttributeError there or later (or a truthy string silently turning a guard on)."""

from __future__ import annotations

from typing import Any

import pytest

from langmem import Guards, configure_trust, create_manage_memory_tool
from langmem.errors import ConfigurationError
from langmem.stores import open_store


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"max_deletes": "3"}, "max_deletes='3'"),
        ({"max_deletes": 1.5}, "max_deletes=1.5"),
        ({"max_delete_share": "half"}, "max_delete_share='half'"),
        ({"window_seconds": -1}, "window_seconds=-1"),
        ({"window_seconds": float("inf")}, "window_seconds=inf"),
        ({"window_seconds": "60"}, "window_seconds='60'"),
        ({"quote": "no"}, "quote='no'"),
        ({"redact_pii": "no"}, "redact_pii='no'"),
        ({"pii_patterns": ["a"]}, "pii_patterns=['a']"),
        ({"pii_patterns": {"": "a"}}, "pii_patterns['']"),
        ({"pii_patterns": {"zip": 5}}, "pii_patterns['zip']=5"),
    ],
)
def test_wrong_kinds_are_refused(arguments: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Guards(**arguments)
    assert named in str(caught.value)


def test_valid_guards_still_work() -> None:
    guards = Guards(max_deletes=2.0, window_seconds=30, redact_pii=True, pii_patterns={"z": "x"})
    assert guards.max_deletes == 2
    assert Guards.off().max_deletes is None


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"guards": "on"}, "guards='on'"),
        ({"guards": {"max_deletes": 5}}, "guards={'max_deletes': 5}"),
        ({"supersede": "yes"}, "supersede='yes'"),
        ({"record_history": 0}, "record_history=0"),
    ],
)
def test_configure_trust_refuses_wrong_kinds(arguments: dict[str, Any], named: str) -> None:
    tool = create_manage_memory_tool(("memories",), store=open_store("memory://?embed=none"))
    with pytest.raises(ConfigurationError) as caught:
        configure_trust(tool, **arguments)
    assert named in str(caught.value)
