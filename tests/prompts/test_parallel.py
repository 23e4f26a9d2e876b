"""The Parallel effect (``langmem._flow``) and side-by-side flows (``in_parallel``)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from langchain_core.runnables import RunnableLambda

from langmem._flow import Flow, ModelCall, Parallel, run_async, run_sync
from langmem.prompts._engine import in_parallel


def _echo_runnable(seen_threads: set[int] | None = None) -> Any:
    barrier = threading.Barrier(3, timeout=5)

    def echo(value: Any) -> Any:
        if seen_threads is not None:
            seen_threads.add(threading.get_ident())
            barrier.wait()  # all three run at once, or this times out
        if value == "boom":
            raise RuntimeError("boom")
        return f"<{value}>"

    async def aecho(value: Any) -> Any:
        await asyncio.sleep(0)
        if value == "boom":
            raise RuntimeError("boom")
        return f"<{value}>"

    return RunnableLambda(echo, afunc=aecho)


def _gather(runnable: Any, values: list[str]) -> Flow[list[Any]]:
    results = yield Parallel([ModelCall(runnable, v) for v in values])
    return list(results)


def test_sync_parallel_runs_concurrently_and_keeps_order() -> None:
    threads: set[int] = set()
    out = run_sync(_gather(_echo_runnable(threads), ["a", "b", "c"]))
    assert out == ["<a>", "<b>", "<c>"]
    assert len(threads) == 3


async def test_async_parallel_keeps_order() -> None:
    assert await run_async(_gather(_echo_runnable(), ["a", "b", "c"])) == ["<a>", "<b>", "<c>"]


def _recovering(runnable: Any) -> Flow[str]:
    try:
        yield Parallel([ModelCall(runnable, "ok"), ModelCall(runnable, "boom")])
    except RuntimeError as exc:
        return f"caught {exc}"
    return "no error"


async def test_a_failure_is_thrown_into_the_flow_both_ways() -> None:
    runnable = _echo_runnable()
    assert run_sync(_recovering(runnable)) == "caught boom"
    assert await run_async(_recovering(runnable)) == "caught boom"


def _steps(runnable: Any, name: str, count: int) -> Flow[str]:
    seen = []
    for step in range(count):
        seen.append((yield ModelCall(runnable, f"{name}{step}")))
    return "".join(seen)


@pytest.mark.parametrize("driver", ["sync", "async"])
async def test_in_parallel_runs_flows_of_different_lengths(driver: str) -> None:
    runnable = _echo_runnable()
    flows = [_steps(runnable, "x", 2), _steps(runnable, "y", 0), _steps(runnable, "z", 3)]
    combined = in_parallel(flows)
    out = run_sync(combined) if driver == "sync" else await run_async(combined)
    assert out == ["<x0><x1>", "", "<z0><z1><z2>"]


@pytest.mark.parametrize("driver", ["sync", "async"])
async def test_in_parallel_propagates_a_failing_call(driver: str) -> None:
    runnable = _echo_runnable()
    finishing = in_parallel([_steps(runnable, "x", 2), _steps(runnable, "boom", 0)])
    failing = in_parallel([_steps(runnable, "a", 1), _single(runnable, "boom")])
    assert (run_sync(finishing) if driver == "sync" else await run_async(finishing)) == [
        "<x0><x1>",
        "",
    ]
    with pytest.raises(RuntimeError, match="boom"):
        run_sync(failing) if driver == "sync" else await run_async(failing)


def _single(runnable: Any, value: str) -> Flow[Any]:
    return (yield ModelCall(runnable, value))
