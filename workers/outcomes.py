"""How an attempt ended, before the retry policy is applied: shared by every kind of run."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.states import RunStatus
from workers.context import Interruption


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended, before the retry policy is applied."""

    status: RunStatus
    reason: str
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False
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
