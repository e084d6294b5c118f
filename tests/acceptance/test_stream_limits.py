"""Live log streams are bounded: one client that opens streams and leaves them open gets 429 too_many_streams past
its share, instead of the API falling back to polling Postgres for each (1,500 left open made an ordinary request
wait 25 s), and a stream the client closes frees its slot."""

from __future__ import annotations

import contextlib
import socket

import pytest

from app.settings import Settings
from tests.acceptance.harness import ConveyorSystem, wait_until

PER_USER = Settings().max_live_streams_per_user


def open_stream(system: ConveyorSystem, path: str) -> tuple[socket.socket, bytes]:
    """A raw connection following `path`, and the head of its response (read up to the blank line)."""
    conn = socket.create_connection(("127.0.0.1", system.port), timeout=10)
    token = system.http.headers["Authorization"]
    conn.sendall(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            break
        head += chunk
    return conn, head


@pytest.mark.acceptance
def test_streams_past_a_users_share_are_refused_and_a_closed_one_frees_its_slot(system: ConveyorSystem) -> None:
    # Given a run that stays quiet for a while, and a client following its log PER_USER times
    pipeline = system.create_pipeline([{"type": "sleep", "seconds": 60}])
    run_id = system.submit(pipeline["id"])["id"]
    path = f"/api/v1/runs/{run_id}/logs/stream"
    held: list[socket.socket] = []
    try:
        for _ in range(PER_USER):
            conn, head = open_stream(system, path)
            held.append(conn)
            assert head.startswith(b"HTTP/1.1 200"), head

        # When it opens one more
        refused = system.http.get(path, timeout=10)

        # Then that one is refused at once, saying why and when to try again
        assert refused.status_code == 429, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "too_many_streams"
        assert int(refused.headers["Retry-After"]) > 0

        # And once it closes one of its streams, it may open another
        held.pop().close()

        def reopened() -> bool:
            conn, head = open_stream(system, path)
            if head.startswith(b"HTTP/1.1 200"):
                held.append(conn)
                return True
            conn.close()
            return False

        wait_until(reopened, timeout=20, what="a closed stream's slot to be given back", interval=0.5)
    finally:
        for conn in held:
            with contextlib.suppress(OSError):
                conn.close()
        system.cancel(run_id)
