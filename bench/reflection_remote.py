"""RemoteReflectionExecutor against a real LangGraph server (``langgraph dev``, in memory).

Creates ``.bench-venvs/langgraph-server`` on first use (``pip install "langgraph-cli[inmem]"``
plus this repository), starts the server on 127.0.0.1 with langmem's memory graph (scripted
model, hashing embeddings) and the auth hook, then checks through ``langgraph_sdk``:

- two quick submits of one conversation leave one run (``multitask_strategy="rollback"``), a
  submit of another conversation its own; the memories land in the user's namespace;
- ``search``/``asearch`` read them back;
- the auth hook refuses another user's namespace (HTTP 403) and an unknown token (401).

Run: ``.venv/bin/python bench/reflection_remote.py``
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".bench-venvs" / "langgraph-server"

APP = """
from typing import Any
from langmem.embeddings import HashingEmbeddings
from langmem.graphs.semantic import build_memory_graph
from langmem.testing import ScriptedChatModel, ai_tool_calls

_EMBED = HashingEmbeddings(64)


def embed(texts: list[str]) -> list[list[float]]:
    return _EMBED.embed_documents(texts)


def graph(config: Any) -> Any:
    reply = ai_tool_calls(("Memory", {"content": "Drinks green tea"}))
    return build_memory_graph(ScriptedChatModel(default=reply))
"""


def server_python() -> Path:
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if not marker.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "langgraph-cli[inmem]"], check=True)
        subprocess.run([*pip, "-e", str(REPO)], check=True)
        marker.touch()
    return python


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the LangGraph server exited")
        try:
            if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the LangGraph server did not start")


def check(url: str) -> dict[str, Any]:
    from langgraph_sdk import get_client, get_sync_client

    from langmem import ReflectionExecutor

    alice = {"Authorization": "Bearer tok-alice"}
    executor = ReflectionExecutor(
        "memories",
        ("memories", "{langgraph_user_id}"),
        client=get_client(url=url, headers=alice),
        sync_client=get_sync_client(url=url, headers=alice),
    )
    messages = [{"role": "user", "content": "I drink green tea"}]
    first = executor.submit({"messages": messages}, thread_id="conv-1", after_seconds=2)
    second = executor.submit({"messages": messages}, thread_id="conv-1", after_seconds=2)
    other = executor.submit({"messages": messages}, thread_id="conv-2")
    runs = [f.result(timeout=60) for f in (first, second, other)]
    client = executor.sync_client
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        states = {
            r["thread_id"]: [x["status"] for x in client.runs.list(r["thread_id"])] for r in runs
        }
        if all(s and all(x in ("success", "error") for x in s) for s in states.values()):
            break
        time.sleep(0.5)
    hits = executor.search("tea", namespace=("memories", "alice"))
    ahits = asyncio.run(executor.asearch("tea", namespace=("memories", "alice")))
    refused: dict[str, Any] = {}
    try:
        client.store.search_items(("memories", "bob"))
    except Exception as exc:  # httpx.HTTPStatusError
        refused["other_user"] = getattr(getattr(exc, "response", None), "status_code", repr(exc))
    try:
        get_sync_client(url=url, headers={"Authorization": "Bearer nope"}).store.search_items(
            ("memories", "alice")
        )
    except Exception as exc:
        refused["unknown_token"] = getattr(getattr(exc, "response", None), "status_code", repr(exc))
    executor.shutdown()
    return {
        "runs_per_thread": {k: v for k, v in states.items()},
        "memories": [h["value"]["content"] for h in hits],
        "asearch_same": [h["key"] for h in hits] == [h["key"] for h in ahits],
        "refused": refused,
    }


def main() -> None:
    python = server_python()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        app = Path(folder)
        (app / "server_graph.py").write_text(APP)
        auth = str(REPO / "src" / "langmem" / "graphs" / "auth.py") + ":auth"
        config = {
            "dependencies": ["."],
            "graphs": {"memories": "./server_graph.py:graph"},
            "store": {"index": {"dims": 64, "embed": "./server_graph.py:embed"}},
            "auth": {"path": auth},
        }
        (app / "langgraph.json").write_text(json.dumps(config))
        env = {
            **os.environ,
            "LANGSMITH_TRACING": "false",
            "LANGGRAPH_CLI_NO_ANALYTICS": "1",
            "LANGMEM_API_TOKENS": "tok-alice=alice,tok-bob=bob",
        }
        command = [str(python.parent / "langgraph"), "dev", "--no-browser", "--no-reload"]
        proc = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=app,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_ready(url, proc)
            result = check(url)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(json.dumps(result, indent=1))
    runs = result["runs_per_thread"]
    ok = (
        sorted(len(v) for v in runs.values()) == [1, 1]
        and all(v == ["success"] for v in runs.values())
        and result["memories"] == [{"content": "Drinks green tea"}]
        and result["asearch_same"]
        and result["refused"] == {"other_user": 403, "unknown_token": 401}
    )
    print("real LangGraph server check:", "ok" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
