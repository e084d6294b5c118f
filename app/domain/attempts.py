"""The one retry-or-finish decision after an attempt ends, shared by the executor (workers) and the reaper.

Whether a failed attempt is tried again (its retry budget), after how long (backoff with cap and jitter),
and which statement records it (`schedule_retry` or `finish_run`, with the statuses it may leave) are
decided here, so a run a worker failed and a run whose worker died follow the same policy. The user's cancel
wins over every end but a success: a run asked to cancel while its attempt ran ends CANCELLED, whether a retry or
a final failure was next, its attempt's error kept in the run's last event. The caller reads the request under the
run's lock (`lock_attempt`, or its own claim) and records the decision in the same transaction (`write`).
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import Connection, Row, TextClause
from sqlalchemy.orm import Session

from app.core.states import EventReason, RunStatus, sources
from app.db.queries import query
from app.domain.dataset_writes import end_writes
from app.domain.retry import backoff_seconds, retries_left

#: The log parameters of finish_run and schedule_retry when no lines go with the outcome.
NO_LOG_LINES: dict[str, list[Any]] = {"log_first_n": [], "log_last_n": [], "log_chunks": []}

#: The error a run ended by its cancel request carries (its attempt's own error stays in the event's details).
CANCELLED_CODE = "cancelled"
CANCELLED_MESSAGE = "cancelled on request"


@dataclass(frozen=True, kw_only=True)
class AfterAttempt:
    """What becomes of a run after one attempt: a retry in `delay_seconds`, or its end in `status`."""

    retry: bool
    status: RunStatus
    delay_seconds: float = 0.0
    #: The run ends CANCELLED because the user asked to cancel it, whatever its attempt's own end was.
    cancelled: bool = False

    @property
    def statement(self) -> TextClause:
        """The named query (sql/queries/runs.sql) that records it."""
        return query("schedule_retry") if self.retry else query("finish_run")

    def write(self, connection: Connection, params: dict[str, Any]) -> Row[Any] | None:
        """Record it in the connection's transaction: the run's id and new status, None if the attempt had ended.

        A run that ends unsuccessfully leaves the datasets it was writing as a failed import does (`end_writes`), in the
        same transaction, taking the run's row, then the dataset's: the order a cancel and a dataset delete
        take them in.
        """
        row = connection.execute(self.statement, params).first()
        if row is not None and not self.retry and self.status is not RunStatus.SUCCEEDED:
            with Session(bind=connection) as session:
                end_writes(
                    session,
                    run_id=row.id,
                    status=self.status,
                    code=params["error_code"] or self.status.value.lower(),
                    message=params["error_message"] or self.status.value.lower(),
                    producer=params["actor"],
                )
        return row

    def params(
        self,
        *,
        queue: str,
        reason: str,
        error_code: str | None,
        error_message: str | None,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The statement's parameters that follow from the decision and the attempt's end (the caller adds the run's
        own: run_id, attempt, actor, progress, log_lines).

        `reason`, `error_code`, `error_message`: how the attempt ended; `details`: what the final event adds (a retry's
        event says when and why). No log lines: a worker adds its attempt's unwritten ones (chunk_params) after these.
        """
        if self.retry:
            return {
                "delay_seconds": self.delay_seconds,
                "queue": queue,
                "from_statuses": sources(RunStatus.RETRYING),
                "reason": reason,
                "error_code": error_code,
                "error_message": error_message,
                **NO_LOG_LINES,
            }
        ended = {"to_status": self.status.value, "from_statuses": _finish_sources(self.status), **NO_LOG_LINES}
        if self.cancelled:  # the attempt's own end is kept in the event
            attempt_error = {"error_code": error_code, "error_message": error_message, "attempt_reason": reason}
            return {
                **ended,
                "reason": EventReason.CANCELLED.value,
                "error_code": CANCELLED_CODE,
                "error_message": CANCELLED_MESSAGE,
                "details": _json({**(details or {}), **attempt_error}),
            }
        return {
            **ended,
            "reason": reason,
            "error_code": error_code,
            "error_message": error_message,
            "details": _json(details or {}),
        }


def _json(value: Mapping[str, Any]) -> str:
    return msgspec.json.encode(value).decode()


@functools.cache
def _finish_sources(status: RunStatus) -> list[str]:
    """The states an attempt's end to `status` leaves (a worker asks for each run it finishes; the table is fixed)."""
    return sources(status, [RunStatus.RUNNING])


def lock_attempt(connection: Connection, run_id: uuid.UUID, attempt: int) -> bool | None:
    """Lock the run of a running attempt, in the caller's transaction: whether the user asked to cancel it; None when
    the attempt is no longer running (the reaper gave the run away)."""
    row = connection.execute(query("lock_attempt"), {"run_id": run_id, "attempt": attempt}).first()
    return None if row is None else bool(row.cancelling)


class AttemptOver(Exception):
    """The attempt no longer runs its run (the reaper gave the run away, or ended it): it publishes nothing."""


def hold_attempt(session: Session, run_id: uuid.UUID, attempt: int) -> None:
    """Lock the run of a running attempt about to publish its version, in the caller's transaction (the run's row
    before the dataset's, the order a dataset delete takes them in): AttemptOver when the attempt no longer runs it,
    so an attempt whose lease lapsed never publishes beside the end the reaper gave its run, or its retry."""
    if lock_attempt(session.connection(), run_id, attempt) is None:
        raise AttemptOver(f"run {run_id} attempt {attempt} no longer runs: its version is not published")


def after_attempt(
    run: Mapping[str, Any],
    status: RunStatus,
    *,
    retryable: bool,
    at_once: bool = False,
    cancelling: bool = False,
    rng: random.Random | None = None,
) -> AfterAttempt:
    """Retry or finish a run whose attempt just ended in `status`.

    `run` holds attempt, attempt_base, max_retries and the retry_backoff_seconds, retry_backoff_max_seconds and
    retry_jitter of the run. `retryable`: the way the attempt ended may be retried (a timeout, a lost worker);
    `at_once`: the attempt was interrupted, not failed (a worker shutting down), so it is retried without delay
    and without spending the budget. `cancelling`: the user asked to cancel the run (read under its lock): any end
    but a success ends it CANCELLED, neither retried (a retry would never start: a start skips a run asked to cancel)
    nor FAILED or TIMED_OUT. A success ends the run SUCCEEDED whatever came after it (a stop, a cancel): its work is
    done, and doing it again would repeat its effects.
    """
    if status in (RunStatus.SUCCEEDED, RunStatus.CANCELLED):  # a cancelled attempt did what the request asked
        return AfterAttempt(retry=False, status=status)
    if cancelling:
        return AfterAttempt(retry=False, status=RunStatus.CANCELLED, cancelled=True)
    if at_once:
        return AfterAttempt(retry=True, status=RunStatus.RETRYING)
    if retryable and retries_left(run["attempt"], run["attempt_base"], run["max_retries"]):
        delay = backoff_seconds(
            run["attempt"] - run["attempt_base"],
            base=run["retry_backoff_seconds"],
            cap=run["retry_backoff_max_seconds"],
            jitter=run["retry_jitter"],
            rng=rng,
        )
        return AfterAttempt(retry=True, status=RunStatus.RETRYING, delay_seconds=delay)
    return AfterAttempt(retry=False, status=status)
