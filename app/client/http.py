"""The transport-free part of every call: what to send, when to retry, how to read an error.

The client's operations (flows.py) are generators that yield `Call`s (and `Sleep`s) and receive
`Reply`s, so the same code runs under the sync and the async client; only sending differs.
"""

from __future__ import annotations

import email.utils
import json
import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from app.client.errors import ApiError

T = TypeVar("T")

#: Statuses that say "not now, try again": the server did not act on the request.
RETRY_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Call:
    """One HTTP request, relative to the API's base URL (e.g. "/api/v1/runs")."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Statuses returned to the flow instead of raised (e.g. 404 when probing an upload).
    accept: frozenset[int] = frozenset()

    @property
    def replayable(self) -> bool:
        """Whether sending it twice is harmless after a lost answer (safe method, or an Idempotency-Key)."""
        return self.method in ("GET", "HEAD", "PUT", "DELETE") or "Idempotency-Key" in self.headers


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Sleep:
    """Ask the driver to wait (polling a run); yields no reply."""

    seconds: float


Flow = Generator["Call | Sleep", "Reply | None", T]


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on 429/503 (honouring Retry-After) and on lost connections; exponential backoff otherwise."""

    attempts: int = 6
    backoff: float = 0.5
    max_delay: float = 60.0
    jitter: float = 0.1
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def delay(self, attempt: int, status: int | None, headers: dict[str, str] | None = None) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to give up (attempt counts from 1)."""
        if attempt >= self.attempts:
            return None
        if status is not None and status not in RETRY_STATUSES:
            return None
        told = retry_after(headers or {}, self.clock())
        if told is not None:
            return min(told, self.max_delay)
        base = min(self.backoff * 2 ** (attempt - 1), self.max_delay)
        return base * (1 + self.jitter * random.random())


def retry_after(headers: dict[str, str], now: datetime) -> float | None:
    """The Retry-After header in seconds: a number of seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def decode(status: int, headers: dict[str, str], raw: bytes) -> Any:
    """The body as JSON when it says so, else the bytes."""
    kind = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if "json" in kind and raw:
        return json.loads(raw)
    return raw


def check(call: Call, reply: Reply) -> Reply:
    """The reply, or ApiError with the server's problem document."""
    if reply.status < 400 or reply.status in call.accept:
        return reply
    problem = reply.body if isinstance(reply.body, dict) else {"detail": _text(reply.body)}
    raise ApiError(reply.status, problem)


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body[:500].decode("utf-8", "replace")
    return str(body)[:500]


def request(call: Call) -> Flow[Any]:
    """A flow of one call, returning the decoded body."""
    reply = yield call
    assert reply is not None
    return reply.body
