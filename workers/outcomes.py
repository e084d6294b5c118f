"""How an attempt ended, before the retry policy is applied: shared by every kind of run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.states import RunStatus
from app.domain.attempts import after_attempt
from workers.context import Interruption, RunContext


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended, before the retry policy is applied."""

    status: RunStatus
    reason: str
    error_code: str | None = None
    error_message: str | None = None
    retryable: bool = False


def interrupted(why: Interruption) -> Outcome:
    if why is Interruption.CANCEL:
        return Outcome(RunStatus.CANCELLED, "cancelled", "cancelled", "cancelled on request")
    if why is Interruption.TIMEOUT:
        return Outcome(RunStatus.TIMED_OUT, "timed_out", "timeout", "the run exceeded its timeout", retryable=True)
    if why is Interruption.SHUTDOWN:
        return Outcome(RunStatus.RETRYING, "worker_shutdown", "worker_shutdown", "the worker stopped")
    return Outcome(RunStatus.FAILED, "lost", "worker_lost", "the worker lost the run's lease")


def gives_up(ctx: RunContext, run: Mapping[str, Any], outcome: Outcome) -> bool:
    """Whether this attempt ends the run without success, by the executor's own retry rule; a lost lease is the
    reaper's to end and a shutdown is retried, so neither ends it here."""
    if outcome.status is RunStatus.SUCCEEDED or ctx.interruption in (Interruption.LOST, Interruption.SHUTDOWN):
        return False
    return not after_attempt(run, outcome.status, retryable=outcome.retryable).retry
