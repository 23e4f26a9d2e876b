"""The remote executor: reflection runs on a LangGraph server, through ``langgraph_sdk``.

``submit`` creates a run of the deployed graph on the conversation's server-side thread (created
if missing), delayed by ``after_seconds``, with ``multitask_strategy="rollback"``: the server
drops a pending run of the same thread when a newer one arrives (the debounce). The HTTP call is
made on a daemon thread, so ``submit`` returns at once and never keeps a process alive.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from langmem._background._payload import (
    check_delay,
    durable_configurable,
    encode_payload,
    thread_key,
)
from langmem._background._search import as_namespace, filled_or_prefix
from langmem._namespace import NamespaceTemplate
from langmem.errors import (
    ConfigurationError,
    ExecutorClosedError,
    MissingDependencyError,
    StoreConnectionError,
)

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

    from langmem._background._types import MemoryItem

logger = logging.getLogger("langmem.reflection")

SENTINEL: Any = object()


def _sdk() -> Any:
    try:
        import langgraph_sdk
    except ImportError as exc:  # pragma: no cover - langgraph depends on it
        raise MissingDependencyError(
            "RemoteReflectionExecutor needs langgraph-sdk: pip install langgraph-sdk"
        ) from exc
    return langgraph_sdk


def _when(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    return _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _item(raw: Mapping[str, Any]) -> MemoryItem:
    return {
        "namespace": list(raw["namespace"]),
        "key": raw["key"],
        "value": raw["value"],
        "created_at": _when(raw["created_at"]),
        "updated_at": _when(raw["updated_at"]),
        "score": raw.get("score"),
    }


class RemoteReflectionExecutor:
    """Runs a graph deployed on a LangGraph server in the background.

    Args:
        namespace: where the graph keeps its memories (``search`` looks there); may hold
            ``{placeholders}`` filled from the config.
        reflector: the graph (assistant) name, as in ``langgraph.json``.
        url: the server's URL (when no client is given).
        client, sync_client: ``langgraph_sdk`` clients to use instead of new ones.
    """

    def __init__(
        self,
        namespace: str | tuple[str, ...],
        reflector: str,
        *,
        url: str | None = None,
        client: LangGraphClient | None = None,
        sync_client: SyncLangGraphClient | None = None,
    ) -> None:
        if url is not None and not (
            isinstance(url, str) and url.lower().startswith(("http://", "https://"))
        ):
            raise ConfigurationError(
                f"url={url!r} is not the http(s) URL of a LangGraph server: pass e.g. "
                "url='http://localhost:2024' (`langgraph dev`), or url=None for the default."
            )
        self.namespace = NamespaceTemplate(as_namespace(namespace))
        self.reflector = reflector
        self.url = url
        self._client = client
        self._sync_client = sync_client
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def client(self) -> LangGraphClient:
        if self._client is None:
            self._client = _sdk().get_client(url=self.url)
        return self._client

    @property
    def sync_client(self) -> SyncLangGraphClient:
        if self._sync_client is None:
            self._sync_client = _sdk().get_sync_client(url=self.url)
        return self._sync_client

    def _run_jobs(self) -> None:
        while (job := self._jobs.get()) is not None:
            call, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(call())
            except BaseException as exc:
                logger.warning("remote reflection submit failed: %s", exc)
                future.set_exception(exc)

    def _enqueue(self, call: Callable[[], Any]) -> Future[Any]:
        """Queue ``call`` for the submit thread (started on first use); refused after
        :meth:`shutdown`, whose end-of-queue mark the thread has been given."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise ExecutorClosedError(
                    f"cannot submit to this {type(self).__name__} after shutdown(): nothing was"
                    " sent to the server. Create a new RemoteReflectionExecutor to submit more"
                    " work."
                )
            self._jobs.put((call, future))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run_jobs, name="langmem-remote-reflection", daemon=True
                )
                self._thread.start()
        return future

    def submit(
        self,
        payload: dict[str, Any],
        /,
        config: RunnableConfig | None = None,
        *,
        after_seconds: int = 0,
        thread_id: str | uuid.UUID | None = SENTINEL,
    ) -> Future[Any]:
        """Create a run of the graph on the server; the future gives the created run."""
        check_delay(after_seconds)
        key = thread_key(thread_id, config, explicit=thread_id is not SENTINEL)
        server_thread = str(
            uuid.uuid5(uuid.NAMESPACE_URL, key) if not _is_uuid(key) else uuid.UUID(key)
        )
        body = encode_payload(payload)
        configurable = durable_configurable(config)
        client = self.sync_client

        def call() -> Any:
            with self._reaching("submit"):
                return client.runs.create(
                    server_thread,
                    self.reflector,
                    input=body,
                    config={"configurable": configurable},
                    multitask_strategy="rollback",
                    if_not_exists="create",
                    after_seconds=after_seconds,
                )

        return self._enqueue(call)

    def _search_namespace(self, namespace: str | tuple[str, ...] | None) -> tuple[str, ...]:
        if namespace is not None:
            return as_namespace(namespace)
        return filled_or_prefix(self.namespace)

    def search(
        self,
        query: str | None = None,
        *,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | tuple[str, ...] | None = None,
    ) -> list[MemoryItem]:
        """Memories on the server under the executor's namespace (or ``namespace``)."""
        with self._reaching("search"):
            found = self.sync_client.store.search_items(
                self._search_namespace(namespace),
                filter=filter,
                limit=limit,
                offset=offset,
                query=query,
            )
        return [_item(raw) for raw in found["items"]]

    async def asearch(
        self,
        query: str | None = None,
        filter: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        namespace: str | tuple[str, ...] | None = None,
    ) -> list[MemoryItem]:
        """Async :meth:`search`."""
        with self._reaching("asearch"):
            found = await self.client.store.search_items(
                self._search_namespace(namespace),
                filter=filter,
                limit=limit,
                offset=offset,
                query=query,
            )
        return [_item(raw) for raw in found["items"]]

    @contextlib.contextmanager
    def _reaching(self, what: str) -> Iterator[None]:
        """A server that cannot be reached (refused, unknown host, timed out) is a
        :class:`StoreConnectionError` naming the URL and the fix, not a bare httpx error."""
        import httpx

        try:
            yield
        except httpx.TransportError as exc:
            where = self.url or "the default URL"
            raise StoreConnectionError(
                f"{what}: the LangGraph server at {where} cannot be reached "
                f"({type(exc).__name__}: {exc}). Fix: start the server (e.g. `langgraph dev`) "
                "or pass the right url=."
            ) from exc

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the submit thread (after the submits already made, when ``wait``); later
        submits raise :class:`~langmem.errors.ExecutorClosedError`."""
        with self._lock:
            stop = not self._closed  # the thread's end-of-queue mark, given once
            self._closed = True
        if cancel_futures:
            while not self._jobs.empty():
                job = self._jobs.get_nowait()
                if job is None:
                    stop = True  # an earlier shutdown's mark: put it back after the drain
                else:
                    job[1].cancel()
        if stop:
            self._jobs.put(None)
        thread = self._thread
        if wait and thread is not None:
            thread.join()

    def __enter__(self) -> RemoteReflectionExecutor:
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.shutdown(wait=True)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
