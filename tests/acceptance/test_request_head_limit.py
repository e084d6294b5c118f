"""The request head `conveyor api` reads is bounded: a huge header is refused with 431, not read into memory."""

from __future__ import annotations

import json
import socket

import pytest

from app.api.bounded_http import MAX_HEAD_BYTES
from tests.acceptance.harness import ConveyorSystem

pytestmark = pytest.mark.acceptance
#: What an outside tester sent: a User-Agent of 50 MB, which the API read whole (its memory rose by 100 MB).
HUGE = 50 * 1024 * 1024


def exchange(port: int, head: bytes, *, value_bytes: int = 0) -> tuple[bytes, int]:
    """Send `head`, then `value_bytes` more bytes of its last header, then the head's end (unless `head` ends it);
    return the answer and how many of the value's bytes the server took before it closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head)
        sent, chunk = 0, b"a" * 65536
        try:
            while sent < value_bytes:
                connection.sendall(chunk)
                sent += len(chunk)
            if not head.endswith(b"\r\n\r\n"):  # a whole head needs no end: bytes after it that the server,
                # having answered and closed, never reads make its kernel reset the connection, which can drop
                # the answer before it is read (flaky: ConnectionResetError in recv)
                connection.sendall(b"\r\nConnection: close\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server hung up, as it should: read its answer
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer, sent


def test_a_header_past_the_bound_is_431_and_the_connection_is_closed(system: ConveyorSystem) -> None:
    answer, sent = exchange(system.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: ", value_bytes=HUGE)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["code"] == "request_head_too_large"
    assert sent < HUGE  # the server stopped reading long before the header's end


def test_headers_within_the_bound_are_served_on_a_kept_alive_connection(system: ConveyorSystem) -> None:
    big = b"a" * (MAX_HEAD_BYTES // 2)
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: " + big + b"\r\n\r\n"
    # Two requests on one connection, each head half the bound: together past it, one at a time within it.
    answer, _ = exchange(system.port, request + b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: " + big)
    assert answer.count(b"HTTP/1.1 200 OK") == 2, answer[:600]


def test_a_malformed_request_is_answered_as_problem_json(system: ConveyorSystem) -> None:
    """`conveyor api` serves with the protocol of app/api/bounded_http.py: uvicorn's own 400 is text/plain."""
    answer, _ = exchange(system.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
    assert b"content-type: application/problem+json" in head.lower()
    assert json.loads(body)["code"] == "malformed_request"
