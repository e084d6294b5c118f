"""A fault-injecting HTTP proxy in front of the test S3 server: lets requests through, then answers 503.

Tests point AWS_ENDPOINT_URL at it to make the store fail in the middle of a
multipart upload: only the part uploads (the store refuses more data), or every
request (the store is gone, so nobody can abort the upload either) until
`recover()`. Requests are forwarded with their own headers (the Host header
included), so their signatures still hold.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

UNAVAILABLE = b"<Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>"


class FaultProxy:
    """Forwards to 127.0.0.1:`target_port`; after `parts_ok` part uploads, answers 503 to parts (or to all)."""

    def __init__(
        self,
        target_port: int,
        *,
        parts_ok: int,
        everything: bool = False,
        rewrite: Callable[[str, str, bytes], bytes] | None = None,
    ) -> None:
        self.target_port = target_port
        #: Called with (method, path, body) of each answer the store gave; what it returns is sent instead.
        self.rewrite = rewrite
        self.parts_ok = parts_ok
        self.everything = everything
        self.parts = 0
        self.failing = False
        #: (method, path) of every request that reached the proxy, in order.
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="s3-fault-proxy", daemon=True)
        self._thread.start()

    def recover(self) -> None:
        """The store answers again, to everything."""
        with self._lock:
            self.failing = False
            self.parts_ok = 1 << 30

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _refuses(self, method: str, path: str) -> bool:
        is_part = method == "PUT" and "partNumber" in parse_qs(urlsplit(path).query)
        with self._lock:
            self.requests.append((method, path))
            if is_part:
                self.parts += 1
                if self.parts > self.parts_ok:
                    self.failing = True
            return self.failing and (is_part or self.everything)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the test reads `requests` instead."""

            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy._refuses(self.command, self.path):
                    self.answer(503, [], UNAVAILABLE)
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=60)
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                    response = upstream.getresponse()
                    data = response.read()
                    if proxy.rewrite is not None:
                        data = proxy.rewrite(self.command, self.path, data)
                    head = self.command == "HEAD"  # its Content-Length is the object's size: kept
                    skip = {"transfer-encoding", "connection"} | (set() if head else {"content-length"})
                    headers = [(k, v) for k, v in response.getheaders() if k.lower() not in skip]
                    self.answer(response.status, headers, data, head=head)
                finally:
                    upstream.close()

            def answer(self, status: int, headers: list[tuple[str, str]], data: bytes, *, head: bool = False) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                if not head:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not head:
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

        return Handler
