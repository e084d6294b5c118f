"""uvicorn's httptools protocol with a bound on the request head, and its own refusals as problem+json.

uvicorn sets no limit on the request line and the headers when it parses with httptools, and httptools
keeps a header value in memory until its end arrives: one request with a 50 MB User-Agent was read
whole, and the API's memory rose by 100 MB for it. Here a connection whose head is still incomplete
after MAX_HEAD_BYTES is answered 431 and closed. (uvicorn's other parser, h11, stops at 16 KiB by itself.)

What httptools cannot parse (a bad request line, a bad header, a bad chunk size) uvicorn answers with a
text/plain 400 before any route runs; here that answer is problem+json with the code `malformed_request`,
like every other error of the API, and the connection is still closed.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.api.errors import MEDIA_TYPE as PROBLEM_MEDIA_TYPE
from app.api.schemas import Problem

#: Largest request head read (nginx allows 32 KiB by default, h11 16 KiB): bearer tokens and cookies are small.
MAX_HEAD_BYTES = 64 * 1024


def raw_problem(status: int, code: str, title: str, detail: str, *, headers: list[tuple[bytes, bytes]]) -> bytes:
    """A whole response, as problem+json, for a connection about to close: no route ran, so the trace id is new."""
    trace_id = uuid.uuid4().hex
    problem = Problem(
        type=f"urn:conveyor:problem:{code}", title=title, status=status, detail=detail, code=code, trace_id=trace_id
    )
    body = msgspec.json.encode(problem)
    head = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode("ascii"),
        *(name + b": " + value for name, value in headers),  # uvicorn's own (date, server), as on any response
        f"content-type: {PROBLEM_MEDIA_TYPE}".encode("ascii"),
        f"content-length: {len(body)}".encode("ascii"),
        f"x-request-id: {trace_id}".encode("ascii"),
        b"connection: close",
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def head_too_large_response(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The 431 for a request line and headers past MAX_HEAD_BYTES."""
    detail = f"the request line and headers are larger than {MAX_HEAD_BYTES} bytes"
    return raw_problem(431, "request_head_too_large", "Request header fields too large", detail, headers=headers)


def malformed_request_response(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The 400 for bytes that are not HTTP/1.1 (uvicorn's own answer is text/plain)."""
    detail = "the request is not valid HTTP/1.1: its request line, a header, or the framing of its body"
    return raw_problem(400, "malformed_request", "Malformed request", detail, headers=headers)


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
            self.transport.write(head_too_large_response(self.server_state.default_headers))
            self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to what httptools cannot parse (it has logged `msg`), as problem+json: 431 for a URL past
        the bound, else 400.

        Not once the current request's answer has begun (a bad chunk in a body read after the handler
        started to respond): a second status line would land inside that answer. The connection is closed.
        """
        cycle = self.cycle
        if len(self.url) >= MAX_HEAD_BYTES:
            # A URL past the bound whose end came in the read that took the count past it: httptools cannot parse a
            # URL of 64 KiB or more (its offsets are 16-bit), so it failed before data_received could refuse it.
            self.transport.write(head_too_large_response(self.server_state.default_headers))
        elif cycle is None or not cycle.response_started or cycle.response_complete:
            self.transport.write(malformed_request_response(self.server_state.default_headers))
        self.transport.close()

    def on_headers_complete(self) -> None:
        self._reading_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._reading_head = True
        self._completed += 1
        super().on_message_complete()
