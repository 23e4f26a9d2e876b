"""Model references: objects pass through, strings resolve lazily with install hints."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from langmem._models import ModelRef, init_model, provider_package
from langmem.errors import ConfigurationError, MissingDependencyError
from langmem.testing import ScriptedChatModel


def test_object_is_used_as_is() -> None:
    model = ScriptedChatModel(responses=["hi"])
    assert ModelRef(model).get() is model


# urllib3 probes IPv6 support by creating (not connecting) a socket when first imported.
@pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")
def test_string_is_resolved_lazily_and_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    ref = ModelRef("openai:gpt-4o-mini")
    assert ref._resolved is None  # nothing resolved at construction
    model = ref.get()
    assert type(model).__name__ == "ChatOpenAI"
    assert ref.get() is model


def test_missing_provider_package_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_anthropic(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("langchain_anthropic"):
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_anthropic)
    with pytest.raises(MissingDependencyError, match="pip install langchain-anthropic"):
        ModelRef("anthropic:claude-3-5-sonnet-latest").get()


def test_unknown_provider_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="provider:model"):
        init_model("nosuchprovider:model-x")


@pytest.mark.parametrize("bad", ["", "   ", 42])
def test_bad_model_values(bad: Any) -> None:
    with pytest.raises(ConfigurationError):
        init_model(bad) if isinstance(bad, str) else ModelRef(bad)


def test_provider_package_table() -> None:
    assert provider_package("openai:gpt-4o") == "langchain-openai"
    assert provider_package("anthropic:claude") == "langchain-anthropic"
    assert provider_package("gpt-4o") is None
