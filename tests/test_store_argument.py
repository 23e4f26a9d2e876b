"""A store URL (or anything else that is not a store object) given as ``store=`` is a
ConfigurationError naming it and the fix (open_store(URL)), from the tools, the store manager,
History and ReflectionExecutor; before, an AttributeError ('str' object has no attribute
'batch') at first use, or (ReflectionExecutor) silently a queue in memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from langmem import (
    History,
    ReflectionExecutor,
    create_manage_memory_tool,
    create_memory_store_manager,
    create_search_memory_tool,
)
from langmem.errors import ConfigurationError
from langmem.testing import ScriptedChatModel

URL = "sqlite:///memories.sqlite"


def _manager(store: Any = None) -> Any:
    return create_memory_store_manager(
        ScriptedChatModel(default="nothing"), namespace=("m",), store=store
    )


USES: dict[str, Callable[[], Any]] = {
    "manage tool": lambda: create_manage_memory_tool(("m",), store=URL).invoke(
        {"content": "x", "action": "create"}
    ),
    "search tool": lambda: create_search_memory_tool(("m",), store=URL).invoke({"query": "x"}),
    "store manager": lambda: _manager(URL).invoke({"messages": [("user", "hi")]}),
    "history": lambda: History(URL).history(("m",), "k"),  # type: ignore[arg-type]
    "executor": lambda: ReflectionExecutor(_manager(), store=URL),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("use", sorted(USES))
def test_a_url_given_as_store_names_the_fix(use: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        USES[use]()
    message = str(caught.value)
    assert f"store={URL!r}" in message
    assert f"open_store({URL!r})" in message


def test_another_object_names_what_to_pass() -> None:
    with pytest.raises(ConfigurationError, match=r"store=42, which is a int.*InMemoryStore\(\)"):
        History(42).history(("m",), "k")  # type: ignore[arg-type]
