"""A real HTTP receiver on loopback for webhook tests and the benchmark: records each POST, answers as scripted."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived


@dataclass(frozen=True)
class Answer:
    status: int = 200
    delay_seconds: float = 0.0
    body: bytes = b"ok"
    location: str | None = None


class Receiver:
    """Answers 200 unless `script` holds answers (taken one per request, in order)."""

    def __init__(self, *, keep_bodies: bool = True) -> None:
        self.received: list[Received] = []
        self.script: deque[Answer] = deque()
        self.keep_bodies = keep_bodies
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                arrived = time.time()
                with receiver._changed:
                    answer = receiver.script.popleft() if receiver.script else Answer()
                if answer.delay_seconds:
                    time.sleep(answer.delay_seconds)
                try:
                    self.send_response(answer.status)
                    if answer.location:
                        self.send_header("location", answer.location)
                    self.send_header("content-length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    return  # the sender gave up waiting (a timeout)
                with receiver._changed:
                    receiver.received.append(
                        Received(
                            {k.lower(): v for k, v in self.headers.items()},
                            body if receiver.keep_bodies else b"",
                            arrived,
                        )
                    )
                    receiver._changed.notify_all()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first `count` requests that were answered, waiting for them up to `timeout`."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"received {len(self.received)} webhooks, expected {count}")
            return list(self.received[:count])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
