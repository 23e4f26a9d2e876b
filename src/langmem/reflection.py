"""Background reflection: run memory extraction after the reply, debounced and durable.

``ReflectionExecutor(manager, store=store)`` gives a :class:`LocalReflectionExecutor` (daemon
worker threads, tasks kept in the store's database when it has one) and
``ReflectionExecutor("graph-name", url=...)`` a :class:`RemoteReflectionExecutor` (runs on a
LangGraph server). Both ``submit`` a payload and return a ``concurrent.futures.Future``.

Example:
    >>> from langchain_core.runnables import RunnableLambda
    >>> from langgraph.store.memory import InMemoryStore
    >>> seen = []
    >>> executor = ReflectionExecutor(RunnableLambda(seen.append), store=InMemoryStore())
    >>> first = executor.submit({"messages": ["hi"]}, thread_id="t1", after_seconds=1)
    >>> second = executor.submit({"messages": ["hi", "again"]}, thread_id="t1")
    >>> executor.shutdown(wait=True).durable
    False
    >>> first.cancelled(), seen
    (True, [{'messages': ['hi', 'again']}])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langmem._background._local import (
    LocalReflectionExecutor,
    TaskFailedError,
    TaskReplacedError,
)
from langmem._background._remote import RemoteReflectionExecutor
from langmem._background._types import Executor, MemoryItem, ReflectionOptions, ShutdownReport
from langmem.errors import ConfigurationError

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable
    from langgraph.store.base import BaseStore
    from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

__all__ = [
    "Executor",
    "LocalReflectionExecutor",
    "MemoryItem",
    "ReflectionExecutor",
    "ReflectionOptions",
    "RemoteReflectionExecutor",
    "ShutdownReport",
    "TaskFailedError",
    "TaskReplacedError",
]


def ReflectionExecutor(
    reflector: Runnable[Any, Any] | str,
    namespace: str | tuple[str, ...] | None = None,
    /,
    *,
    url: str | None = None,
    client: LangGraphClient | None = None,
    sync_client: SyncLangGraphClient | None = None,
    store: BaseStore | None = None,
) -> Executor:
    """A local executor for a runnable reflector, a remote one for a graph name.

    Args:
        reflector: a runnable (``MemoryStoreManager``, ``MemoryManager``...) to run here, or the
            name of a graph deployed on a LangGraph server.
        namespace: for a remote graph, the namespace its memories live in (used by ``search``).
        url, client, sync_client: how to reach the LangGraph server (remote only).
        store: the store of a local reflector (see :class:`LocalReflectionExecutor`).
    """
    if isinstance(reflector, str):
        if namespace is None:
            raise ConfigurationError(
                f"ReflectionExecutor({reflector!r}) names a remote graph but has no namespace: "
                f"pass ReflectionExecutor({reflector!r}, ('memories', '{{user_id}}'), url=...)."
            )
        return RemoteReflectionExecutor(
            namespace, reflector, url=url, client=client, sync_client=sync_client
        )
    if namespace is not None or url is not None or client is not None or sync_client is not None:
        raise ConfigurationError(
            "namespace, url, client and sync_client are for a remote graph (reflector given as a "
            f"graph name); {type(reflector).__name__} runs locally: pass only store=..."
        )
    return LocalReflectionExecutor(reflector, store)
