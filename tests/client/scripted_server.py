"""A real HTTP server on loopback that answers from a script, and records what it was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Close the connection without answering (a lost answer).
    drop: bool = False
    #: Raw bytes instead of a JSON body (an event stream).
    raw: bytes | None = None


Script = Callable[[Seen], Answer]


@dataclass
class Server:
    url: str
    seen: list[Seen]


@contextmanager
def scripted_server(script: Script) -> Iterator[Server]:
    seen: list[Seen] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            split = urlsplit(self.path)
            request = Seen(self.command, split.path, parse_qs(split.query), dict(self.headers), self.rfile.read(length))
            seen.append(request)
            answer = script(request)
            if answer.drop:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if answer.raw is not None:
                payload, kind = answer.raw, "text/event-stream"
            elif answer.status >= 400:
                payload, kind = (
                    json.dumps(answer.body or {"code": f"e{answer.status}"}).encode(),
                    "application/problem+json",
                )
            else:
                payload, kind = json.dumps(answer.body).encode(), "application/json"
            self.send_response(answer.status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{server.server_address[1]}", seen)
    finally:
        server.shutdown()
        server.server_close()
