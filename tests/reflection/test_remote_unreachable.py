"""A remote executor with a URL that is not http(s) is refused when made; a server that
cannot be reached makes submit's future, search and asearch fail with StoreConnectionError
naming the URL and the fix (not a bare httpx error)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import httpx
import pytest

from langmem import ReflectionExecutor
from langmem.errors import ConfigurationError, StoreConnectionError
from langmem.reflection import RemoteReflectionExecutor


@pytest.mark.parametrize("url", ["not a url", "ftp://host/x", "", "localhost:2024"])
def test_a_url_that_is_not_http_is_refused_when_made(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ReflectionExecutor("memories", ("memories", "{user_id}"), url=url)
    assert repr(url) in str(caught.value)
    assert "url='http://localhost:2024'" in str(caught.value)


class _Refused:
    """Stands in for the langgraph_sdk clients: every call fails as httpx does when the server's
    port is closed (the real SDK retries for several seconds first)."""

    def __init__(self, asynchronous: bool = False) -> None:
        self.runs = self.store = self
        self.asynchronous = asynchronous

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        error = httpx.ConnectError("[Errno 111] Connection refused")
        if self.asynchronous:

            async def refused() -> Any:
                raise error

            return refused()
        raise error

    create = search_items = _refuse


def test_an_unreachable_server_is_named_with_the_fix() -> None:
    url = "http://127.0.0.1:9"
    executor = ReflectionExecutor(
        "memories",
        ("memories", "{user_id}"),
        url=url,
        client=cast(Any, _Refused(asynchronous=True)),
        sync_client=cast(Any, _Refused()),
    )
    assert isinstance(executor, RemoteReflectionExecutor)
    config: Any = {"configurable": {"user_id": "u1", "thread_id": "t-1"}}
    future = executor.submit({"messages": [{"role": "user", "content": "hi"}]}, config)
    errors = [future.exception(timeout=30)]
    for search in (
        lambda: executor.search("tea", namespace=("memories", "u1")),
        lambda: asyncio.run(executor.asearch("tea", namespace=("memories", "u1"))),
    ):
        with pytest.raises(StoreConnectionError) as caught:
            search()
        errors.append(caught.value)
    executor.shutdown()
    for error in errors:
        assert isinstance(error, StoreConnectionError)
        assert url in str(error) and "cannot be reached" in str(error)
        assert "ConnectError" in str(error) and "langgraph dev" in str(error)
