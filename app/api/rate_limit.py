"""The general API rate limit: per token and per address, counted in Redis so all API processes share it.

The guard asks here once per request, after it knows who is calling: a
request with a valid token counts against that token, anything else (public
routes such as sign-in, missing or invalid tokens) against the caller's
address, so rotating made-up tokens does not escape the address's limit.
Health probes, the Prometheus endpoint and the console's own files are never
limited: one page load of the console fetches some 50 hashed assets, so with
them counted twenty-odd page loads a minute from one address (an office behind
one NAT, or two browser tests at once) used up the limit, and a script refused
429 left a blank page or a sign-in whose next page never loaded. Counting uses
the `limits` library's sliding-window counter (two atomic Redis counters per
key); if Redis cannot be reached, requests are let through and a warning is
logged, since the API must not stop because its limiter did. While it is lost,
only one request every few seconds tries Redis (RedisLink.may_try): a silent
Redis would otherwise add its timeout to every request.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from litestar.connection import ASGIConnection
from redis.exceptions import RedisError

from app.api.client_address import client_address
from app.core.errors import TooManyRequests
from app.redis_link import RedisLink, redis_unreachable, short_waits
from app.settings import Settings

logger = logging.getLogger(__name__)

#: Paths no limit applies to: probes and scrapes must answer however busy the API is.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/api/v1/healthz", "/api/v1/readyz", "/metrics"})

#: Route `opt` of the handlers no limit applies to: the console's pages and files (app/api/console.py), a file
#: read each, where a 429 on one of a page's scripts leaves the page blank.
NOT_LIMITED = {"rate_limit": False}


def _storage_uri(redis_url: str) -> str:
    """The `limits` form of a Redis URL (`redis://…` → `async+redis://…`, `unix://…` → `async+redis+unix://…`).

    redis-py takes `redis://host/0` with the default port; `limits` refuses a location without one, so it is added.
    """
    parts = urlsplit(redis_url)
    if parts.scheme in ("redis", "rediss") and parts.port is None:
        netloc = parts.netloc if parts.hostname else f"{parts.netloc}localhost"
        redis_url = urlunsplit(parts._replace(netloc=f"{netloc}:6379"))
    return f"async+{redis_url}" if redis_url.startswith("redis") else f"async+redis+{redis_url}"


class RateLimit:
    def __init__(self, settings: Settings) -> None:
        self.per_token = _item(settings.rate_limit_per_minute)
        self.per_address = _item(settings.rate_limit_per_address_per_minute)
        self.storage = RedisStorage(
            _storage_uri(settings.redis_url),
            implementation="redispy",
            key_prefix=f"{settings.redis_namespace}:ratelimit",
            wrap_exceptions=False,
            **short_waits(asynchronous=True),  # an unreachable Redis must not hold requests up
        )
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)
        self.link = RedisLink(
            logger,
            while_lost="the rate limit is not applied until it is back",
            when_back="the rate limit applies again",
            deferred="requests not counted",
        )

    async def by_token(self, connection: ASGIConnection[Any, Any, Any, Any], token: str) -> None:
        """Count a request made with a valid token; raise TooManyRequests past the limit."""
        if self.per_token is not None and not _exempt(connection):
            await self._hit(self.per_token, "token", hashlib.sha256(token.encode()).hexdigest()[:32])

    async def by_address(self, connection: ASGIConnection[Any, Any, Any, Any]) -> None:
        """Count a request without a valid token against the caller's address."""
        if self.per_address is not None and not _exempt(connection):
            await self._hit(self.per_address, "address", client_address(connection.scope) or "-")

    async def _hit(self, item: RateLimitItem, kind: str, identity: str) -> None:
        if not self.link.may_try():  # Redis is lost and another request is the probe: not counted, not waited for
            self.link.skipped()
            return
        try:
            allowed = await self.limiter.hit(item, kind, identity)
            self.link.ok()
            if allowed:
                return
            stats = await self.limiter.get_window_stats(item, kind, identity)
        except (RedisError, OSError) as exc:
            if not redis_unreachable(exc):
                logger.warning("rate limit not applied: Redis refused the count (%s)", exc)
            else:
                self.link.lost(exc, deferred=1)
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"more than {item.amount} requests per minute for this {kind}; try again in {retry_after} s",
            retry_after=retry_after,
            code="rate_limited",
        )

    async def close(self) -> None:
        client = getattr(self.storage.bridge, "storage", None)
        if client is not None:
            await client.aclose()


def _item(per_minute: int) -> RateLimitItem | None:
    return RateLimitItemPerMinute(per_minute) if per_minute > 0 else None


def _exempt(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    if connection.scope.get("path", "") in EXEMPT_PATHS:
        return True
    handler = connection.scope.get("route_handler")
    return handler is not None and handler.opt.get("rate_limit", True) is False
