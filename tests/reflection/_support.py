"""Shared helpers for the executor tests: a recording reflector and a store manager setup."""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from langchain_core.runnables import RunnableLambda

from langmem.embeddings import HashingEmbeddings
from langmem.testing import ScriptedChatModel, ai_tool_calls

USER = {"configurable": {"langgraph_user_id": "u1"}}


class Recorder:
    """A reflector that records each run (payload marker), optionally slow or failing."""

    def __init__(self, *, delay: float = 0.0, fail_times: int = 0) -> None:
        self.runs: Counter[Any] = Counter()
        self.configs: list[dict[str, Any]] = []
        self.delay = delay
        self.fail_times = fail_times
        self.lock = threading.Lock()
        self.started = threading.Event()

    def __call__(self, payload: dict[str, Any], config: Any) -> Any:
        self.started.set()
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.configs.append(config)
            if self.fail_times > 0:
                self.fail_times -= 1
                raise RuntimeError("model unavailable")
            self.runs[payload.get("n")] += 1
        return payload.get("n")

    def runnable(self) -> RunnableLambda[Any, Any]:
        return RunnableLambda(self.__call__)


def index() -> dict[str, Any]:
    return {"dims": 64, "embed": HashingEmbeddings(64)}


def tea_model() -> ScriptedChatModel:
    """Always answers by inserting one memory, the same each time."""
    return ScriptedChatModel(default=ai_tool_calls(("Memory", {"content": "Drinks green tea"})))
