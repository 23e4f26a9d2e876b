"""Subprocess side of the crash tests: ``python _crash_worker.py MODE DB [ARG]``.

Modes:
- ``submit DB``: submit one extraction due in 1 s, print ``submitted``, then wait to be killed.
- ``midtask DB``: submit one extraction whose reflector writes its memories, prints
  ``written`` and then hangs (killed there: written but never marked done).
- ``resume DB``: start an executor on DB, wait until nothing is pending or running, print JSON.
- ``exit DB SECONDS``: submit one task due in SECONDS, then end the script at once.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from langchain_core.runnables import RunnableLambda

from langmem import create_memory_store_manager
from langmem._background._queue_name import default_queue_name
from langmem.embeddings import HashingEmbeddings
from langmem.reflection import LocalReflectionExecutor
from langmem.stores import SqliteStore
from langmem.testing import ScriptedChatModel, ai_tool_calls

CONFIG: Any = {"configurable": {"langgraph_user_id": "u1", "thread_id": "conv-1"}}
PAYLOAD = {"messages": [{"role": "user", "content": "I drink green tea every morning"}]}


def manager(store: SqliteStore) -> Any:
    # each process phrases the memory differently, as a real model would on a rerun
    reply = ai_tool_calls(("Memory", {"content": f"Drinks green tea (noted by {os.getpid()})"}))
    return create_memory_store_manager(ScriptedChatModel(default=reply), store=store)


def open_store(path: str) -> SqliteStore:
    return SqliteStore(path, index={"dims": 64, "embed": HashingEmbeddings(64)})


def main(mode: str, path: str, *rest: str) -> None:
    store = open_store(path)
    if mode == "submit":
        executor = LocalReflectionExecutor(manager(store), store)
        executor.submit(PAYLOAD, CONFIG, after_seconds=1)
        print("submitted", flush=True)
        time.sleep(600)
    elif mode == "midtask":
        inner = manager(store)

        def write_then_hang(payload: Any, config: Any) -> Any:
            inner.invoke(payload, config)
            print("written", flush=True)
            time.sleep(600)

        # the wrapper does the manager's job: it takes the manager's queue, which the resuming
        # executor (the manager itself, default queue name) then reads
        executor = LocalReflectionExecutor.with_options(
            RunnableLambda(write_then_hang), store, queue=default_queue_name(inner)
        )
        executor.submit(PAYLOAD, CONFIG)
        time.sleep(600)
    elif mode == "resume":
        executor = LocalReflectionExecutor.with_options(manager(store), store, poll_seconds=0.05)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stats = executor.stats()
            if stats.pending == 0 and stats.running == 0:
                break
            time.sleep(0.05)
        memories = store.search(("memories", "u1"), limit=100)
        print(
            json.dumps(
                {
                    "done": stats.done,
                    "pending": stats.pending,
                    "failed": stats.failed,
                    "memories": [m.value["content"]["content"] for m in memories],
                }
            ),
            flush=True,
        )
        executor.shutdown(wait=False)
    elif mode == "exit":
        seen = RunnableLambda(lambda payload: time.sleep(0.3))
        executor = LocalReflectionExecutor(seen, store)
        executor.submit(PAYLOAD, CONFIG, after_seconds=float(rest[0]))  # type: ignore[arg-type]
        if rest[1:] == ["sys.exit"]:
            sys.exit(0)
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(*sys.argv[1:])
