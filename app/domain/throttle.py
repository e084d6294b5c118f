"""Login throttling, kept in Redis so every API process sees the same counts.

Failures are counted per account from one client address, per account from
every address, and per client address. Past a limit that key is locked for
`lock_seconds`, doubling with each further failure up to `lock_max_seconds`; a
locked login answers 429 with Retry-After.

Per account *and address* first: when five failures from anywhere locked the
account, anyone could keep `admin` locked out from their own machine. Now the
guesser's address is locked for that account, the owner elsewhere still signs
in, and only `login_max_failures_per_account` failures (ten times as many, so
from several addresses) lock the account for everyone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.core.errors import TooManyRequests, Unavailable
from app.settings import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How long failures are remembered without a new one.
WINDOW_SECONDS = 3600
#: How long a sign-in waits for Redis (to connect, then for each answer) before it is refused with 503.
REDIS_TIMEOUT_SECONDS = 2.0
#: What a client refused for want of Redis is told to wait.
RETRY_AFTER_SECONDS = 5


class LoginUnavailable(Unavailable):
    """The failure counts cannot be read or written (503): the client signs in again after `retry_after` seconds."""

    code = "login_unavailable"
    retry_after = RETRY_AFTER_SECONDS


def throttle_client(redis_url: str) -> redis.Redis:
    """The throttle's Redis client: bounded waits, and one more try on a new connection after a lost one."""
    return redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1),
    )


class LoginThrottle:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.prefix = f"{settings.redis_namespace}:login"

    def _keys(self, username: str, client_address: str) -> list[tuple[str, int]]:
        account = f"{self.prefix}:user:{username.lower()}"
        return [
            (f"{account}:from:{client_address}", self.settings.login_max_failures),
            (account, self.settings.login_max_failures_per_account),
            (f"{self.prefix}:addr:{client_address}", self.settings.login_max_failures_per_client),
        ]

    def _redis(self, what: Callable[[], T]) -> T:
        """`what()`, its Redis failure as 503 `login_unavailable`."""
        try:
            return what()
        except redis.RedisError as exc:
            logger.warning("sign-in refused: the login throttle cannot reach Redis (%s)", exc)
            raise LoginUnavailable(
                "sign-in is unavailable for a moment (its failure counts cannot be read); try again shortly"
            ) from None

    def check(self, username: str, client_address: str) -> None:
        """Raise TooManyRequests while the account or the address is locked."""
        pipe = self.client.pipeline(transaction=False)
        for key, _ in self._keys(username, client_address):
            pipe.pttl(f"{key}:lock")
        waits = [ms for ms in self._redis(pipe.execute) if ms and ms > 0]
        if waits:
            retry_after = math.ceil(max(waits) / 1000)
            raise TooManyRequests(
                f"too many failed logins; try again in {retry_after} s", retry_after=retry_after, code="login_locked"
            )

    def failed(self, username: str, client_address: str) -> None:
        """Count a failure; lock the account or address once over its limit."""
        self._redis(lambda: self._count_failure(username, client_address))

    def _count_failure(self, username: str, client_address: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        keys = self._keys(username, client_address)
        for key, _ in keys:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS)
        counts = pipe.execute()[::2]
        for (key, limit), count in zip(keys, counts, strict=True):
            if count >= limit:
                over = count - limit
                seconds = min(
                    self.settings.login_lock_max_seconds, self.settings.login_lock_seconds * 2 ** min(over, 30)
                )
                self.client.set(f"{key}:lock", "1", px=int(seconds * 1000))

    def succeeded(self, username: str, client_address: str) -> None:
        """Forget the account's failures (the owner is back); its address's own count stays."""
        pair, account = (key for key, _ in self._keys(username, client_address)[:2])
        try:
            self.client.delete(pair, f"{pair}:lock", account)
        except redis.RedisError as exc:  # signed in all the same: the counts expire on their own
            logger.warning("the login throttle could not forget %r's failures: %s", username, exc)
