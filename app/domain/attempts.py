"""The one retry-or-finish decision after an attempt ends, shared by the executor (workers) and the reaper.

Whether a failed attempt is tried again (its retry budget), after how long (backoff with cap and jitter),
and which statement records it (`schedule_retry` or `finish_run`, with the statuses it may leave) are
decided here, so a run a worker failed and a run whose worker died follow the same policy. A retry gives way to
the user's cancel: a run asked to cancel while its attempt ran ends CANCELLED instead (`record_retry`).
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, TextClause
from sqlalchemy.orm import Session

from app.core.states import RunStatus, sources
from app.db.queries import query
from app.domain.dataset_writes import end_writes
from app.domain.retry import backoff_seconds, retries_left

#: The log parameters of finish_run and schedule_retry when no lines go with the outcome.
NO_LOG_LINES: dict[str, list[Any]] = {"log_first_n": [], "log_last_n": [], "log_chunks": []}


@dataclass(frozen=True, kw_only=True)
class AfterAttempt:
    """What becomes of a run after one attempt: a retry in `delay_seconds`, or its end in `status`."""

    retry: bool
    status: RunStatus
    delay_seconds: float = 0.0

    @property
    def statement(self) -> TextClause:
        """The named query (sql/queries/runs.sql) that records it."""
        return query("schedule_retry") if self.retry else query("finish_run")

    def write(self, connection: Connection, params: dict[str, Any]) -> Row[Any] | None:
        """Record it in the connection's transaction: the run's new id and status, None if the attempt had ended."""
        if self.retry:
            return record_retry(connection, params)
        return connection.execute(self.statement, params).first()

    def params(self, *, queue: str) -> dict[str, Any]:
        """The statement's parameters that follow from the decision (the caller adds the run's own).

        No log lines: a worker adds its attempt's unwritten ones (runlog_buffer.chunk_params) after these.
        """
        if self.retry:
            return {
                "delay_seconds": self.delay_seconds,
                "queue": queue,
                "from_statuses": sources(RunStatus.RETRYING),
                "cancel_from_statuses": _finish_sources(RunStatus.CANCELLED),
                **NO_LOG_LINES,
            }
        return {"to_status": self.status.value, "from_statuses": _finish_sources(self.status), **NO_LOG_LINES}


@functools.cache
def _finish_sources(status: RunStatus) -> list[str]:
    """The states an attempt's end to `status` leaves (a worker asks for each run it finishes; the table is fixed)."""
    return sources(status, [RunStatus.RUNNING])


def record_retry(connection: Connection, params: dict[str, Any]) -> Row[Any] | None:
    """`schedule_retry`: the run RETRYING, or CANCELLED when the user asked to cancel it meanwhile (its row's
    `status` says which; None when the attempt was no longer running).

    A run that ends so leaves the datasets it was writing as a cancel does (`end_writes`), in the same transaction,
    taking the run's row, then the dataset's: the order a cancel and a dataset delete take them in.
    """
    row = connection.execute(query("schedule_retry"), params).first()
    if row is not None and row.status == RunStatus.CANCELLED:
        with Session(bind=connection) as session:
            end_writes(
                session, run_id=row.id, code="cancelled", message="cancelled on request", producer=params["actor"]
            )
    return row


def after_attempt(
    run: Mapping[str, Any],
    status: RunStatus,
    *,
    retryable: bool,
    at_once: bool = False,
    rng: random.Random | None = None,
) -> AfterAttempt:
    """Retry or finish a run whose attempt just ended in `status`.

    `run` holds attempt, attempt_base, max_retries and the retry_backoff_seconds, retry_backoff_max_seconds and
    retry_jitter of the run. `retryable`: the way the attempt ended may be retried (a timeout, a lost worker);
    `at_once`: the attempt was interrupted, not failed (a worker shutting down), so it is retried without delay
    and without spending the budget.
    """
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
