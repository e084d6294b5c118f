"""uvicorn's httptools protocol with a bound on the request head (the request line and the headers).

uvicorn sets no limit there when it parses with httptools, and httptools keeps a header value in memory
until its end arrives: one request with a 50 MB User-Agent was read whole, and the API's memory rose by
100 MB for it. Here a connection whose head is still incomplete after MAX_HEAD_BYTES is answered 431 and
closed. (uvicorn's other parser, h11, stops at 16 KiB by itself.)
"""

from __future__ import annotations

import uuid

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.api.errors import MEDIA_TYPE as PROBLEM_MEDIA_TYPE

#: Largest request head read (nginx allows 32 KiB by default, h11 16 KiB): bearer tokens and cookies are small.
MAX_HEAD_BYTES = 64 * 1024


def head_too_large_response() -> bytes:
    """The raw 431 response, as problem+json like every other error (no route ran: the trace id is new)."""
    trace_id = uuid.uuid4().hex
    body = msgspec.json.encode(
        {
            "type": "urn:conveyor:problem:request_head_too_large",
            "title": "Request header fields too large",
            "status": 431,
            "detail": f"the request line and headers are larger than {MAX_HEAD_BYTES} bytes",
            "code": "request_head_too_large",
            "trace_id": trace_id,
        }
    )
    head = (
        "HTTP/1.1 431 Request Header Fields Too Large\r\n"
        f"content-type: {PROBLEM_MEDIA_TYPE}\r\n"
        f"content-length: {len(body)}\r\n"
        f"x-request-id: {trace_id}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """Counts the bytes that arrive while a request's head is incomplete, and refuses past MAX_HEAD_BYTES."""

    #: True from the connection's start, or the end of a request, until the next request's headers are complete.
    _reading_head = True
    #: Bytes received while the current head is incomplete (a chunk that also ended an earlier request is not
    #: counted: it holds that request's bytes too, so the bound is at most one read larger, never smaller).
    _head_bytes = 0
    #: Requests completed on this connection (keep-alive), to tell whether a chunk began a new one.
    _completed = 0

    def data_received(self, data: bytes) -> None:
        completed = self._completed
        super().data_received(data)
        if not self._reading_head or self.transport.is_closing():
            self._head_bytes = 0
            return
        self._head_bytes = 0 if self._completed != completed else self._head_bytes + len(data)
        if self._head_bytes > MAX_HEAD_BYTES:
            self.transport.write(head_too_large_response())
            self.transport.close()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_head = True
        self._completed += 1
        super().on_message_complete()
