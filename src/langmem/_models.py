"""Turn what users pass as a model (an object or a ``"provider:model"`` string) into a chat model.

Strings are resolved lazily through ``langchain``'s ``init_chat_model`` the first time the model
is needed, so building a manager never imports a provider SDK or needs an API key.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Union

from langmem.errors import ConfigurationError, MissingDependencyError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

ModelLike = Union[str, "BaseChatModel", "Runnable[Any, Any]"]

# provider prefix -> the pip package that provides its LangChain integration
_PROVIDER_PACKAGES: dict[str, str] = {
    "openai": "langchain-openai",
    "azure_openai": "langchain-openai",
    "anthropic": "langchain-anthropic",
    "google_genai": "langchain-google-genai",
    "google_vertexai": "langchain-google-vertexai",
    "bedrock": "langchain-aws",
    "bedrock_converse": "langchain-aws",
    "cohere": "langchain-cohere",
    "fireworks": "langchain-fireworks",
    "together": "langchain-together",
    "mistralai": "langchain-mistralai",
    "groq": "langchain-groq",
    "ollama": "langchain-ollama",
    "deepseek": "langchain-deepseek",
    "xai": "langchain-xai",
    "huggingface": "langchain-huggingface",
}


def provider_package(model: str) -> str | None:
    """The pip package that a ``"provider:model"`` string needs, when the provider is known."""
    provider = model.split(":", 1)[0] if ":" in model else ""
    return _PROVIDER_PACKAGES.get(provider)


def init_model(model: str) -> BaseChatModel:
    """Build a chat model from a ``"provider:model"`` string, with an install hint on failure."""
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError(
            f"model={model!r} is not usable: a model is a BaseChatModel or a 'provider:model' "
            "string such as 'openai:gpt-4o-mini'. Pass one of those."
        )
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:  # pragma: no cover - langchain is a core dependency
        raise MissingDependencyError(
            f"model={model!r} needs the 'langchain' package to resolve model strings: "
            "run `pip install langchain`, or pass a chat model object instead."
        ) from exc
    try:
        return init_chat_model(model)
    except ImportError as exc:
        package = provider_package(model) or _package_from_error(exc)
        hint = f"`pip install {package}`" if package else "the provider's LangChain package"
        raise MissingDependencyError(
            f"model={model!r} needs the provider integration that is not installed: "
            f"install {hint}, or pass a chat model object instead."
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"model={model!r} could not be resolved ({exc}). Use a 'provider:model' string "
            "such as 'openai:gpt-4o-mini' or 'anthropic:claude-3-5-sonnet-latest', or pass a "
            "chat model object."
        ) from exc
    except Exception as exc:  # the provider client refused to start: most often no API key
        raise _client_error(model, exc) from exc


def _client_error(model: str, exc: Exception) -> ConfigurationError:
    """The error for a provider client that cannot be created (e.g. ``OpenAIError`` for a
    missing key), naming the environment variable to set when the key is what is missing."""
    text = str(exc)
    if "api_key" in text or "api key" in text.lower():
        # "openai:gpt-4o" names its provider; "gpt-4o" is inferred, and so is the client's
        provider = model.split(":", 1)[0] if ":" in model else type(exc).__module__
        provider = provider.split(".", 1)[0]
        return ConfigurationError(
            f"model {model!r} needs an API key: set {provider.upper()}_API_KEY (the "
            f"{provider_package(model) or provider} client found none)."
        )
    return ConfigurationError(f"model {model!r} could not be created: {text}")


def _package_from_error(exc: ImportError) -> str | None:
    name = exc.name
    if name and name.startswith("langchain_"):
        return name.replace("_", "-")
    return None


class ModelRef:
    """A model given by the user, resolved on first use and then cached (thread-safe)."""

    __slots__ = ("_lock", "_resolved", "spec")

    def __init__(self, spec: ModelLike) -> None:
        if not isinstance(spec, str) and not hasattr(spec, "invoke"):
            raise ConfigurationError(
                f"model={spec!r} is not usable: expected a BaseChatModel (or another runnable "
                "chat model) or a 'provider:model' string such as 'openai:gpt-4o-mini'."
            )
        self.spec = spec
        self._resolved: Any = None if isinstance(spec, str) else spec
        self._lock = threading.Lock()

    def get(self) -> Any:
        """The chat model object (resolving a string the first time)."""
        if self._resolved is None:
            with self._lock:
                if self._resolved is None:
                    self._resolved = init_model(self.spec)  # type: ignore[arg-type]
        return self._resolved

    def __repr__(self) -> str:
        return f"ModelRef({self.spec!r})"
