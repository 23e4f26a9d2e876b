"""A 'provider:model' string whose client refuses to start (no API key) gives a ConfigurationError
naming the variable to set, from the library too (only the command line did; the library raised
the provider's own OpenAIError on the first call)."""

from __future__ import annotations

import pytest
from langchain_core.language_models import BaseChatModel

from langmem import create_memory_manager, create_prompt_optimizer
from langmem._models import init_model
from langmem.errors import ConfigurationError

# urllib3 probes IPv6 support by creating (not connecting) a socket when the client is imported
pytestmark = pytest.mark.filterwarnings("ignore:A test tried to use socket.socket")


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.mark.parametrize("spec", ["openai:gpt-4o-mini", "gpt-4o-mini"])
def test_a_missing_key_names_the_variable(spec: str) -> None:
    with pytest.raises(
        ConfigurationError, match=rf"model '{spec}' needs an API key: set OPENAI_API_KEY"
    ):
        init_model(spec)


def test_pipelines_surface_it_on_first_use() -> None:
    manager = create_memory_manager("openai:gpt-4o-mini")  # building needs no key
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        manager.invoke({"messages": [("user", "I like tea")]})
    optimizer = create_prompt_optimizer("openai:gpt-4o-mini")
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        optimizer.invoke({"trajectories": [([("user", "hi")], "bad")], "prompt": "Be kind."})


def test_with_a_key_the_client_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert isinstance(init_model("openai:gpt-4o-mini"), BaseChatModel)
