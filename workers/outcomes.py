"""How an attempt ended, before the retry policy is applied: shared by every kind of run."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.core.states import RunStatus
from app.db.outage import database_unavailable
from workers.context import Interruption

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended, before the retry policy is applied."""

    status: RunStatus
    reason: str
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False
    #: Interrupted, not failed: retried at once whatever the run's retries (a worker's stop, the database lost).
    at_once: bool = False
    #: A line the run's log gets just before the one telling its end, when this attempt ends the run with it: not when
    #: the attempt is retried, nor when a cancel overtook it (the end line then tells the attempt's failure).
    given_up_line: str | None = None


def interrupted(why: Interruption) -> Outcome:
    if why is Interruption.CANCEL:
        return Outcome(RunStatus.CANCELLED, "cancelled", "cancelled", "cancelled on request")
    if why is Interruption.TIMEOUT:
        return Outcome(RunStatus.TIMED_OUT, "timed_out", "timeout", "the run exceeded its timeout", retryable=True)
    if why is Interruption.SHUTDOWN:
        return Outcome(RunStatus.RETRYING, "worker_shutdown", "worker_shutdown", "the worker stopped")
    return Outcome(RunStatus.FAILED, "lost", "worker_lost", "the worker lost the run's lease")


def crashed(exc: Exception, what: str) -> Outcome:
    """An attempt that raised what nothing expected (call it in the `except`): the run's retry policy applies, unless
    the database went away under it (a restart, a terminated session), which is no fault of the run: that attempt is
    retried at once, as a worker's stop is, so a default run (no retries) is not FAILED by an outage."""
    if database_unavailable(exc):
        logger.warning("%s lost the database; retried at once: %s", what, str(exc).splitlines()[0] if str(exc) else exc)
        return Outcome(
            RunStatus.FAILED,
            "failed",
            "database_unavailable",
            "the database was unavailable during the attempt",
            retryable=True,
            at_once=True,
        )
    logger.exception("%s crashed", what)
    return Outcome(RunStatus.FAILED, "failed", "internal_error", f"{type(exc).__name__}: {exc}", retryable=True)
