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
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

#: A flapping link says it is lost (and back) at most once in this many seconds.
QUIET_SECONDS = 60.0


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
    ) -> None:
        self._logger = logger
        self._while_lost = while_lost
        self._when_back = when_back
        self._deferred_name = deferred
        self._clock = clock
        self._quiet = quiet
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

    def lost(self, error: Exception, *, deferred: int = 0) -> None:
        """A call failed for want of Redis: warn, unless this outage (or one in the quiet period) already did."""
        with self._lock:
            now = self._clock()
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
