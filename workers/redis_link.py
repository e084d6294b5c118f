"""Whether a worker process can reach Redis, said once per outage: a warning when lost, an info line when back.

Dramatiq's consumer thread logs every failed fetch or subscribe at `critical` ("Consumer encountered an unexpected
error", with its traceback) and restarts the consumer: a 20 s Redis pause gave 14 critical tracebacks, though every
run went on. The consumers (workers.broker._WakingConsumer) catch a lost connection themselves, report it here and
retry at their poll timeout; anything else still reaches Dramatiq and is logged as the unexpected error it is.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

#: A flapping link says it is lost (and back) at most once in this many seconds.
QUIET_SECONDS = 60.0


class RedisLink:
    """One per broker (worker process), shared by its consumer threads: an outage is one warning, not one per queue."""

    def __init__(
        self, logger: logging.Logger, *, clock: Callable[[], float] = time.monotonic, quiet: float = QUIET_SECONDS
    ) -> None:
        self._logger = logger
        self._clock = clock
        self._quiet = quiet
        self._lock = threading.Lock()
        #: When the current outage began (clock time), None while Redis answers.
        self._lost_since: float | None = None
        self._last_lost: float | None = None
        self._last_back: float | None = None

    @property
    def lost(self) -> bool:
        return self._lost_since is not None

    def connection_lost(self, error: Exception, retry_seconds: float) -> None:
        """A Redis call failed for want of a connection: warn, unless this outage (or a recent one) already did."""
        with self._lock:
            now = self._clock()
            if self._lost_since is not None:
                return
            self._lost_since = now
            if self._last_lost is not None and now - self._last_lost < self._quiet:
                return
            self._last_lost = now
        self._logger.warning(
            "Lost the connection to Redis (%s: %s); the consumers retry every %.1f s, queued runs wait",
            type(error).__name__,
            error,
            retry_seconds,
        )

    def connection_ok(self) -> None:
        """A Redis call succeeded: after an outage, say it is over (at most once in the quiet period)."""
        if self._lost_since is None:  # the common case, without the lock
            return
        with self._lock:
            if self._lost_since is None:
                return
            now = self._clock()
            down, self._lost_since = now - self._lost_since, None
            if self._last_back is not None and now - self._last_back < self._quiet:
                return
            self._last_back = now
        self._logger.info("Reconnected to Redis after %.1f s; the consumers fetch again", down)
