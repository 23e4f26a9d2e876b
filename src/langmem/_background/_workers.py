"""The worker side of the local executor: claim, run, settle futures, keep leases."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import traceback
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from langmem._background import _payload
from langmem._background._types import ReflectionOptions
from langmem._task_scope import task_scope
from langmem.errors import ConfigurationError, InvalidInputError, LangMemError
from langmem.tasks import Task, TaskQueue, TaskStatus

if TYPE_CHECKING:
    from langgraph.store.base import BaseStore

logger = logging.getLogger("langmem.reflection")

RUNTIME_KEY = "__pregel_runtime"
CONTEXT_KEY = "langmem_runtime_context"


class TaskReplacedError(LangMemError):
    """The task waited for a retry and a newer submission of its thread took its place."""


class TaskFailedError(LangMemError):
    """The task failed in another process (its last error is the message)."""


def host() -> str:
    return socket.gethostname().replace(":", "_")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Workers:
    """Mixin of :class:`~langmem.reflection.LocalReflectionExecutor`: its worker threads.

    Futures of this executor's submissions live in ``_futures`` until settled; ``_due`` holds
    their due times (for draining), ``_running`` the ids being run here.
    """

    reflector: Any
    store: BaseStore | None
    options: ReflectionOptions
    queue: TaskQueue
    queue_name: str
    durable: bool
    _owner: str
    _cond: threading.Condition
    _futures: dict[str, Future[Any]]
    _due: dict[str, float]
    _running: set[str]
    _run_stores: dict[str, BaseStore]
    _stopping: bool
    _dirty: bool
    _waiting: dict[int, float]
    _last_reconcile: float
    _last_recovery: float
    _seen_changes: float
    _executed: int

    def _recover_dead_workers(self) -> None:
        """Expire the leases of this host's workers whose process is gone (killed, crashed)."""
        here = host()
        for task in self.queue.list(queue=self.queue_name, status=TaskStatus.RUNNING, limit=10_000):
            owner_host, _, rest = (task.owner or "").partition(":")
            pid = rest.partition(":")[0]
            if owner_host == here and pid.isdigit() and not _pid_alive(int(pid)):
                logger.info("task %s was running in dead process %s: runs again", task.id, pid)
                self.queue.extend_lease(task.id, owner=task.owner or "", lease_seconds=0)

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
            # settled here is no longer running (shutdown's report must not list it), although
            # its worker has yet to leave _execute
            self._running.discard(task_id)
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
        # what running a task imports, imported before the first claim: it took 1-2 s on a busy
        # machine, with the task already claimed, so a process killed in that time used up one
        # of the task's attempts without having started it
        import langchain_core.runnables.config  # noqa: F401
        import langgraph.runtime  # noqa: F401

        while True:
            with self._cond:
                if self._stopping:
                    return
                self._dirty = False
            claimed_at = opts.clock()
            try:
                tasks = self.queue.claim(
                    queue=self.queue_name,
                    owner=self._owner,
                    lease_seconds=opts.lease_seconds,
                    now=claimed_at,
                )
            except Exception:
                logger.exception("claiming a task failed; trying again")
                tasks = []
            if tasks:
                try:
                    self._execute(tasks[0])
                except Exception as exc:  # the queue could not record the outcome
                    logger.exception(
                        "task %s: recording its outcome failed; its future fails with this "
                        "error. The queue still holds the task: once its lease expires it may "
                        "run again, with no future to report to (read what it wrote from the "
                        "store)",
                        tasks[0].id,
                    )
                    self._resolve(tasks[0].id, error=exc)
                self._executed += 1
                if self._executed % 64 == 0:
                    self._maintain()
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
            try:
                self._reconcile()
            except Exception:  # a locked or vanished file must not end this worker thread
                logger.exception("reading the queue's settled tasks failed; trying again")
            self._maintain()
        if self.durable and now - self._last_recovery >= 30 * opts.poll_seconds:
            self._last_recovery = now  # another process on this host may have died meanwhile
            try:
                self._recover_dead_workers()
            except Exception:
                logger.exception("looking for tasks of dead workers failed; trying again")
        try:
            due = self.queue.next_due(queue=self.queue_name, now=now)
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

    def _maintain(self) -> None:
        try:
            self.queue.maintain()
        except Exception:
            logger.debug("queue maintenance failed", exc_info=True)

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
                queue=self.queue_name, status=status, updated_after=since - 5.0, limit=100_000
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
        except BaseException as exc:
            # a reflector's asyncio.CancelledError or sys.exit() is its task's failure: escaping,
            # it would end this worker thread and leave the task and its future unsettled
            self._failed(task, exc)
        else:
            if not self.queue.complete(task.id, owner=self._owner, now=self.options.clock()):
                logger.warning("task %s finished after its lease was taken over", task.id)
            self._resolve(task.id, result=result)
        finally:
            with self._cond:
                self._running.discard(task.id)
                self._cond.notify_all()

    def _failed(self, task: Task, exc: BaseException) -> None:
        opts = self.options
        now = opts.clock()
        retryable = not isinstance(exc, (ConfigurationError, InvalidInputError))
        backoff = min(opts.backoff_seconds * 2 ** (task.attempts - 1), opts.max_backoff_seconds)
        error = _error_text(exc)
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
                # only while its future is still here: a newer submission may have replaced
                # (and settled) it since the failure was stored, and a stale due time would keep
                # shutdown(wait=True) waiting for ever
                if task.id in self._futures:
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
        context = _typed_context(self.reflector, configurable.pop(CONTEXT_KEY, None))
        with self._cond:
            store = self._run_stores.pop(task.id, None) or self.store
        configurable[_payload.TASK_ID_KEY] = task.id
        configurable[RUNTIME_KEY] = Runtime(context=context, store=store)
        config: Any = {**task.config, "configurable": configurable}
        payload = _payload.decode_payload(task.payload) if self.durable else task.payload
        with task_scope(task.id), set_config_context(config) as ctx:
            if _async_only(self.reflector):
                # RunnableLambda(async_fn) has no sync invoke: run it on this worker thread's
                # own event loop (the worker is not in one), in the task's context
                return ctx.run(asyncio.run, self.reflector.ainvoke(payload, config))
            return ctx.run(self.reflector.invoke, payload, config)


