"""A reflector with a `context_schema` (an `@entrypoint` or graph, as in the manual's pattern)
gets its runtime context as that schema: a durable task stores the context as JSON and gave it
back as a dict, so `runtime.context.user_id` raised AttributeError in every attempt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langgraph.func import entrypoint
from langgraph.runtime import Runtime
from pydantic import BaseModel

from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from tests.reflection._support import index


@dataclass
class DataCtx:
    user_id: str


class ModelCtx(BaseModel):
    user_id: str


@pytest.mark.parametrize("schema", [DataCtx, ModelCtx], ids=["dataclass", "pydantic"])
def test_the_reflector_reads_its_context_schema(tmp_path: Path, schema: Any) -> None:
    store = SqliteStore(tmp_path / "m.sqlite", index=index())  # type: ignore[arg-type]

    @entrypoint(store=store, context_schema=schema)
    def reflect(payload: dict[str, Any], *, runtime: Runtime[Any]) -> str:
        return f"{runtime.context.user_id} said {payload['text']}"

    executor = LocalReflectionExecutor.with_options(reflect, store, max_attempts=1)

    @entrypoint(store=store, context_schema=schema)
    def app(text: str, *, runtime: Runtime[Any]) -> Any:
        return executor.submit({"text": text}, after_seconds=0)

    future = app.invoke("hello", context=schema(user_id="ana"))
    assert future.result(timeout=20) == "ana said hello"
    executor.shutdown(wait=True)
    store.close()
