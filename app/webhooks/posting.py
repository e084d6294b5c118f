"""One delivery attempt: POST to a checked address, no redirects, a timeout, a capped read of the answer."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from app.webhooks.targets import Target

#: Bytes of a receiver's answer that are kept for the delivery log.
EXCERPT_BYTES = 4096


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status code (None: no HTTP answer) or an error, and how long it took."""

    status_code: int | None
    error: str | None
    latency_ms: float
    excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def client(*, timeout: float, connections: int) -> httpx.Client:
    """A client shared by the sender's threads: never follows redirects, no environment proxies."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


def post(http: httpx.Client, target: Target, headers: dict[str, str], body: bytes) -> Answer:
    """POST `body` to the target's checked address (Host and TLS server name stay the URL's host)."""
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    started = time.perf_counter()
    try:
        request = http.build_request(
            "POST", target.pinned_url(), content=body, headers={**headers, "host": host_header}, extensions=extensions
        )
        response = http.send(request, stream=True)
        try:
            excerpt = bytearray()
            for chunk in response.iter_raw():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
        finally:
            response.close()
        text = bytes(excerpt[:EXCERPT_BYTES]).decode("utf-8", errors="replace")
        elapsed = (time.perf_counter() - started) * 1000
        error = f"redirect to {response.headers.get('location', '?')} not followed" if response.is_redirect else None
        return Answer(response.status_code, error, elapsed, text)
    except httpx.TimeoutException:
        return Answer(None, "timeout", (time.perf_counter() - started) * 1000, "")
    except httpx.HTTPError as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500], (time.perf_counter() - started) * 1000, "")
