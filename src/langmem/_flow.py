"""One implementation for sync and async: flows that yield effects to a driver.

A *flow* is a generator holding the whole logic of an operation. Whenever it needs IO it yields
an effect (:class:`StoreBatch`, :class:`ModelCall`, or :class:`Parallel` for several at once)
and receives the result back through ``send``. :func:`run_sync` and :func:`run_async` are the
only places that perform IO, so the sync and async entry points of every feature share the same
code path and send the same traffic.

Example:
    >>> from langgraph.store.memory import InMemoryStore
    >>> from langgraph.store.base import GetOp
    >>> def flow(store):
    ...     (item,) = yield StoreBatch(store, (GetOp(("ns",), "k"),))
    ...     return item
    >>> run_sync(flow(InMemoryStore())) is None
    True
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.store.base import BaseStore, Op

    from langmem._expect import Expected

T = TypeVar("T")


@dataclass(frozen=True)
class StoreBatch:
    """Run ``ops`` in one ``store.batch`` / ``store.abatch`` call; the flow receives the results."""

    store: BaseStore
    ops: Sequence[Op]
    expect: Sequence[Expected] = ()
    """Memories as the flow read them: the batch is written only if they are still so, else
    :class:`~langmem.errors.WriteConflictError` is thrown into the flow (see
    :mod:`langmem._expect`)."""


@dataclass(frozen=True)
class ModelCall:
    """Invoke ``runnable`` with ``input``; the flow receives its output."""

    runnable: Any
    input: Any
    config: RunnableConfig | None = field(default=None)
    input_only: bool = False
    """Call ``invoke(input)`` alone, as upstream langmem does (a model object whose ``invoke``
    takes only the input works); ``config`` then reaches LangChain runnables through the
    runnable context (``var_child_runnable_config``), merged with the caller's."""


@dataclass(frozen=True)
class Parallel:
    """Perform several effects concurrently; the flow receives their results as a list, in order.

    The sync driver uses a thread pool, the async driver ``asyncio.gather``. Every effect runs to
    completion; if any failed, the first failure (in order) is thrown into the flow.
    """

    effects: Sequence[StoreBatch | ModelCall]


Effect = StoreBatch | ModelCall | Parallel
Flow = Generator[Effect, Any, T]


def run_sync(flow: Flow[T]) -> T:
    """Drive ``flow`` with blocking IO and return its result."""
    try:
        effect = next(flow)
        while True:
            try:
                result = _perform_sync(effect)
            except Exception as exc:  # the flow decides whether an IO error is fatal
                effect = flow.throw(exc)
            else:
                effect = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def run_async(flow: Flow[T]) -> T:
    """Drive ``flow`` with asyncio IO and return its result."""
    try:
        effect = next(flow)
        while True:
            try:
                result = await _perform_async(effect)
            except Exception as exc:
                effect = flow.throw(exc)
            else:
                effect = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _perform_sync(effect: Effect) -> Any:
    if isinstance(effect, Parallel):
        return _perform_parallel_sync(effect)
    if isinstance(effect, StoreBatch):
        if effect.expect:
            from langmem._expect import batch_sync

            return batch_sync(effect.store, effect.ops, effect.expect)
        return effect.store.batch(effect.ops)
    if isinstance(effect, ModelCall):
        config = _internal(effect.config)
        if not effect.input_only:
            return effect.runnable.invoke(effect.input, config)
        token = _enter_config(config)
        try:
            return effect.runnable.invoke(effect.input)
        finally:
            _exit_config(token)
    raise TypeError(f"unknown effect {effect!r}")  # pragma: no cover - programming error


def _internal(config: RunnableConfig | None) -> RunnableConfig:
    """``config`` with LangGraph's ``nostream`` tag added to the caller's tags: langmem's model
    calls (extraction, summaries, prompt rewrites) are not the graph's answer, so a graph
    streamed with ``stream_mode="messages"`` does not show them to its user (as LangChain's
    own summarization middleware does)."""
    from langchain_core.runnables.config import ensure_config
    from langgraph.constants import TAG_NOSTREAM

    tags = list(ensure_config(config).get("tags") or [])
    if TAG_NOSTREAM not in tags:
        tags.append(TAG_NOSTREAM)
    return {**(config or {}), "tags": tags}


async def _perform_async(effect: Effect) -> Any:
    if isinstance(effect, Parallel):
        return await _perform_parallel_async(effect)
    if isinstance(effect, StoreBatch):
        if effect.expect:
            from langmem._expect import batch_async

            return await batch_async(effect.store, effect.ops, effect.expect)
        return await effect.store.abatch(effect.ops)
    if isinstance(effect, ModelCall):
        config = _internal(effect.config)
        if not effect.input_only:
            return await effect.runnable.ainvoke(effect.input, config)
        token = _enter_config(config)
        try:
            return await effect.runnable.ainvoke(effect.input)
        finally:
            _exit_config(token)
    raise TypeError(f"unknown effect {effect!r}")  # pragma: no cover - programming error


def _enter_config(config: RunnableConfig | None) -> Any:
    from langchain_core.runnables.config import ensure_config, var_child_runnable_config

    # ensure_config starts from the caller's runnable context (callbacks, tags of a graph run)
    return var_child_runnable_config.set(ensure_config(config))


def _exit_config(token: Any) -> None:
    from langchain_core.runnables.config import var_child_runnable_config

    var_child_runnable_config.reset(token)


def _perform_parallel_sync(effect: Parallel) -> list[Any]:
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    effects = list(effect.effects)
    if len(effects) <= 1:
        return [_perform_sync(e) for e in effects]
    # each worker runs in a copy of the caller's context, so callbacks and config see the run
    with ThreadPoolExecutor(max_workers=len(effects)) as pool:
        futures = [pool.submit(contextvars.copy_context().run, _perform_sync, e) for e in effects]
        outcomes = [(f.exception(), f) for f in futures]
    return _results_or_first_error([(e, None if e else f.result()) for e, f in outcomes])


async def _perform_parallel_async(effect: Parallel) -> list[Any]:
    import asyncio

    gathered = await asyncio.gather(
        *(_perform_async(e) for e in effect.effects), return_exceptions=True
    )
    outcomes = [(r, None) if isinstance(r, BaseException) else (None, r) for r in gathered]
    return _results_or_first_error(outcomes)


def _results_or_first_error(outcomes: Sequence[tuple[BaseException | None, Any]]) -> list[Any]:
    for error, _ in outcomes:
        if error is not None:
            raise error
    return [result for _, result in outcomes]
