"""submit() refuses delays and configs it cannot schedule, before anything is queued."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from langmem import ReflectionExecutor
from langmem.errors import ConfigurationError, InvalidInputError
from langmem.reflection import LocalReflectionExecutor, ReflectionOptions
from langmem.stores import SqliteStore
from tests.reflection._support import Recorder, index


@pytest.fixture
def executor(tmp_path: Path) -> Any:
    store = SqliteStore(tmp_path / "q.sqlite", index=index())  # type: ignore[arg-type]
    made = ReflectionExecutor(Recorder().runnable(), store=store)
    yield made
    made.shutdown(wait=False, cancel_futures=True)
    store.close()


@pytest.mark.parametrize("delay", [math.nan, math.inf, -1, "5", None, True])
def test_a_delay_that_is_not_finite_seconds_is_refused(executor: Any, delay: Any) -> None:
    with pytest.raises(InvalidInputError, match=rf"after_seconds={delay!r} is not a delay"):
        executor.submit({"n": 1}, {"configurable": {"thread_id": "t"}}, after_seconds=delay)
    stats = executor.stats()
    assert (stats.pending, stats.running, stats.done) == (0, 0, 0)  # nothing was queued


def test_a_config_that_is_not_a_dict_is_named(executor: Any) -> None:
    with pytest.raises(InvalidInputError, match=r"config='t-1' is not a RunnableConfig"):
        executor.submit({"n": 1}, "t-1")
    assert executor.stats().pending == 0


def test_fractional_delays_still_run(executor: Any) -> None:
    assert executor.submit({"n": 2}, thread_id="t", after_seconds=0.01).result(timeout=20) == 2


def test_remote_submit_checks_the_delay_before_any_request() -> None:
    remote = ReflectionExecutor("memories", ("memories", "{u}"), url="http://127.0.0.1:9")
    with pytest.raises(InvalidInputError, match="after_seconds=nan"):
        remote.submit({"messages": []}, thread_id="t", after_seconds=math.nan)
    remote.shutdown()


def test_nan_options_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="poll_seconds=nan"):
        LocalReflectionExecutor.with_options(Recorder().runnable(), None, poll_seconds=math.nan)
    with pytest.raises(ConfigurationError, match="backoff_seconds=nan"):
        ReflectionOptions(backoff_seconds=math.nan)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"thread_id": ""}, r"thread_id='' is empty"),
        ({"thread_id": "  "}, r"thread_id='  ' is empty"),
        ({"config": {"configurable": {"thread_id": ""}}}, r"\['thread_id'\]='' is empty"),
    ],
)
def test_an_empty_thread_id_is_refused(executor: Any, kwargs: dict[str, Any], named: str) -> None:
    # before: every such submission shared the key '' and replaced another conversation's task
    with pytest.raises(InvalidInputError, match=named):
        executor.submit({"n": 1}, **kwargs)
    assert executor.stats().pending == 0
    remote = ReflectionExecutor("memories", ("memories", "{u}"), url="http://127.0.0.1:9")
    with pytest.raises(InvalidInputError, match=named):
        remote.submit({"messages": []}, **kwargs)
    remote.shutdown()
