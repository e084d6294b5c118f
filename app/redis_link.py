"""Whether one component of a process can reach Redis, said once per outage: a warning when lost, an info line when
back, debug in between.

Every component that talks to Redis (a worker's consumers and its live-log sender, the scheduler's relay and reaper,
the API's eager sender, live-log followers, rate limit and sign-in throttle) rides out a Redis outage: Postgres has
every run and every log line, and what could not be sent is sent again when Redis is back. Said at each failed call,
a 30 s outage was hundreds of warnings (the reaper every 0.5 s, the live-log sender once per batch of lines, the rate
limit once per request) in which the one line that matters, "Redis is gone", and the one that says it is back were
lost. Here each component has one `RedisLink`: its first failed call warns, the following ones are debug, and its
first call that succeeds again says in one info line how long the outage lasted and how many things were deferred
meanwhile.

Only a lost connection is an outage (`redis_unreachable`): any other Redis error (a script error, a wrong type, out
of memory) is a bug or a misconfiguration, and the caller logs it as such, each time.

A silent Redis (its host lost, a blackholed network) answers nothing: each call waits its client's socket timeout.
So the API's clients wait at most `SHORT_WAIT_SECONDS` (`short_waits`), and a component that may go on without Redis
(the rate limit) asks `link.may_try()` first: while the link is lost, one call every `PROBE_SECONDS` tries Redis and
the others skip it (`link.skipped()`), so a blackholed Redis costs one short wait per probe, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import redis
import redis.asyncio.retry
import redis.retry
from redis.backoff import NoBackoff

#: A flapping link says it is lost (and back) at most once in this many seconds.
QUIET_SECONDS = 60.0
#: Longest an API-side Redis client waits to connect, then for each answer (Kubernetes' probe timeout is 1 s).
SHORT_WAIT_SECONDS = 0.5
#: While a link is lost, how often a component that goes on without Redis tries it again.
PROBE_SECONDS = 2.0


def short_waits(*, asynchronous: bool = False) -> dict[str, Any]:
    """Options of an API-side Redis client (`redis.Redis.from_url(url, **short_waits())`): bounded waits, and one
    more try on a new connection after a lost one (a pooled connection Redis closed), but none after a timeout (a
    silent Redis would double every wait; redis-py's default is three more, with back-off)."""
    retry = (redis.asyncio.retry.Retry if asynchronous else redis.retry.Retry)(
        NoBackoff(), 1, supported_errors=(redis.ConnectionError,)
    )
    return {"socket_connect_timeout": SHORT_WAIT_SECONDS, "socket_timeout": SHORT_WAIT_SECONDS, "retry": retry}


def redis_unreachable(exc: BaseException) -> bool:
    """Whether `exc` says Redis cannot be reached (refused, dropped, timed out, still loading its data, or a socket
    error the client did not wrap) rather than that it refused the command; redis.asyncio raises the same classes."""
    return isinstance(exc, (redis.ConnectionError, redis.TimeoutError, OSError))


class RedisLink:
    """One component's link to Redis in one process, shared by its threads: an outage is one warning, not one per call.

    `while_lost` says what the component does meanwhile ("the relay puts the runs back into the outbox"), `when_back`
    what it does once Redis answers again; `deferred` names what `lost(..., deferred=n)` counts ("runs put back").
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        while_lost: str,
        when_back: str,
        deferred: str = "",
        clock: Callable[[], float] = time.monotonic,
        quiet: float = QUIET_SECONDS,
        probe: float = PROBE_SECONDS,
    ) -> None:
        self._logger = logger
        self._while_lost = while_lost
        self._when_back = when_back
        self._deferred_name = deferred
        self._clock = clock
        self._quiet = quiet
        self._probe = probe
        #: When a caller last tried Redis while the link was lost (`lost` or `may_try`).
        self._last_try = 0.0
        self._lock = threading.Lock()
        #: When the current outage began (clock time), None while Redis answers.
        self._lost_since: float | None = None
        #: What was deferred (counted by the callers) since the outage began.
        self._deferred = 0
        self._last_lost: float | None = None
        self._last_back: float | None = None

    @property
    def is_lost(self) -> bool:
        return self._lost_since is not None

    def may_try(self) -> bool:
        """Whether to call Redis now: always while it answers; while lost, one caller per `probe` seconds (the probe),
        and the others go on without it (`skipped`)."""
        if self._lost_since is None:
            return True
        with self._lock:
            now = self._clock()
            if self._lost_since is not None and now - self._last_try < self._probe:
                return False
            self._last_try = now
            return True

    def skipped(self, *, deferred: int = 1) -> None:
        """A call not made because the link is lost (`may_try` said no): counted in the line that says it is back."""
        with self._lock:
            self._deferred += deferred

    def lost(self, error: Exception, *, deferred: int = 0) -> None:
        """A call failed for want of Redis: warn, unless this outage (or one in the quiet period) already did."""
        with self._lock:
            now = self._clock()
            self._last_try = now
            self._deferred += deferred
            first = self._lost_since is None
            if first:
                self._lost_since = now
            said = first and (self._last_lost is None or now - self._last_lost >= self._quiet)
            if said:
                self._last_lost = now
        if said:
            self._logger.warning(
                "Lost the connection to Redis (%s: %s); %s", type(error).__name__, error, self._while_lost
            )
        else:
            self._logger.debug("Redis still unreachable (%s: %s)", type(error).__name__, error)

    def ok(self) -> None:
        """A call succeeded: after an outage, say it is over (at most once in the quiet period)."""
        if self._lost_since is None:  # the common case, without the lock
            return
        with self._lock:
            if self._lost_since is None:
                return
            now = self._clock()
            down, self._lost_since = now - self._lost_since, None
            deferred, self._deferred = self._deferred, 0
            said = self._last_back is None or now - self._last_back >= self._quiet
            if said:
                self._last_back = now
        counted = f" ({self._deferred_name} meanwhile: {deferred})" if self._deferred_name else ""
        self._logger.log(
            logging.INFO if said else logging.DEBUG,
            "Reconnected to Redis after %.1f s%s; %s",
            down,
            counted,
            self._when_back,
        )
