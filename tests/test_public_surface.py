"""Each package's ``__all__`` is sorted and equals what it actually exports."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

import langmem


def _public_packages() -> list[str]:
    names = ["langmem"]
    for info in pkgutil.walk_packages(langmem.__path__, "langmem."):
        leaf = info.name.rsplit(".", 1)[-1]
        if (info.ispkg and not any(p.startswith("_") for p in info.name.split("."))) or leaf in (
            "errors",
            "utils",
        ):
            names.append(info.name)
    return names


def _exported(module: types.ModuleType) -> set[str]:
    if module.__name__ == "langmem":
        names = set(langmem._EXPORTS) | {"__version__"}
        return names
    return (
        {
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and not isinstance(value, types.ModuleType)
            and name != "annotations"
            and getattr(value, "__module__", module.__name__) != "__future__"
            and (getattr(value, "__module__", "") or "").startswith("langmem")
        }
        | ({"errors"} if module.__name__ == "langmem.utils" else set())
        | set(
            getattr(module, "_LAZY_EXPORTS", ())  # names a module's __getattr__ imports on demand
        )
    )


@pytest.mark.parametrize("name", _public_packages())
def test_all_is_sorted_and_matches_exports(name: str) -> None:
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    assert list(module.__all__) == sorted(module.__all__), f"{name}.__all__ is not sorted"
    assert set(module.__all__) == _exported(module)
    for public in module.__all__:
        assert getattr(module, public) is not None


def test_root_dir_lists_lazy_exports() -> None:
    assert set(langmem.__all__) <= set(dir(langmem))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        langmem.nope  # noqa: B018


def test_version_is_available() -> None:
    assert isinstance(langmem.__version__, str) and langmem.__version__


def test_import_is_light() -> None:
    """``import langmem`` must not load provider SDKs or LangGraph/LangChain internals."""
    code = (
        "import sys, langmem; "
        "heavy = [m for m in ('openai', 'anthropic', 'langchain_openai', 'langgraph', "
        "'langchain_core', 'numpy') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
