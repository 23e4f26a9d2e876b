"""A loopback stand-in for the two LangGraph server endpoints the remote executor uses.

- ``POST /threads/{thread_id}/runs``: records the body, answers with a pending run.
- ``POST /store/items/search``: answers from ``items`` (namespace prefix match), newest first.

Tests using it need ``@pytest.mark.enable_socket``. A real ``langgraph dev`` server is exercised
by ``bench/reflection_remote.py``.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


class LangGraphStub:
    def __init__(self, items: list[dict[str, Any]] | None = None) -> None:
        self.items = list(items or [])
        self.requests: list[tuple[str, dict[str, Any]]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append((self.path, body))
                parts = self.path.strip("/").split("/")
                if parts[0] == "threads" and parts[2:] == ["runs"]:
                    answer: Any = {
                        "run_id": str(uuid.uuid4()),
                        "thread_id": parts[1],
                        "assistant_id": body.get("assistant_id"),
                        "status": "pending",
                        "multitask_strategy": body.get("multitask_strategy"),
                        "metadata": {},
                        "created_at": "2026-01-01T00:00:00+00:00",
                        "updated_at": "2026-01-01T00:00:00+00:00",
                    }
                elif self.path == "/store/items/search":
                    prefix = body.get("namespace_prefix") or []
                    found = [i for i in stub.items if i["namespace"][: len(prefix)] == prefix]
                    answer = {"items": found[body.get("offset", 0) :][: body.get("limit", 10)]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LangGraphStub:
        self._thread.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
