"""The local executor: runs a reflector on daemon threads, from a debounced, durable queue."""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import threading
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from langmem._background import _payload
from langmem._background._queue_name import default_queue_name, left_behind, stranded_warning
from langmem._background._search import SearchMixin
from langmem._background._types import ReflectionOptions, ShutdownReport
from langmem._background._workers import (
    CONTEXT_KEY,
    RUNTIME_KEY,
    Workers,
    host,
)
from langmem._store_context import check_store, is_read_only
from langmem.errors import (
    ConfigurationError,
    ExecutorClosedError,
    InvalidInputError,
    StoreFileError,
)
from langmem.tasks import MemoryTaskQueue, TaskQueue, TaskStatus, task_queue_for

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable, RunnableConfig
    from langgraph.store.base import BaseStore

    from langmem.tasks import QueueStats

logger = logging.getLogger("langmem.reflection")

SENTINEL: Any = object()


def _exit_hook(ref: weakref.ReferenceType[LocalReflectionExecutor]) -> Callable[[], None]:
    """An atexit callback that does not keep the executor alive."""

    def flush() -> None:
        executor = ref()
        if executor is not None:
            executor._flush_at_exit()

    return flush


def _context_config() -> RunnableConfig | None:
    try:
        from langgraph.config import get_config

        return get_config()
    except (RuntimeError, KeyError, AttributeError):
        return None


