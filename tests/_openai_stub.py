"""A local stand-in for the OpenAI chat-completions API, for tests with a real provider client.

Our tool schemas and messages then go through ``langchain-openai``'s real serializer, and the
client parses real HTTP responses. The server listens on 127.0.0.1 only and records every request
body. Tests using it need ``@pytest.mark.enable_socket``.

Example:
    replies = [assistant_tool_calls(("manage_memory", {"content": "x"})), assistant_text("ok")]
    with OpenAIStub(replies) as stub:
        model = stub.chat_model()
        ...
        stub.requests[0]["tools"]
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

# A reply is an OpenAI assistant message dict, or a function of (request body, request number).
Reply = dict[str, Any] | Callable[[dict[str, Any], int], dict[str, Any]]


def assistant_text(text: str) -> dict[str, Any]:
    """An assistant message with plain text."""
    return {"role": "assistant", "content": text}


def assistant_tool_calls(*calls: tuple[str, dict[str, Any] | str]) -> dict[str, Any]:
    """An assistant message calling tools; arguments as a dict, or a raw (maybe broken) string."""
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": args if isinstance(args, str) else json.dumps(args),
                },
            }
            for i, (name, args) in enumerate(calls, 1)
        ],
    }


class OpenAIStub:
    """Serve chat completions from scripted replies on a free loopback port.

    Args:
        replies: one reply per request, in order (a list), or one function for every request.
    """

    def __init__(self, replies: Sequence[Reply] | Callable[[dict[str, Any], int], dict[str, Any]]):
        self.requests: list[dict[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                number = len(stub.requests)
                reply = replies if callable(replies) else replies[number - 1]
                message = reply(body, number) if callable(reply) else reply
                finish = "tool_calls" if message.get("tool_calls") else "stop"
                payload = json.dumps(
                    {
                        "id": f"chatcmpl-{number}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "message": message,
                                "finish_reason": finish,
                            }
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def chat_model(self, **kwargs: Any) -> Any:
        """A ``ChatOpenAI`` client pointed at this stub."""
        from langchain_openai import ChatOpenAI

        options = {"model": "gpt-4o-mini", "api_key": "sk-test", "max_retries": 0, **kwargs}
        return ChatOpenAI(base_url=self.url, **options)

    def __enter__(self) -> OpenAIStub:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
