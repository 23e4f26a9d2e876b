"""Every public name of upstream langmem 0.0.30 imports from the same module, with the same
parameters (names, order, kinds) and the same plain defaults.

The listing is ``tests/compat/upstream-api.md`` (a copy of ``shared/spec/upstream-api.md``).
Names that a later issue brings are in ``PENDING`` and run as strict expected failures: when the
name lands, its test passes, the strict xfail fails, and the entry must be removed here.
"""

from __future__ import annotations

import importlib
import inspect
import types
from typing import Any

import pytest

from tests.compat._spec import Entry, entries, plain_default

# Defaults that are prompt or instruction text: ours to write, never upstream's wording.
PROSE_PARAMETERS = {"instructions", "prompt"}

# Deliberate differences (see docs/compat.md): checked by their own tests instead.
DIFFERENCES = {
    "langmem.errors:ConfigurationError": "an Exception (and ValueError), not a BaseException",
}

PENDING: dict[str, str] = {}


def _resolve(entry: Entry) -> Any:
    obj: Any = importlib.import_module(entry.module)
    for part in entry.name.split("."):
        obj = inspect.getattr_static(obj, part) if isinstance(obj, type) else getattr(obj, part)
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    return obj


_KINDS = {
    "positional_only": inspect.Parameter.POSITIONAL_ONLY,
    "positional_or_keyword": inspect.Parameter.POSITIONAL_OR_KEYWORD,
    "keyword_only": inspect.Parameter.KEYWORD_ONLY,
    "var_positional": inspect.Parameter.VAR_POSITIONAL,
    "var_keyword": inspect.Parameter.VAR_KEYWORD,
}


def check_entry(entry: Entry) -> None:
    """Assert that ``entry`` is importable and matches the upstream listing."""
    obj = _resolve(entry)
    if entry.kind == "module":
        assert isinstance(obj, types.ModuleType), f"{entry.id} should be a module"
        return
    if entry.signature.strip() == "property":
        assert isinstance(obj, property), f"{entry.id} should be a property"
        return
    if entry.kind == "async function":
        assert inspect.iscoroutinefunction(obj), f"{entry.id} should be an async function"
    if "async " in entry.signature.split("(")[0] and entry.kind == "method":
        assert inspect.iscoroutinefunction(obj), f"{entry.id} should be async"
    expected = entry.params()
    if expected is None:
        return
    actual = list(inspect.signature(obj).parameters.values())
    assert [p.name for p in actual] == [p.name for p in expected], entry.id
    assert [p.kind for p in actual] == [_KINDS[p.kind] for p in expected], entry.id
    for spec_param, param in zip(expected, actual):
        if spec_param.default is None:
            assert param.default is inspect.Parameter.empty, f"{entry.id}: {param.name}"
            continue
        assert param.default is not inspect.Parameter.empty, f"{entry.id}: {param.name}"
        if spec_param.name in PROSE_PARAMETERS:
            continue
        is_plain, value = plain_default(spec_param.default)
        if is_plain:
            assert param.default == value, f"{entry.id}: default of {param.name}"
        elif spec_param.default.startswith("langchain_core."):
            module, _, attr = spec_param.default.rpartition(".")
            assert param.default is getattr(importlib.import_module(module), attr)


def _params() -> list[Any]:
    params = []
    for entry in entries():
        if entry.id in DIFFERENCES:
            continue
        marks = []
        if entry.id in PENDING:
            marks.append(pytest.mark.xfail(strict=True, reason=f"arrives with {PENDING[entry.id]}"))
        params.append(pytest.param(entry, id=entry.id, marks=marks))
    return params


@pytest.mark.parametrize("entry", _params())
def test_upstream_name_matches(entry: Entry) -> None:
    check_entry(entry)


def test_pending_entries_exist_in_listing() -> None:
    listed = {entry.id for entry in entries()}
    assert set(PENDING) <= listed, sorted(set(PENDING) - listed)


def test_listing_is_parsed() -> None:
    # guards the parser: a format change must not silently turn the test into a no-op
    assert len(entries()) >= 90
    assert any(e.params() for e in entries())


def test_configuration_error_is_an_ordinary_exception() -> None:
    from langmem.errors import ConfigurationError

    assert issubclass(ConfigurationError, Exception)
    assert issubclass(ConfigurationError, ValueError)
    try:
        raise ConfigurationError("x")
    except Exception as caught:  # must not escape an `except Exception`
        assert isinstance(caught, ConfigurationError)
