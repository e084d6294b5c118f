"""The API's HTTP protocol, on a real uvicorn server: what it cannot parse is refused as problem+json and closed."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn

from app.api.bounded_http import MAX_HEAD_BYTES, BoundedHttpToolsProtocol


async def echo_app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Reads the whole body, answers 200 with its length (so a parse error mid-body is the server's to answer).

    On /early it starts its answer first, then reads the body, as a handler that streams may.
    """
    if scope["path"] == "/early":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"early", "more_body": True})
    size, more = 0, True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size, more = size + len(message.get("body", b"")), message.get("more_body", False)
    body = str(size).encode()
    if scope["path"] == "/early":
        await send({"type": "http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    """A uvicorn server with the API's protocol on a free loopback port (bound here: connections queue at once)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    config = uvicorn.Config(
        echo_app, http=BoundedHttpToolsProtocol, loop="asyncio", lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)
    listener.close()


def exchange(port: int, request: bytes) -> tuple[bytes, dict[str, str], bytes]:
    """Send `request` and read until the server closes: the status line, the headers, the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.split(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.decode().partition(":") for line in lines)}
    return status, headers, body


MALFORMED = {
    "request line": b"GET /a b c d\r\nHost: x\r\n\r\n",
    "header without a colon": b"GET / HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
    "control character in a header": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    "chunk size": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n",
    "not HTTP at all": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,  # a TLS hello
}


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_is_a_problem_400_and_the_connection_closes(port: int, request_bytes: bytes) -> None:
    status, headers, body = exchange(port, request_bytes)
    assert status == b"HTTP/1.1 400 Bad Request"
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    problem = json.loads(body)
    assert (problem["status"], problem["code"], problem["type"]) == (
        400,
        "malformed_request",
        "urn:conveyor:problem:malformed_request",
    )
    assert problem["title"] == "Malformed request"
    assert "not valid HTTP/1.1" in problem["detail"]
    assert problem["trace_id"] == headers["x-request-id"]


def test_a_head_past_the_bound_is_a_problem_431(port: int) -> None:
    status, headers, body = exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (MAX_HEAD_BYTES + 1024))
    assert status == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert (headers["content-type"], headers["connection"]) == ("application/problem+json", "close")
    assert json.loads(body)["code"] == "request_head_too_large"


def test_a_request_line_past_the_bound_is_a_problem_431_though_its_head_arrives_whole(port: int) -> None:
    """An outside tester's 66 KB cursor: httptools failed to parse the URL of a whole request line and the answer was
    400 malformed_request, though the head is valid HTTP/1.1 and only too large."""
    for size in (MAX_HEAD_BYTES, MAX_HEAD_BYTES + 4096):
        status, headers, body = exchange(port, b"GET /?cursor=" + b"a" * size + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == b"HTTP/1.1 431 Request Header Fields Too Large", (size, body[:200])
        assert (headers["content-type"], headers["connection"]) == ("application/problem+json", "close")
        assert json.loads(body)["code"] == "request_head_too_large"


def test_a_well_formed_request_is_served(port: int) -> None:
    head = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    request = head + b"3\r\nabc\r\n0\r\n\r\n"
    status, _, body = exchange(port, request)
    assert (status, body) == (b"HTTP/1.1 200 OK", b"3")


def test_a_bad_chunk_after_the_answer_began_closes_the_connection_without_a_second_status_line(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"POST /early HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        answer = b""
        while b"early" not in answer:
            answer += connection.recv(65536)
        connection.sendall(b"ZZ\r\nabc\r\n")
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 OK")
    assert b"HTTP/1.1 400" not in answer
