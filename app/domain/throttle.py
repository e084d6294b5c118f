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

While Redis is unreachable no failure can be counted, so sign-in waits (503
`login_unavailable` with Retry-After) rather than let guesses through uncounted;
the outage is said once (app/redis_link.py). A sign-in that succeeded is not
undone for want of forgetting its earlier failures.
"""

from __future__ import annotations

import logging
import math

import redis

from app.core.errors import TooManyRequests, Unavailable
from app.redis_link import RedisLink, redis_unreachable, short_waits
from app.settings import Settings

logger = logging.getLogger(__name__)

#: How long failures are remembered without a new one.
WINDOW_SECONDS = 3600
#: What a client is told to wait before signing in again while Redis is unreachable.
RETRY_AFTER_SECONDS = 5


class LoginUnavailable(Unavailable):
    """Failed sign-ins cannot be counted (Redis is unreachable): sign-in waits, it does not go uncounted."""

    code = "login_unavailable"
    retry_after = RETRY_AFTER_SECONDS


def throttle_client(redis_url: str) -> redis.Redis:
    """The throttle's Redis client: the API's short waits, with one more try on a new connection after a lost one
    (the first sign-in after Redis dropped the API's connections met a pooled connection Redis had closed)."""
    return redis.Redis.from_url(redis_url, **short_waits())


class LoginThrottle:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.prefix = f"{settings.redis_namespace}:login"
        self.link = RedisLink(
            logger,
            while_lost="sign-ins answer 503 login_unavailable, as their failures cannot be counted",
            when_back="counting sign-in failures again",
        )

    def _unavailable(self, exc: redis.RedisError) -> Exception:
        """What a Redis error stops a sign-in with: LoginUnavailable for a lost Redis (said once per outage), else
        the error itself (a bug: a 500 with its traceback)."""
        if not redis_unreachable(exc):
            return exc
        self.link.lost(exc)
        return LoginUnavailable("sign-in is unavailable for a moment (its failures cannot be counted); try again")

    def _keys(self, username: str, client_address: str) -> list[tuple[str, int]]:
        account = f"{self.prefix}:user:{username.lower()}"
        return [
            (f"{account}:from:{client_address}", self.settings.login_max_failures),
            (account, self.settings.login_max_failures_per_account),
            (f"{self.prefix}:addr:{client_address}", self.settings.login_max_failures_per_client),
        ]

    def check(self, username: str, client_address: str) -> None:
        """Raise TooManyRequests while the account or the address is locked."""
        pipe = self.client.pipeline(transaction=False)
        for key, _ in self._keys(username, client_address):
            pipe.pttl(f"{key}:lock")
        try:
            waits = [ms for ms in pipe.execute() if ms and ms > 0]
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc
        self.link.ok()
        if waits:
            retry_after = math.ceil(max(waits) / 1000)
            raise TooManyRequests(
                f"too many failed logins; try again in {retry_after} s", retry_after=retry_after, code="login_locked"
            )

    def failed(self, username: str, client_address: str) -> None:
        """Count a failure; lock the account or address once over its limit."""
        try:
            self._count_failure(username, client_address)
        except redis.RedisError as exc:
            raise self._unavailable(exc) from exc

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
        except redis.RedisError as exc:
            if not redis_unreachable(exc):
                raise
            self.link.lost(exc)  # the tokens are issued: the failures are forgotten when their window ends
