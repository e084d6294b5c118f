"""Reading a Server-Sent Events stream as a browser would, for the log-stream tests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx


def sse_events(
    client: httpx.Client, path: str, *, headers: dict[str, str] | None = None, timeout: float = 30.0
) -> Iterator[dict[str, str]]:
    """The events of a Server-Sent Events response ({"event", "id", "data"}), until the server ends it."""
    deadline = time.monotonic() + timeout
    with client.stream("GET", path, headers={"Accept": "text/event-stream", **(headers or {})}) as response:
        assert response.status_code == 200, response.read().decode()
        assert response.headers["content-type"].startswith("text/event-stream")
        event: dict[str, str] = {}
        for line in response.iter_lines():
            assert time.monotonic() < deadline, f"the event stream {path} did not end within {timeout:g} s"
            if not line:
                if "data" in event or "event" in event:
                    yield event
                event = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            event[name] = f"{event[name]}\n{value}" if name == "data" and name in event else value
        if event:
            yield event
