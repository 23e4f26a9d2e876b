"""Run by test_first_claim: the import of langgraph.runtime takes 3 s; is a task claimed (and
an attempt used) before the worker can run it?"""

from __future__ import annotations

import importlib.abc
import sys
import time
from typing import Any


class _Slow(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "langgraph.runtime":
            time.sleep(3)
        return None


sys.meta_path.insert(0, _Slow())

from langchain_core.runnables import RunnableLambda  # noqa: E402

from langmem.reflection import LocalReflectionExecutor  # noqa: E402
from langmem.tasks import SqliteTaskQueue  # noqa: E402

path = sys.argv[1]
assert "langgraph.runtime" not in sys.modules
queue = SqliteTaskQueue(path)
executor = LocalReflectionExecutor.with_options(
    RunnableLambda(lambda payload: payload["n"]), None, task_queue=queue, durable=True
)
future = executor.submit({"n": 1}, thread_id="t")
time.sleep(1.5)
print(queue.list()[0].status.value, flush=True)
print(future.result(timeout=30), flush=True)
