"""Deployment policies and their bounds: the one definition the API schemas, the DB CHECKs and the planner use."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import msgspec


class MisfirePolicy(StrEnum):
    """What a fire time seen later than the grace becomes."""

    SKIP = "skip"
    RUN_ONCE = "run_once"
    CATCH_UP = "catch_up"


class OverlapPolicy(StrEnum):
    """What a fire time becomes while max_concurrent_runs runs are unfinished."""

    SKIP = "skip"
    BUFFER_ONE = "buffer_one"
    BUFFER_ALL = "buffer_all"
    CANCEL_RUNNING = "cancel_running"
    ALLOW = "allow"


class DstGap(StrEnum):
    """A local fire time the clock jumps over (spring forward)."""

    SHIFT = "shift"
    SKIP = "skip"


class DstFold(StrEnum):
    """A local fire time that happens twice (fall back)."""

    FIRST = "first"
    LAST = "last"
    BOTH = "both"


@dataclass(frozen=True)
class Bounds:
    """The inclusive range a numeric policy may take."""

    low: float
    high: float

    def check(self, name: str, value: float) -> None:
        """Raise ValueError naming `name` when `value` is out of range (the planner's guard against bad rows)."""
        if not self.low <= value <= self.high:
            raise ValueError(f"{name}={value!r} is outside {self.low:g}..{self.high:g}")


#: Seconds a fire time may be seen late and still run as if on time.
MISFIRE_GRACE_SECONDS = Bounds(0, 604_800)
#: Missed fire times run after a downtime under misfire policy catch_up (the newest kept).
MAX_CATCH_UP = Bounds(1, 10_000)
MAX_CONCURRENT_RUNS = Bounds(1, 1000)
MAX_RETRIES = Bounds(0, 100)
RETRY_BACKOFF_SECONDS = Bounds(0, 86_400)
RETRY_BACKOFF_MAX_SECONDS = Bounds(0, 604_800)
RETRY_JITTER = Bounds(0, 1)
#: A run's time limit; the high end is what the runs.timeout_seconds column (int4) holds.
TIMEOUT_SECONDS = Bounds(1, 2_147_483_647)


def _between(bounds: Bounds) -> msgspec.Meta:
    return msgspec.Meta(ge=bounds.low, le=bounds.high)


# The bounded fields, for deployment create/change schemas and run submits alike.
MisfireGraceSeconds = Annotated[int, _between(MISFIRE_GRACE_SECONDS)]
MaxCatchUp = Annotated[int, _between(MAX_CATCH_UP)]
MaxConcurrentRuns = Annotated[int, _between(MAX_CONCURRENT_RUNS)]
MaxRetries = Annotated[int, _between(MAX_RETRIES)]
RetryBackoffSeconds = Annotated[float, _between(RETRY_BACKOFF_SECONDS)]
RetryBackoffMaxSeconds = Annotated[float, _between(RETRY_BACKOFF_MAX_SECONDS)]
RetryJitter = Annotated[float, _between(RETRY_JITTER)]
TimeoutSeconds = Annotated[int, _between(TIMEOUT_SECONDS)]
