"""One implementation for sync and async: flows that yield effects to a driver.

A *flow* is a generator holding the whole logic of an operation. Whenever it needs IO it yields
an effect (:class:`StoreBatch` or :class:`ModelCall`) and receives the result back through
``send``. :func:`run_sync` and :func:`run_async` are the only places that perform IO, so the
sync and async entry points of every feature share the same code path and send the same traffic.

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
from typing import TYPE_CHECKING, Any, TypeVar, Union

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig
    from langgraph.store.base import BaseStore, Op

T = TypeVar("T")


@dataclass(frozen=True)
class StoreBatch:
    """Run ``ops`` in one ``store.batch`` / ``store.abatch`` call; the flow receives the results."""

    store: BaseStore
    ops: Sequence[Op]


@dataclass(frozen=True)
class ModelCall:
    """Invoke ``runnable`` with ``input``; the flow receives its output."""

    runnable: Any
    input: Any
    config: RunnableConfig | None = field(default=None)


Effect = Union[StoreBatch, ModelCall]
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
    if isinstance(effect, StoreBatch):
        return effect.store.batch(effect.ops)
    if isinstance(effect, ModelCall):
        return effect.runnable.invoke(effect.input, effect.config)
    raise TypeError(f"unknown effect {effect!r}")  # pragma: no cover - programming error


async def _perform_async(effect: Effect) -> Any:
    if isinstance(effect, StoreBatch):
        return await effect.store.abatch(effect.ops)
    if isinstance(effect, ModelCall):
        return await effect.runnable.ainvoke(effect.input, effect.config)
    raise TypeError(f"unknown effect {effect!r}")  # pragma: no cover - programming error
