"""The schedule loop: due deployments → runs and occurrences, one transaction per batch.

Each tick takes `now` as an argument (tests drive it with a fake clock). It
claims due deployments with SKIP LOCKED, computes every fire time since the
last one handled, applies the misfire and overlap policies (app.scheduling.planning),
inserts runs with ON CONFLICT DO NOTHING on (deployment, fire time), records
occurrences, and advances next_run_at, all in one transaction: a scheduler
killed mid-tick leaves nothing half-written, and the next tick redoes the batch.
The decisions live in scheduler.fire_decisions, the rows they write in scheduler.schedule_rows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import InvalidInput
from app.core.ids import uuid7
from app.core.states import CANCEL_AT_ONCE, RunStatus, sources
from app.db.queries import query
from app.domain.dataset_writes import end_writes
from app.domain.deployment_fire_times import database_now
from app.domain.run_rows import ScheduledRun, checked_timeout, insert_scheduled_runs
from app.logs import bind, log_context
from app.scheduling.planning import Plan
from app.scheduling.reasons import ReasonCode
from app.settings import Settings
from scheduler.fire_decisions import Decisions
from scheduler.schedule_rows import AdvanceRow, OccurrenceRow, Writes, ranges_of, rows_json

logger = logging.getLogger(__name__)

#: Deployments claimed per transaction.
BATCH = 500
#: Seconds before a deployment whose fire time could not be planned is tried again.
PLAN_RETRY_SECONDS = 60
#: Longest reason recorded with a `plan_failed` occurrence (the column holds 500 characters).
MAX_REASON = 480
#: (outcome, reason, reason code) of a fire time's run: made, or held for a free slot (overlap buffer).
_RAN = ("run", "", ReasonCode.RAN)
_HELD = ("buffered", "waiting for a free slot", ReasonCode.BUFFERED)


@dataclass
class TickResult:
    deployments: int = 0
    runs: int = 0
    occurrences: int = 0
    released: int = 0
    #: Deployments held back this tick: their fire time could not be planned or written (see `_hold_back`).
    failed: list[uuid.UUID] = field(default_factory=list)
    #: The earliest fire time left to handle after the tick (None: no enabled deployment has one).
    next_due: datetime | None = None


class ScheduleLoop:
    def __init__(self, *, engine: Engine, settings: Settings, scheduler_id: str) -> None:
        self.engine = engine
        self.settings = settings
        self.scheduler_id = scheduler_id

    def tick(self, now: datetime) -> TickResult:
        """Handle every deployment due by `now` + the lookahead (batch by batch), then release held runs."""
        total = TickResult()
        while True:
            batch = self._batch(now)
            total.deployments += batch.deployments
            total.runs += batch.runs
            total.occurrences += batch.occurrences
            total.failed += batch.failed
            if batch.deployments < BATCH:
                break
        with self.engine.begin() as connection:
            total.released = self._release(connection)
            total.next_due = connection.execute(query("next_due_deployment")).scalar()
        return total

    def database_now(self) -> datetime:
        """The database's clock (the outbox and the reaper go by it): what the service ticks with."""
        with self.engine.connect() as connection:
            return database_now(connection)

    def release_held(self) -> int:
        """Only a tick's last step, releasing held runs: the service's wake-ups when no deployment can be due."""
        with self.engine.begin() as connection:
            return self._release(connection)

    def _release(self, connection: Connection) -> int:
        released = connection.execute(
            query("release_held_runs"), {"actor": self.scheduler_id, "queue": self.settings.queue}
        ).all()
        if released:
            connection.execute(query("wake_relay"))
        return len(released)

    def _batch(self, now: datetime) -> TickResult:
        horizon = now + timedelta(seconds=self.settings.schedule_lookahead_seconds)
        decide = Decisions(now, horizon)
        with self.engine.begin() as connection:
            due = connection.execute(query("claim_due_deployments"), {"now": horizon, "batch": BATCH}).all()
            if not due:
                return TickResult()
            counts = {
                row.deployment_id: (row.active, row.held)
                for row in connection.execute(query("active_runs"), {"ids": [d.id for d in due]})
            }
            decided: list[tuple[Any, Plan, datetime, datetime | None]] = []
            failed: dict[uuid.UUID, tuple[Any, str, ReasonCode]] = {}
            for deployment in due:
                active, held = counts.get(deployment.id, (0, 0))
                bound = bind(deployment_id=deployment.id)
                try:
                    planned, last, nxt = decide(deployment, active, held)
                    _log_plan(planned)
                except Exception as exc:
                    failed[deployment.id] = (deployment, _failure(exc), ReasonCode.PLAN_FAILED)
                    continue
                finally:
                    log_context.reset(bound)
                decided.append((deployment, planned, last, nxt))
            writes: list[Writes] = []
            for deployment, planned, last, nxt in decided:
                try:
                    writes.append(self._writes_of(deployment, planned, last, nxt))
                except InvalidInput as exc:  # the deployment asks for runs no path may make (a timeout too long)
                    code = ReasonCode.TIMEOUT_TOO_LONG if exc.code == "timeout_too_long" else ReasonCode.PLAN_FAILED
                    failed[deployment.id] = (deployment, f"{exc.code}: {exc.detail}"[:MAX_REASON], code)
            try:
                with connection.begin_nested():
                    self._write(connection, writes)
            except (IntegrityError, DataError):
                # One row the database refuses would roll back the whole batch, every tick: write each
                # deployment on its own instead, so only the one at fault is held back.
                for one in writes:
                    try:
                        with connection.begin_nested():
                            self._write(connection, [one])
                    except (IntegrityError, DataError) as exc:
                        row = next(d for d in due if d.id == one.advance.id)
                        failed[one.advance.id] = (row, _failure(exc), ReasonCode.PLAN_FAILED)
            written = [w for w in writes if w.advance.id not in failed]
            if failed:
                self._hold_back(connection, list(failed.values()), horizon)
        return TickResult(
            deployments=len(due),
            runs=sum(len(w.runs) for w in written),
            occurrences=sum(len(w.occurrences) + len(w.ranges) for w in written),
            failed=list(failed),
        )

    def _write(self, connection: Connection, writes: list[Writes]) -> None:
        """The runs, occurrences and cancellations the plans ask for, and each deployment's new cursor."""
        to_cancel = [w.advance.id for w in writes if w.cancel_running]
        runs = [run for w in writes for run in w.runs]
        occurrences = [o for w in writes for o in w.occurrences]
        ranges = [r for w in writes for r in w.ranges]
        if to_cancel:
            cancelled = (
                connection.execute(
                    query("cancel_deployment_runs"),
                    {
                        "ids": to_cancel,
                        "actor": self.scheduler_id,
                        "from_statuses": sources(RunStatus.CANCELLED, CANCEL_AT_ONCE),
                    },
                )
                .scalars()
                .all()
            )
            self._end_writes(connection, cancelled)
        if runs:
            insert_scheduled_runs(connection, self.settings, runs, actor=self.scheduler_id)
        if occurrences:
            connection.execute(query("insert_occurrences"), rows_json(occurrences))
        if ranges:
            connection.execute(query("record_missed_ranges"), rows_json(ranges))
        if writes:
            connection.execute(query("advance_deployments"), rows_json([w.advance for w in writes]))

    def _end_writes(self, connection: Connection, cancelled: Sequence[uuid.UUID]) -> None:
        """A cancelled run that was waiting to retry may have made its output dataset: it is not left importing."""
        if not cancelled:
            return
        with Session(bind=connection) as session:
            for run_id in cancelled:
                end_writes(
                    session,
                    run_id=run_id,
                    status=RunStatus.CANCELLED,
                    code="cancelled",
                    message="cancelled by the overlap policy cancel_running",
                    producer=self.scheduler_id,
                )

    def _hold_back(self, connection: Connection, failed: list[tuple[Any, str, ReasonCode]], horizon: datetime) -> None:
        """Deployments that could not be planned or written: log, record why, and try again a while later.

        Their due fire time becomes a `plan_failed` occurrence with the reason, and they are not claimed again
        for PLAN_RETRY_SECONDS past this tick's horizon (a change through the API replans them at once).
        """
        occurrences, advances = [], []
        retry_at = horizon + timedelta(seconds=PLAN_RETRY_SECONDS)
        for row, reason, code in failed:
            bound = bind(deployment_id=row.id)
            try:
                logger.error("deployment held back: its fire time %s could not be planned: %s", row.next_run_at, reason)
            finally:
                log_context.reset(bound)
            occurrences.append(OccurrenceRow(row.id, row.next_run_at, "plan_failed", None, reason, code))
            last = max(row.next_run_at, row.last_scheduled_for or row.next_run_at)
            advances.append(AdvanceRow(row.id, max(retry_at, row.next_run_at), last))
        connection.execute(query("insert_occurrences"), rows_json(occurrences))
        connection.execute(query("advance_deployments"), rows_json(advances))

    def _writes_of(self, deployment: Any, planned: Plan, last: datetime, nxt: datetime | None) -> Writes:
        """What one deployment's plan writes (`deployment`: its claimed row); InvalidInput for a timeout too long.

        The runs' other fields are filled in by insert_scheduled_runs (app.domain.run_rows), as run_row would.
        """
        deployment_id = deployment.id
        runs, occurrences = [], []
        if planned.runs:
            checked_timeout(self.settings, deployment.timeout_seconds)
        for run in planned.runs:
            row = ScheduledRun(uuid7(), deployment_id, run.scheduled_for, run.held)
            runs.append(row)
            outcome, reason, code = _HELD if run.held else _RAN
            occurrences.append(OccurrenceRow(deployment_id, run.scheduled_for, outcome, row.id, reason, code))
        previous = deployment.last_scheduled_for or deployment.created_at
        skipped, ranges = ranges_of(planned.skipped, deployment_id, previous)
        for at, outcome, reason, code in skipped:
            occurrences.append(OccurrenceRow(deployment_id, at, outcome, None, reason, code))
        return Writes(AdvanceRow(deployment_id, nxt, last), runs, occurrences, planned.cancel_running, ranges)


def _failure(exc: BaseException) -> str:
    """A short reason for a failed plan: the database's own message when it refused a row."""
    cause = getattr(exc, "orig", None) or exc
    first_line = next(iter(str(cause).strip().splitlines()), "")
    return f"{type(cause).__name__}: {first_line}"[:MAX_REASON]


def _log_plan(planned: Plan) -> None:
    """What became of a deployment's fire times, logged with its deployment_id bound (skips are news, runs not)."""
    if planned.skipped:
        outcomes = sorted({entry[1] for entry in planned.skipped})
        logger.info("%d fire times made no run (%s)", len(planned.skipped), ", ".join(outcomes))
    if planned.cancel_running:
        logger.info("overlap policy cancel_running: cancelling the deployment's unfinished runs")
    if planned.runs:
        logger.debug("%d runs planned, the first for %s", len(planned.runs), planned.runs[0].scheduled_for)
