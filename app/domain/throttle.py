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

import math

import redis

from app.core.errors import TooManyRequests
from app.settings import Settings

#: How long failures are remembered without a new one.
WINDOW_SECONDS = 3600


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

    def check(self, username: str, client_address: str) -> None:
        """Raise TooManyRequests while the account or the address is locked."""
        pipe = self.client.pipeline(transaction=False)
        for key, _ in self._keys(username, client_address):
            pipe.pttl(f"{key}:lock")
        waits = [ms for ms in pipe.execute() if ms and ms > 0]
        if waits:
            retry_after = math.ceil(max(waits) / 1000)
            raise TooManyRequests(
                f"too many failed logins; try again in {retry_after} s", retry_after=retry_after, code="login_locked"
            )

    def failed(self, username: str, client_address: str) -> None:
        """Count a failure; lock the account or address once over its limit."""
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
        self.client.delete(pair, f"{pair}:lock", account)
