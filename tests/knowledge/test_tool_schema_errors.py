"""create_manage_memory_tool refuses a schema pydantic cannot use when the tool is built; it
failed on the agent's first call with a PydanticUserError (not a LangMemError)."""

from __future__ import annotations

import sys
import typing
from dataclasses import dataclass
from typing import Any

import pytest
import typing_extensions

from langmem import create_manage_memory_tool
from langmem.errors import ConfigurationError
from langmem.stores import open_store

STORE = open_store("memory://?embed=hashing&dims=16")
CONFIG: Any = {"configurable": {"user": "ana"}}


def test_a_schema_that_is_a_string_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError, match=r"schema='Preference' cannot describe.*pydantic"):
        create_manage_memory_tool(("m", "{user}"), store=STORE, schema="Preference")  # type: ignore[arg-type]


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="typing.TypedDict is fine from 3.12")
def test_typing_typeddict_before_312_names_the_fix() -> None:
    class Old(typing.TypedDict):
        food: str

    with pytest.raises(ConfigurationError, match=r"typing_extensions\.TypedDict"):
        create_manage_memory_tool(("m", "{user}"), store=STORE, schema=Old)


class Dish(typing_extensions.TypedDict):
    food: str


@dataclass
class Allergy:
    food: str


@pytest.mark.parametrize(
    ("schema", "content"),
    [(Dish, {"food": "tea"}), (Allergy, {"food": "nuts"}), (list[str], ["a"])],
)
def test_other_types_pydantic_validates_still_work(schema: Any, content: Any) -> None:
    tool = create_manage_memory_tool(("m", "{user}"), store=STORE, schema=schema)
    assert tool.invoke({"content": content}, CONFIG).startswith("created memory ")