MAX_ERROR_CHARS = 20_000
"""Most characters of a failed attempt's error kept in the queue (a reflector may raise with a
whole model reply in its message)."""


def _error_text(exc: BaseException) -> str:
    """``exc`` as one storable line: every database takes it (no lone surrogates, which UTF-8
    cannot encode, and no NUL, which PostgreSQL text refuses), at most MAX_ERROR_CHARS long."""
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    if len(text) > MAX_ERROR_CHARS:
        cut = len(text) - MAX_ERROR_CHARS
        text = f"{text[:MAX_ERROR_CHARS]} [... {cut} more characters]"
    return text


def _typed_context(reflector: Any, context: Any) -> Any:
    """A durable task's runtime context (stored as JSON) as the reflector's ``context_schema``
    (a graph or ``@entrypoint`` with a dataclass or pydantic schema reads attributes, as
    LangGraph gives them when invoked with ``context=dict``)."""
    import dataclasses

    from pydantic import BaseModel

    schema = getattr(reflector, "context_schema", None)
    if not isinstance(context, dict) or not isinstance(schema, type):
        return context
    if not (dataclasses.is_dataclass(schema) or issubclass(schema, BaseModel)):
        return context  # a TypedDict is a dict
    try:
        return schema(**context)
    except Exception as exc:  # a field JSON could not hold was left out at submit
        logger.warning(
            "runtime context %r does not build %s (%s): the task gets it as a dict",
            sorted(context),
            schema.__name__,
            exc,
        )
        return context


def _async_only(reflector: Any) -> bool:
    """A ``RunnableLambda`` made from a coroutine function alone (its ``invoke`` raises)."""
    from langchain_core.runnables import RunnableLambda

    return isinstance(reflector, RunnableLambda) and not hasattr(reflector, "func")