class LocalReflectionExecutor(Workers, SearchMixin):
    """Runs ``reflector`` in the background, debounced per thread, durable on a database store.

    ``submit`` records the task and returns a :class:`~concurrent.futures.Future` at once. Per
    thread (``thread_id``, else the config's ``thread_id``), a newer submission replaces a pending
    one that has not started: the older future is cancelled and the task never runs. A task is
    run or replaced, never both, never neither. Submissions without any thread id are never
    replaced.

    With a store that has a database (the embedded ``SqliteStore``, the default) the task is
    committed to it before ``submit`` returns; if the process dies, the next executor on the same
    database (same ``queue`` name) runs it. A task runs at least once; memory ids created by our
    managers derive from the task id, so a rerun overwrites instead of duplicating. With a store
    without a database (``InMemoryStore``) tasks live in this process only, as upstream.

    Workers are daemon threads: a script that submits and ends, ends. At interpreter exit, due
    work may run for ``exit_flush_seconds`` (default 5 s); what is left stays queued on a durable
    store. Failures are retried with exponential backoff up to ``max_attempts``, then kept as
    failed (see :meth:`stats`, :meth:`retry`); configuration and input errors are not retried.

    Args:
        reflector: a runnable taking the payload (``MemoryStoreManager``, ``MemoryManager``...).
        store: the store the reflector works on (also the home of the durable queue). ``None``:
            the reflector's own store, else the LangGraph run's, else the default store.

    Other options (``durable``, ``max_attempts``, ``exit_flush_seconds``...): see
    :meth:`with_options` and :class:`ReflectionOptions`.
    """

    def __init__(self, reflector: Runnable[Any, Any], store: BaseStore | None) -> None:
        self._setup(reflector, store, ReflectionOptions())

    @classmethod
    def with_options(
        cls, reflector: Runnable[Any, Any], store: BaseStore | None = None, **options: Any
    ) -> LocalReflectionExecutor:
        """An executor with :class:`ReflectionOptions` other than the defaults.

        Example:
            >>> from langchain_core.runnables import RunnableLambda
            >>> from langgraph.store.memory import InMemoryStore
            >>> echo = RunnableLambda(lambda payload: payload["n"] * 2)
            >>> with LocalReflectionExecutor.with_options(echo, InMemoryStore(), workers=2) as ex:
            ...     ex.submit({"n": 21}, thread_id="t").result(timeout=10)
            42
        """
        self = cls.__new__(cls)
        self._setup(reflector, store, ReflectionOptions(**options))
        return self

    # ------------------------------------------------------------------------------ setup

    def _setup(
        self, reflector: Runnable[Any, Any], store: BaseStore | None, options: ReflectionOptions
    ) -> None:
        if not hasattr(reflector, "invoke") and callable(reflector):
            from langchain_core.runnables import RunnableLambda

            reflector = RunnableLambda(reflector)
        if not hasattr(reflector, "invoke"):
            raise ConfigurationError(
                f"reflector={reflector!r} is not a runnable: pass a MemoryStoreManager, a "
                "MemoryManager or any LangChain runnable (RunnableLambda(fn) for a function)."
            )
        self.reflector = reflector
        self.queue_name: str = options.queue or default_queue_name(reflector)
        """The queue this executor's tasks go to and come from (``options.queue``, else the
        reflector's own name)."""
        self.options = dataclasses.replace(options, queue=self.queue_name)
        self.store = self._pick_store(reflector, store)
        # without a store of its own, a task runs on the store of the graph that submitted it
        self._store_pinned = store is not None or getattr(reflector, "_store", None) is not None
        self._run_stores: dict[str, BaseStore] = {}
        queue = options.task_queue
        if queue is None and is_read_only(self.store):
            raise StoreFileError(
                f"ReflectionExecutor: its store {getattr(self.store, 'path', '')!r} is open "
                "read-only, so its tasks could not be kept (the task queue would be in memory, "
                "lost at exit) and a reflector writing memories there would fail after its model "
                "call. Fix: give the executor (or the memory store manager) a store opened "
                "without read_only=True or mode=ro; a reflector that writes elsewhere can keep "
                "its tasks in LocalReflectionExecutor.with_options(reflector, store, "
                "task_queue=SqliteTaskQueue(path))."
            )
        if queue is None:
            queue = MemoryTaskQueue() if options.durable is False else task_queue_for(self.store)
        if options.durable and not queue.durable:
            raise ConfigurationError(
                f"durable=True, but the store {type(self.store).__name__} has no database for "
                "the task queue: use the embedded SqliteStore on a file (the default store), a "
                "PostgreSQL store, or pass task_queue=SqliteTaskQueue(path)."
            )
        self.queue: TaskQueue = queue
        self.durable = queue.durable
        self._owner = f"{host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._cond = threading.Condition()
        self._futures: dict[str, Future[Any]] = {}
        self._due: dict[str, float] = {}
        self._running: set[str] = set()
        self._closed = False
        self._stopping = False
        self._last_reconcile = 0.0
        self._executed = 0
        self._last_recovery = options.clock()
        self._seen_changes = options.clock()
        self._waiting: dict[int, float] = {}  # idle worker -> when it looks again
        self._dirty = False  # a task was added since the workers last claimed
        if self.durable:
            self._recover_dead_workers()
            if options.queue is None:
                stranded = left_behind(queue, self.queue_name)
                if stranded:
                    warnings.warn(
                        stranded_warning(self.queue_name, stranded), UserWarning, stacklevel=3
                    )
        self._threads = [
            threading.Thread(target=self._work, name=f"langmem-reflection-{n}", daemon=True)
            for n in range(options.workers)
        ]
        self._threads.append(
            threading.Thread(target=self._keep_leases, name="langmem-reflection-lease", daemon=True)
        )
        for thread in self._threads:
            thread.start()
        self._exit_hook = _exit_hook(weakref.ref(self))
        atexit.register(self._exit_hook)
        logger.debug("executor %s started on %r (durable=%s)", self._owner, queue, self.durable)

    @staticmethod
    def _pick_store(reflector: Any, store: BaseStore | None) -> BaseStore | None:
        if store is not None:
            return check_store(store, what="ReflectionExecutor")
        own = getattr(reflector, "_store", None)
        if own is not None:
            return own  # type: ignore[no-any-return]
        from langmem._store_context import context_store
        from langmem.stores._open import default_store

        return context_store() or default_store()

    def submit(
        self,
        payload: dict[str, Any],
        /,
        config: RunnableConfig | None = None,
        *,
        after_seconds: int = 0,
        thread_id: str | uuid.UUID | None = SENTINEL,
    ) -> Future[Any]:
        """Schedule ``reflector.invoke(payload, config)`` in ``after_seconds``; returns its future.

        The future's result is the reflector's output. It is cancelled when a newer submission
        of the same thread replaces the task before it starts. Results are not stored: when
        another process on the same database runs the task, the future here gets ``None`` (or
        :class:`~langmem.reflection.TaskFailedError` with its last error), and a task run
        after a restart has no future; read what the reflector wrote (e.g. :meth:`search`).
        """
        if self._closed:
            raise ExecutorClosedError(
                f"cannot submit to this {type(self).__name__} after shutdown(): nothing was"
                " queued. Create a new ReflectionExecutor (on the same store, durable tasks"
                " are kept) to submit more work."
            )
        _payload.check_delay(after_seconds)
        if config is None:
            config = _context_config()
        elif not isinstance(config, Mapping):
            raise InvalidInputError(
                f"config={config!r} is not a RunnableConfig: pass a dict such as "
                "{'configurable': {'thread_id': 't-1', 'langgraph_user_id': 'ana'}}, or None."
            )
        key = _payload.thread_key(thread_id, config, explicit=thread_id is not SENTINEL)
        stored, stored_config = self._encode(payload, config)
        now = self.options.clock()
        task_id = uuid.uuid4().hex
        future: Future[Any] = Future()
        run_store = None
        if not self._store_pinned:
            runtime = ((config or {}).get("configurable") or {}).get(RUNTIME_KEY)
            run_store = getattr(runtime, "store", None)
        with self._cond:
            self._futures[task_id] = future
            self._due[task_id] = now + after_seconds
            if run_store is not None:
                self._run_stores[task_id] = run_store
        try:
            enqueued = self.queue.enqueue(
                queue=self.queue_name,
                thread_key=key,
                payload=stored,
                config=stored_config,
                due_at=now + after_seconds,
                max_attempts=self.options.max_attempts,
                task_id=task_id,
                now=now,
            )
        except BaseException:
            with self._cond:
                self._futures.pop(task_id, None)
                self._due.pop(task_id, None)
            raise
        for old in enqueued.replaced:
            self._resolve(old, cancel=True)
        future.add_done_callback(lambda f: self._on_done(task_id, f))
        with self._cond:
            self._dirty = True
            if any(now + after_seconds < wake for wake in self._waiting.values()):
                self._cond.notify()  # due before an idle worker would look again
        logger.debug(
            "task %s submitted for thread %s (replaced %s)", task_id, key, enqueued.replaced
        )
        return future

    def invoke(
        self,
        payload: dict[str, Any],
        /,
        config: RunnableConfig | None = None,
        *,
        after_seconds: float = 0,
        thread_id: str | uuid.UUID | None = SENTINEL,
    ) -> Future[Any]:
        """Same as :meth:`submit` (the manual's spelling): schedules and returns at once."""
        return self.submit(payload, config, after_seconds=after_seconds, thread_id=thread_id)  # type: ignore[arg-type]

    async def ainvoke(
        self,
        payload: dict[str, Any],
        /,
        config: RunnableConfig | None = None,
        *,
        after_seconds: float = 0,
        thread_id: str | uuid.UUID | None = SENTINEL,
    ) -> Future[Any]:
        """Async :meth:`submit`: schedules and returns the future without waiting for the run.

        ``await asyncio.wrap_future(future)`` waits for the result when wanted.
        """
        return self.submit(payload, config, after_seconds=after_seconds, thread_id=thread_id)  # type: ignore[arg-type]

    def _encode(self, payload: Any, config: RunnableConfig | None) -> tuple[Any, dict[str, Any]]:
        configurable = dict((config or {}).get("configurable") or {})
        runtime = configurable.get(RUNTIME_KEY)
        context = getattr(runtime, "context", None)
        if not self.durable:
            kept = {k: v for k, v in configurable.items() if k != RUNTIME_KEY}
            if context is not None:
                kept[CONTEXT_KEY] = context
            return payload, {"configurable": kept}
        kept = _payload.durable_configurable(config)
        if context is not None:
            try:
                kept[CONTEXT_KEY] = _payload.encode_payload(context)
            except InvalidInputError:
                kept[CONTEXT_KEY] = _json_fields(context)
        return _payload.encode_payload(payload), {"configurable": kept}

    def _on_done(self, task_id: str, future: Future[Any]) -> None:
        """A future the user cancelled: cancel its task if it is still only pending."""
        if not future.cancelled():
            return
        with self._cond:
            mine = self._futures.pop(task_id, None) is not None
            self._due.pop(task_id, None)
        if mine:
            self.queue.cancel(task_id)

    def stats(self) -> QueueStats:
        """Pending, running, done, failed (with last errors) counts of this executor's queue."""
        return self.queue.stats(queue=self.queue_name)

    def retry(self, task_ids: Iterable[str] | None = None) -> int:
        """Run failed tasks again (all of this queue's when ``task_ids`` is ``None``)."""
        if task_ids is None:
            task_ids = [
                t.id
                for t in self.queue.list(
                    queue=self.queue_name, status=TaskStatus.FAILED, limit=100_000
                )
            ]
        count = sum(self.queue.retry(i) is TaskStatus.PENDING for i in task_ids)
        with self._cond:
            self._cond.notify_all()
        return count

    def _wait(self, *, deadline: float | None) -> None:
        """Wait until every task of this executor due by ``deadline`` is settled."""
        clock = self.options.clock
        with self._cond:
            while True:
                limit = deadline if deadline is not None else float("inf")
                open_ = [i for i, due in self._due.items() if due <= limit] + list(self._running)
                if not open_:
                    return
                now = clock()
                if deadline is not None and now >= deadline:
                    return
                self._cond.wait(0.05 if deadline is None else min(0.05, deadline - now))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> ShutdownReport:
        """Stop taking submissions and stop the workers.

        ``wait=True`` drains: tasks submitted here run when due (``after_seconds`` honoured),
        then it returns. ``wait=False`` returns at once: on a durable store pending tasks stay
        queued (``kept``; their futures here are cancelled) and run at the next start; else
        they are cancelled. ``cancel_futures=True`` cancels every task not yet started first.
        """
        atexit.unregister(self._exit_hook)
        self._closed = True
        cancelled: list[str] = []
        if cancel_futures or (not wait and not self.durable):
            cancelled = self._cancel_pending()
        kept: list[str] = []
        if wait:
            self._wait(deadline=None)
        else:
            with self._cond:
                kept = [i for i in self._futures if i not in self._running]
            for task_id in kept:
                self._resolve(task_id, cancel=True)
        with self._cond:
            self._stopping = True
            running = tuple(self._running)
            self._cond.notify_all()
        if wait:
            for thread in self._threads:
                thread.join()
        return ShutdownReport(
            durable=self.durable, kept=tuple(kept), cancelled=tuple(cancelled), running=running
        )

    def _cancel_pending(self) -> list[str]:
        with self._cond:
            candidates = [i for i, f in self._futures.items() if not f.running()]
        cancelled = []
        for task_id in candidates:
            if self.queue.cancel(task_id):
                cancelled.append(task_id)
                self._resolve(task_id, cancel=True)
        return cancelled

    def _flush_at_exit(self) -> None:
        if self._closed:
            return
        self._closed = True
        deadline = self.options.clock() + self.options.exit_flush_seconds
        self._wait(deadline=deadline)
        with self._cond:
            self._stopping = True
            left = len(self._futures)
            self._cond.notify_all()
        if left:  # not finished in time, or due after the flush: say what happens to them
            where = "stay queued for the next start" if self.durable else "are lost (in memory)"
            logger.warning("exit: %d background task(s) not finished in time %s", left, where)

    def __enter__(self) -> LocalReflectionExecutor:
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.shutdown(wait=True)

    def __repr__(self) -> str:
        return f"LocalReflectionExecutor({self.reflector!r}, queue={self.queue!r})"


def _json_fields(context: Any) -> dict[str, Any]:
    """The fields of a runtime context that JSON can hold (a durable task keeps those, as it
    keeps the JSON-able configurable values), e.g. its user id beside a client object."""
    from langmem._namespace import context_values

    kept: dict[str, Any] = {}
    for name, value in context_values(context).items():
        try:
            kept[name] = _payload.encode_payload(value)
        except InvalidInputError:
            logger.debug(
                "runtime context field %r is not JSON; the durable task runs without it", name
            )
    return kept
