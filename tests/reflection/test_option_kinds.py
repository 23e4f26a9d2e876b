"""ReflectionOptions refuse, when the executor is made, values that used to pass and then
broke the executor: an infinite poll or lease (the worker thread died with OverflowError, so
no task ever ran), a task_queue or clock of the wrong kind (AttributeError / TypeError), and a
non-bool durable (taken as True)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from langmem.errors import ConfigurationError
from langmem.reflection import ReflectionOptions
from langmem.tasks import MemoryTaskQueue


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"poll_seconds": math.inf}, "poll_seconds=inf: pass a finite number of seconds"),
        ({"lease_seconds": math.inf}, "lease_seconds=inf: pass a finite number of seconds"),
        ({"max_backoff_seconds": math.inf}, "max_backoff_seconds=inf"),
        ({"poll_seconds": 0}, "poll_seconds=0: pass a number of seconds > 0"),
        ({"durable": "yes"}, "durable='yes': pass True, False or None"),
        (
            {"task_queue": "sqlite:///q.sqlite"},
            "task_queue='sqlite:///q.sqlite' is not a TaskQueue",
        ),
        ({"clock": 5}, "clock=5: pass a function returning Unix seconds"),
    ],
)
def test_wrong_options_are_refused(options: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        ReflectionOptions(**options)
    assert named in str(caught.value)


def test_good_options_still_work() -> None:
    options = ReflectionOptions(durable=False, task_queue=MemoryTaskQueue(), poll_seconds=0.5)
    assert options.poll_seconds == 0.5
