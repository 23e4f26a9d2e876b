"""The local executor: runs a reflector on daemon threads, from a debounced, durable queue."""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import traceback
import uuid
import weakref
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from langmem._background import _payload
from langmem._background._search import SearchMixin
from langmem._background._types import ReflectionOptions, ShutdownReport
from langmem._task_scope import task_scope
from langmem.errors import ConfigurationError, InvalidInputError, LangMemError
from langmem.tasks import MemoryTaskQueue, Task, TaskQueue, TaskStatus, task_queue_for

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable, RunnableConfig
    from langgraph.store.base import BaseStore

    from langmem.tasks import QueueStats

logger = logging.getLogger("langmem.reflection")

SENTINEL: Any = object()
_RUNTIME_KEY = "__pregel_runtime"
_CONTEXT_KEY = "langmem_runtime_context"


class TaskReplacedError(LangMemError):
    """The task waited for a retry and a newer submission of its thread took its place."""


class TaskFailedError(LangMemError):
    """The task failed in another process (its last error is the message)."""


def _host() -> str:
    return socket.gethostname().replace(":", "_")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


class LocalReflectionExecutor(SearchMixin):
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
        self.options = options
        self.store = self._pick_store(reflector, store)
        # without a store of its own, a task runs on the store of the graph that submitted it
        self._store_pinned = store is not None or getattr(reflector, "_store", None) is not None
        self._run_stores: dict[str, BaseStore] = {}
        queue = options.task_queue
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
        self._owner = f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._cond = threading.Condition()
        self._futures: dict[str, Future[Any]] = {}
        self._due: dict[str, float] = {}
        self._running: set[str] = set()
        self._closed = False
        self._stopping = False
        self._last_reconcile = 0.0
        self._last_recovery = options.clock()
        self._seen_changes = options.clock()
        self._waiting: dict[int, float] = {}  # idle worker -> when it looks again
        self._dirty = False  # a task was added since the workers last claimed
        if self.durable:
            self._recover_dead_workers()
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
            return store
        own = getattr(reflector, "_store", None)
        if own is not None:
            return own  # type: ignore[no-any-return]
        from langmem._store_context import context_store
        from langmem.stores._open import default_store

        return context_store() or default_store()

    def _recover_dead_workers(self) -> None:
        """Expire the leases of this host's workers whose process is gone (killed, crashed)."""
        host = _host()
        for task in self.queue.list(
            queue=self.options.queue, status=TaskStatus.RUNNING, limit=10_000
        ):
            owner_host, _, rest = (task.owner or "").partition(":")
            pid = rest.partition(":")[0]
            if owner_host == host and pid.isdigit() and not _pid_alive(int(pid)):
                logger.info("task %s was running in dead process %s: runs again", task.id, pid)
                self.queue.extend_lease(task.id, owner=task.owner or "", lease_seconds=0)

    # ------------------------------------------------------------------------------ submit

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
        of the same thread replaces the task before it starts.
        """
        if self._closed:
            raise RuntimeError("cannot submit to a LocalReflectionExecutor after shutdown()")
        if isinstance(after_seconds, bool) or not isinstance(after_seconds, (int, float)):
            raise InvalidInputError(
                f"after_seconds={after_seconds!r}: pass a number of seconds >= 0."
            )
        if after_seconds < 0:
            raise InvalidInputError(f"after_seconds={after_seconds!r} is negative: pass >= 0.")
        if config is None:
            config = _context_config()
        key = _payload.thread_key(thread_id, config, explicit=thread_id is not SENTINEL)
        stored, stored_config = self._encode(payload, config)
        now = self.options.clock()
        task_id = uuid.uuid4().hex
        future: Future[Any] = Future()
        run_store = None
        if not self._store_pinned:
            runtime = ((config or {}).get("configurable") or {}).get(_RUNTIME_KEY)
            run_store = getattr(runtime, "store", None)
        with self._cond:
            self._futures[task_id] = future
            self._due[task_id] = now + after_seconds
            if run_store is not None:
                self._run_stores[task_id] = run_store
        try:
            enqueued = self.queue.enqueue(
                queue=self.options.queue,
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
        runtime = configurable.get(_RUNTIME_KEY)
        context = getattr(runtime, "context", None)
        if not self.durable:
            kept = {k: v for k, v in configurable.items() if k != _RUNTIME_KEY}
            if context is not None:
                kept[_CONTEXT_KEY] = context
            return payload, {"configurable": kept}
        kept = _payload.durable_configurable(config)
        if context is not None:
            try:
                kept[_CONTEXT_KEY] = _payload.encode_payload(context)
            except InvalidInputError:
                logger.debug(
                    "runtime context %r is not JSON; the durable task runs without it", context
                )
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

    def _resolve(
        self,
        task_id: str,
        *,
        cancel: bool = False,
        result: Any = None,
        error: BaseException | None = None,
    ) -> None:
        with self._cond:
            future = self._futures.pop(task_id, None)
            self._due.pop(task_id, None)
            self._run_stores.pop(task_id, None)
            self._cond.notify_all()
        if future is None or future.done():
            return
        if cancel and future.cancel():
            return
        if cancel:  # it was waiting for a retry when a newer task replaced it
            error = TaskReplacedError(
                f"task {task_id} was replaced by a newer submission of its thread"
            )
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    # ------------------------------------------------------------------------------ workers

    def _work(self) -> None:
        opts = self.options
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._dirty = False
            claimed_at = opts.clock()
            try:
                tasks = self.queue.claim(
                    queue=opts.queue,
                    owner=self._owner,
                    lease_seconds=opts.lease_seconds,
                    now=claimed_at,
                )
            except Exception:
                logger.exception("claiming a task failed; trying again")
                tasks = []
            if tasks:
                self._execute(tasks[0])
                continue
            self._idle(claimed_at)

    def _idle(self, claimed_at: float) -> None:
        """Sleep until the next due time, a poll, or a submission due sooner.

        A task already due at ``claimed_at`` that the claim skipped waits for its thread's
        running task (our own workers notify when they finish one; others are polled).
        """
        opts = self.options
        now = opts.clock()
        if now - self._last_reconcile >= opts.poll_seconds:
            self._last_reconcile = now
            self._reconcile()
        if self.durable and now - self._last_recovery >= 30 * opts.poll_seconds:
            self._last_recovery = now  # another process on this host may have died meanwhile
            self._recover_dead_workers()
        try:
            due = self.queue.next_due(queue=opts.queue, now=now)
        except Exception:
            due = None
        if due is None or due <= claimed_at:
            wait = opts.poll_seconds
        else:
            wait = min(opts.poll_seconds, max(due - now, 0))
        me = threading.get_ident()
        with self._cond:
            if self._stopping or self._dirty or wait <= 0:
                return
            self._waiting[me] = now + wait
            self._cond.wait(wait)
            del self._waiting[me]

    def _reconcile(self) -> None:
        """Settle futures whose task another process replaced, ran or failed.

        Only a database queue can be changed by others; reads only what changed since the
        last look (with a margin for clocks of other processes).
        """
        if not self.durable:
            return
        since, self._seen_changes = self._seen_changes, self.options.clock()
        with self._cond:
            if not self._futures:
                return
        for status in (
            TaskStatus.REPLACED,
            TaskStatus.CANCELLED,
            TaskStatus.DONE,
            TaskStatus.FAILED,
        ):
            for task in self.queue.list(
                queue=self.options.queue, status=status, updated_after=since - 5.0, limit=100_000
            ):
                with self._cond:
                    future = self._futures.get(task.id)
                    if future is None or future.running() or task.id in self._running:
                        continue
                if status is TaskStatus.DONE:
                    self._resolve(task.id)
                elif status is TaskStatus.FAILED:
                    self._resolve(task.id, error=TaskFailedError(task.error or "failed"))
                else:
                    self._resolve(task.id, cancel=True)

    def _keep_leases(self) -> None:
        interval = self.options.lease_seconds / 3
        while True:
            with self._cond:
                if self._stopping and not self._running:
                    return
                self._cond.wait(interval)
                running = list(self._running)
            for task_id in running:
                try:
                    self.queue.extend_lease(
                        task_id,
                        owner=self._owner,
                        lease_seconds=self.options.lease_seconds,
                        now=self.options.clock(),
                    )
                except Exception:
                    logger.warning("could not extend the lease of task %s", task_id)

    def _execute(self, task: Task) -> None:
        with self._cond:
            future = self._futures.get(task.id)
        cancelled = (
            future is not None
            and not future.running()
            and not future.set_running_or_notify_cancel()  # its caller cancelled it meanwhile
        )
        if cancelled:
            self.queue.release(owner=self._owner, task_ids=[task.id])
            self.queue.cancel(task.id)
            return
        with self._cond:
            self._running.add(task.id)
        logger.debug("task %s attempt %d starts", task.id, task.attempts)
        try:
            result = self._invoke(task)
        except Exception as exc:
            self._failed(task, exc)
        else:
            if not self.queue.complete(task.id, owner=self._owner, now=self.options.clock()):
                logger.warning("task %s finished after its lease was taken over", task.id)
            self._resolve(task.id, result=result)
        finally:
            with self._cond:
                self._running.discard(task.id)
                self._cond.notify_all()

    def _failed(self, task: Task, exc: Exception) -> None:
        opts = self.options
        now = opts.clock()
        retryable = not isinstance(exc, (ConfigurationError, InvalidInputError))
        backoff = min(opts.backoff_seconds * 2 ** (task.attempts - 1), opts.max_backoff_seconds)
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        status = self.queue.fail(
            task.id,
            owner=self._owner,
            error=error,
            retry_at=now + backoff if retryable else None,
            now=now,
        )
        if status is TaskStatus.PENDING:
            logger.warning(
                "task %s attempt %d/%d failed (%s); retry in %.1f s",
                task.id,
                task.attempts,
                task.max_attempts,
                error,
                backoff,
            )
            with self._cond:
                self._due[task.id] = now + backoff
        elif status is TaskStatus.REPLACED:
            self._resolve(task.id, cancel=True)
        else:
            logger.error(
                "task %s failed for good after %d attempts: %s", task.id, task.attempts, error
            )
            self._resolve(task.id, error=exc)

    def _invoke(self, task: Task) -> Any:
        from langchain_core.runnables.config import set_config_context
        from langgraph.runtime import Runtime

        configurable = dict(task.config.get("configurable") or {})
        context = configurable.pop(_CONTEXT_KEY, None)
        with self._cond:
            store = self._run_stores.pop(task.id, None) or self.store
        configurable[_payload.TASK_ID_KEY] = task.id
        configurable[_RUNTIME_KEY] = Runtime(context=context, store=store)
        config: Any = {**task.config, "configurable": configurable}
        payload = _payload.decode_payload(task.payload) if self.durable else task.payload
        with task_scope(task.id), set_config_context(config) as ctx:
            return ctx.run(self.reflector.invoke, payload, config)

    # ------------------------------------------------------------------------------ operate

    def stats(self) -> QueueStats:
        """Pending, running, done, failed (with last errors) counts of this executor's queue."""
        return self.queue.stats(queue=self.options.queue)

    def retry(self, task_ids: Iterable[str] | None = None) -> int:
        """Run failed tasks again (all of this queue's when ``task_ids`` is ``None``)."""
        if task_ids is None:
            task_ids = [
                t.id
                for t in self.queue.list(
                    queue=self.options.queue, status=TaskStatus.FAILED, limit=100_000
                )
            ]
        count = sum(self.queue.retry(i) is TaskStatus.PENDING for i in task_ids)
        with self._cond:
            self._cond.notify_all()
        return count

    def _wait(self, *, deadline: float | None) -> bool:
        """Wait until every task of this executor due by ``deadline`` is settled."""
        clock = self.options.clock
        with self._cond:
            while True:
                limit = deadline if deadline is not None else float("inf")
                open_ = [i for i, due in self._due.items() if due <= limit] + list(self._running)
                if not open_:
                    return True
                now = clock()
                if deadline is not None and now >= deadline:
                    return False
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
        finished = self._wait(deadline=deadline)
        with self._cond:
            self._stopping = True
            left = len(self._futures)
            self._cond.notify_all()
        if not finished and left:
            where = "stay queued for the next start" if self.durable else "are lost (in memory)"
            logger.warning("exit: %d background task(s) not finished in time %s", left, where)

    def __enter__(self) -> LocalReflectionExecutor:
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        self.shutdown(wait=True)

    def __repr__(self) -> str:
        return f"LocalReflectionExecutor({self.reflector!r}, queue={self.queue!r})"
