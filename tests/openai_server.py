"""A real, minimal OpenAI-compatible chat server for tests (standard library only).

Usage::

    with FakeOpenAIServer(reply="Hello [1].") as server:
        config = LLMConfig(base_url=server.base_url, model="test")
        ...
        server.requests[-1]["messages"]  # what the model was given

It serves ``POST /v1/chat/completions`` (streamed as ``chat.completion.chunk`` server-sent
events, or as one ``chat.completion`` JSON body when the request says ``"stream": false``
or ``mode == "json"``) and ``GET /v1/models``. All attributes may be changed between
requests: ``reply`` (a string, or a callable taking the request body and returning one),
``delay`` (seconds before the first byte), ``chunk_size`` / ``chunk_delay`` (streaming
granularity), ``status`` (non-200 answers with an OpenAI-style error JSON) and ``mode``
(``"stream"``, ``"json"`` or ``"garbage"``, which sends a 200 HTML page).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

Reply = str | Callable[[dict[str, Any]], str]


class FakeOpenAIServer:
    """An OpenAI-compatible HTTP server on 127.0.0.1 (random port) in a background thread."""

    def __init__(
        self,
        reply: Reply = "Hello from the fake model.",
        *,
        mode: str = "stream",
        delay: float = 0.0,
        status: int = 200,
        chunk_size: int = 4,
        chunk_delay: float = 0.0,
    ) -> None:
        self.reply: Reply = reply
        self.mode = mode
        self.delay = delay
        self.status = status
        self.chunk_size = chunk_size
        self.chunk_delay = chunk_delay
        self.requests: list[dict[str, Any]] = []  # JSON bodies received, in order
        self.headers: list[dict[str, str]] = []  # their HTTP headers (lower-cased names)
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only while running)."""
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not running")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> Self:
        """Bind and start serving in a daemon thread."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self._stopping.clear()
        self._httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending delays are cut short so handlers finish promptly."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def reply_for(self, body: dict[str, Any]) -> str:
        """The reply text for one request body."""
        return self.reply(body) if callable(self.reply) else self.reply

    def sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; True when it is stopping."""
        return seconds > 0 and self._stopping.wait(seconds)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up; report anything else as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAIServer
    protocol_version = "HTTP/1.1"
    timeout = 10  # seconds an idle keep-alive connection may hold its thread

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._send_json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        else:
            self._send_json(404, _error("not found", "invalid_request_error"))

    def do_POST(self) -> None:
        fake = self.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, _error("not found", "invalid_request_error"))
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self._send_json(400, _error("request body is not JSON", "invalid_request_error"))
            return
        fake.requests.append(body)
        fake.headers.append({k.lower(): v for k, v in self.headers.items()})
        if fake.sleep(fake.delay):
            return
        try:
            if fake.status != 200:
                self._send_json(fake.status, _error(f"fake error {fake.status}", "server_error"))
            elif fake.mode == "garbage":
                self._send(200, "text/html", b"<html><body>Not an API</body></html>")
            elif fake.mode == "json" or not body.get("stream"):
                self._send_json(200, _completion(body, fake.reply_for(body)))
            else:
                self._stream(body, fake.reply_for(body))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away mid-answer

    def _stream(self, body: dict[str, Any], text: str) -> None:
        fake = self.fake
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        pieces = [{"role": "assistant", "content": ""}]
        size = max(1, fake.chunk_size)
        pieces += [{"content": text[i : i + size]} for i in range(0, len(text), size)]
        for index, delta in enumerate(pieces):
            if index > 1 and fake.sleep(fake.chunk_delay):
                return
            self._event(_chunk(body, delta, None))
        self._event(_chunk(body, {}, "stop"))
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(payload).encode())

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _chunk(body: dict[str, Any], delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }
