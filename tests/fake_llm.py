"""A small OpenAI-compatible HTTP server on loopback, replying from a script."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeLLM:
    def __init__(self) -> None:
        self.replies: list[tuple[str, Any]] = []  # ("text", str) | ("drop", str) | ("status", int) | ("slow", seconds) | ("garbage", None)
        self.received: list[dict[str, Any]] = []
        self.url = ""

    def enqueue(self, *replies: tuple[str, Any]) -> None:
        self.replies.extend(replies)


class _Server(ThreadingHTTPServer):
    fake: FakeLLM


class Handler(BaseHTTPRequestHandler):
    """Answers each POST with the next scripted reply of the server's `fake`."""

    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        fake = self.server.fake
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        fake.received.append(body)
        kind: str
        value: Any
        kind, value = fake.replies.pop(0) if fake.replies else ("status", 500)
        if kind == "slow":
            time.sleep(value)
            kind, value = "text", "late"
        if kind == "status":
            self._send(value, {"error": {"message": "scripted failure"}}, {"Retry-After": "0"})
        elif kind == "garbage":
            self._raw(200, b"{not json")
        elif body.get("stream") and kind in ("text", "drop"):
            self._sse(body["model"], value, drop=kind == "drop")
        elif kind == "empty":
            self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []})
        else:
            self._send(200, {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                             "choices": [{"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": value}}]})

    def _sse(self, model: str, text: str, drop: bool) -> None:
        """The reply as streamed chunks, word by word; `drop` closes the connection halfway."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        words = text.split(" ")
        for i, w in enumerate(words):
            if drop and i == len(words) // 2:
                self.wfile.flush()
                self.connection.shutdown(2)  # the server died mid-answer
                return
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": model,
                     "choices": [{"index": 0, "delta": {"content": w + (" " if i < len(words) - 1 else "")},
                                  "finish_reason": "stop" if i == len(words) - 1 else None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")

    def _send(self, code: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._raw(code, json.dumps(data).encode(), headers)

    def _raw(self, code: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def serve() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    server = _Server(("127.0.0.1", 0), Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
