"""The schedule loop: due deployments → runs and occurrences, one transaction per batch.

Each tick takes `now` as an argument (tests drive it with a fake clock). It
claims due deployments with SKIP LOCKED, computes every fire time since the
last one handled, applies the misfire and overlap policies (app.scheduling.planning),
inserts runs with ON CONFLICT DO NOTHING on (deployment, fire time), records
occurrences, and advances next_run_at, all in one transaction: a scheduler
killed mid-tick leaves nothing half-written, and the next tick redoes the batch.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
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
from app.scheduling.planning import Plan, Policies, later_late_wanted, plan, plan_ahead
from app.scheduling.spec import schedule_from_json
from app.scheduling.spec import window as stored_window
from app.scheduling.timing import MAX_SINGLE_MISSED, Fire, fires, next_fire
from app.settings import Settings

logger = logging.getLogger(__name__)

_encode = msgspec.json.Encoder().encode
#: Deployments claimed per transaction.
BATCH = 500
#: Fire times handled per deployment per tick (a long downtime is worked off over several ticks).
MAX_FIRES_PER_TICK = 10_000
#: Seconds before a deployment whose fire time could not be planned is tried again.
PLAN_RETRY_SECONDS = 60
#: Longest reason recorded with a `plan_failed` occurrence (the column holds 500 characters).
MAX_REASON = 480
#: The outcomes of missed fire times that a long downtime records as a range.
_RANGED = ("misfire_skipped", "coalesced")


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
            failed: dict[uuid.UUID, tuple[Any, str]] = {}
            for deployment in due:
                active, held = counts.get(deployment.id, (0, 0))
                bound = bind(deployment_id=deployment.id)
                try:
                    planned, last, nxt = decide(deployment, active, held)
                    _log_plan(planned)
                except Exception as exc:
                    failed[deployment.id] = (deployment, _failure(exc))
                    continue
                finally:
                    log_context.reset(bound)
                decided.append((deployment, planned, last, nxt))
            writes: list[_Writes] = []
            for deployment, planned, last, nxt in decided:
                try:
                    writes.append(self._writes_of(deployment, planned, last, nxt))
                except InvalidInput as exc:  # the deployment asks for runs no path may make (a timeout too long)
                    failed[deployment.id] = (deployment, f"{exc.code}: {exc.detail}"[:MAX_REASON])
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
                        failed[one.advance.id] = (row, _failure(exc))
            written = [w for w in writes if w.advance.id not in failed]
            if failed:
                self._hold_back(connection, list(failed.values()), horizon)
        return TickResult(
            deployments=len(due),
            runs=sum(len(w.runs) for w in written),
            occurrences=sum(len(w.occurrences) + len(w.ranges) for w in written),
            failed=list(failed),
        )

    def _write(self, connection: Connection, writes: list[_Writes]) -> None:
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
            connection.execute(query("insert_occurrences"), _rows(occurrences))
        if ranges:
            connection.execute(query("record_missed_ranges"), _rows(ranges))
        if writes:
            connection.execute(query("advance_deployments"), _rows([w.advance for w in writes]))

    def _end_writes(self, connection: Connection, cancelled: Sequence[uuid.UUID]) -> None:
        """A cancelled run that was waiting to retry may have made its output dataset: it is not left importing."""
        if not cancelled:
            return
        with Session(bind=connection) as session:
            for run_id in cancelled:
                end_writes(
                    session,
                    run_id=run_id,
                    code="cancelled",
                    message="cancelled by the overlap policy cancel_running",
                    producer=self.scheduler_id,
                )

    def _hold_back(self, connection: Connection, failed: list[tuple[Any, str]], horizon: datetime) -> None:
        """Deployments that could not be planned or written: log, record why, and try again a while later.

        Their due fire time becomes a `plan_failed` occurrence with the reason, and they are not claimed again
        for PLAN_RETRY_SECONDS past this tick's horizon (a change through the API replans them at once).
        """
        occurrences, advances = [], []
        retry_at = horizon + timedelta(seconds=PLAN_RETRY_SECONDS)
        for row, reason in failed:
            bound = bind(deployment_id=row.id)
            try:
                logger.error("deployment held back: its fire time %s could not be planned: %s", row.next_run_at, reason)
            finally:
                log_context.reset(bound)
            occurrences.append(_OccurrenceRow(row.id, row.next_run_at, "plan_failed", None, reason))
            last = max(row.next_run_at, row.last_scheduled_for or row.next_run_at)
            advances.append(_AdvanceRow(row.id, max(retry_at, row.next_run_at), last))
        connection.execute(query("insert_occurrences"), _rows(occurrences))
        connection.execute(query("advance_deployments"), _rows(advances))

    def _writes_of(self, deployment: Any, planned: Plan, last: datetime, nxt: datetime | None) -> _Writes:
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
            outcome, reason = ("buffered", "waiting for a free slot") if run.held else ("run", "")
            occurrences.append(_OccurrenceRow(deployment_id, run.scheduled_for, outcome, row.id, reason))
        previous = deployment.last_scheduled_for or deployment.created_at
        skipped, ranges = _ranges(planned.skipped, deployment_id, previous)
        for at, outcome, reason in skipped:
            occurrences.append(_OccurrenceRow(deployment_id, at, outcome, None, reason))
        return _Writes(_AdvanceRow(deployment_id, nxt, last), runs, occurrences, planned.cancel_running, ranges)


def _ranges(
    skipped: list[tuple[datetime, str, str]], deployment_id: uuid.UUID, previous: datetime
) -> tuple[list[tuple[datetime, str, str]], list[_RangeRow]]:
    """The skipped fire times recorded one row each, and the long runs of missed ones recorded as one row.

    A plan's missed fire times of one outcome are the oldest of its fire times (a DST skip may fall among them), so
    past MAX_SINGLE_MISSED they are one range, which extends the range recorded at `previous` if there is one.
    """
    ranges = []
    for outcome in _RANGED:
        missed = sorted(entry for entry in skipped if entry[1] == outcome)
        if len(missed) > MAX_SINGLE_MISSED:
            reason = f"a range of missed fire times; the last {missed[-1][2]}"
            ranges.append(_RangeRow(deployment_id, missed[0][0], missed[-1][0], previous, len(missed), outcome, reason))
            skipped = [entry for entry in skipped if entry[1] != outcome]
    return skipped, ranges


class _OccurrenceRow(msgspec.Struct):
    deployment_id: uuid.UUID
    scheduled_for: datetime
    outcome: str
    run_id: uuid.UUID | None
    reason: str


class _RangeRow(msgspec.Struct):
    """Missed fire times recorded as one occurrence (record_missed_ranges)."""

    deployment_id: uuid.UUID
    first: datetime
    last: datetime
    previous: datetime
    fire_times: int
    outcome: str
    reason: str


class _AdvanceRow(msgspec.Struct):
    id: uuid.UUID
    next_run_at: datetime | None
    last_scheduled_for: datetime


@dataclass
class _Writes:
    """What one deployment's plan writes."""

    advance: _AdvanceRow
    runs: list[ScheduledRun]
    occurrences: list[_OccurrenceRow]
    cancel_running: bool
    ranges: list[_RangeRow] = field(default_factory=list)


def _failure(exc: BaseException) -> str:
    """A short reason for a failed plan: the database's own message when it refused a row."""
    cause = getattr(exc, "orig", None) or exc
    first_line = next(iter(str(cause).strip().splitlines()), "")
    return f"{type(cause).__name__}: {first_line}"[:MAX_REASON]


def _log_plan(planned: Plan) -> None:
    """What became of a deployment's fire times, logged with its deployment_id bound (skips are news, runs not)."""
    if planned.skipped:
        outcomes = sorted({outcome for _, outcome, _ in planned.skipped})
        logger.info("%d fire times made no run (%s)", len(planned.skipped), ", ".join(outcomes))
    if planned.cancel_running:
        logger.info("overlap policy cancel_running: cancelling the deployment's unfinished runs")
    if planned.runs:
        logger.debug("%d runs planned, the first for %s", len(planned.runs), planned.runs[0].scheduled_for)


def _rows(rows: list[Any]) -> dict[str, str]:
    """A batch of rows as one JSON document (json_to_recordset): far cheaper to bind than one array per column."""
    return {"rows": _encode(rows).decode()}


#: The first of the claimed row's columns that a plan does not depend on (claim_due_deployments): the columns
#: between the id and it are all a plan depends on.
_RUN_COLUMNS_FROM = "timeout_seconds"


class Decisions:
    """What each claimed deployment's fire times become, for one batch at one `now`.

    Deployments that share a schedule and were last handled at the same time (the common case:
    many deployments on one cron line) share one fire-time computation and one plan.
    """

    def __init__(self, now: datetime, horizon: datetime) -> None:
        self.now = now
        self.horizon = horizon
        self._fires: dict[tuple[Any, ...], tuple[list[Fire], datetime | None]] = {}
        self._plans: dict[tuple[Any, ...], tuple[Plan, datetime, datetime | None]] = {}
        self._planned_to = 0

    def __call__(self, deployment: Any, active: int, held: int) -> tuple[Plan, datetime, datetime | None]:
        """(plan, last fire time handled, next fire time to handle) for one deployment row."""
        if not self._planned_to:
            self._planned_to = deployment._fields.index(_RUN_COLUMNS_FROM)
        # the decision depends on nothing else; a slice by position costs a fraction of 13 lookups by name
        key = (deployment[1 : self._planned_to], active, held)
        decision = self._plans.get(key)
        if decision is None:
            decision = self._plans[key] = self._decide_row(deployment, active, held)
        return decision

    def _decide_row(self, deployment: Any, active: int, held: int) -> tuple[Plan, datetime, datetime | None]:
        # a row stored before the 1900-8999 rule (migration 0018 rewrites those) plans as that rule reads it
        start_at, end_at = stored_window(deployment.start_at, deployment.end_at)
        schedule = schedule_from_json(
            deployment.schedule_json,
            dst_gap=deployment.dst_gap,
            dst_fold=deployment.dst_fold,
            default_anchor=start_at or deployment.created_at,
        )
        after = deployment.last_scheduled_for or deployment.created_at
        window = (schedule, after, start_at, end_at)
        policies = Policies(
            misfire_policy=deployment.misfire_policy,
            misfire_grace_seconds=deployment.misfire_grace_seconds,
            max_catch_up=deployment.max_catch_up,
            max_concurrent_runs=deployment.max_concurrent_runs,
            overlap_policy=deployment.overlap_policy,
        )
        return self._decide(window, policies, active, held)

    def _decide(
        self, window: tuple[Any, ...], policies: Policies, active: int, held: int
    ) -> tuple[Plan, datetime, datetime | None]:
        after = window[1]
        found, next_after_horizon = self._window(window)
        due = [f for f in found if f.at <= self.now]
        more = len(found) >= MAX_FIRES_PER_TICK
        later_late = self._later_late(window, found[-1].at, policies) if more else 0
        planned = plan(due, self.now, policies, active=active, held=held, later_late=later_late)
        if more:  # more to do: continue right after the last one handled
            last = due[-1].at if due else after
            return planned, last, last
        ahead = found[len(due) :]
        if not ahead:
            return planned, max(self.horizon, after), next_after_horizon
        extra = None
        if not planned.cancel_running:
            planned_held = sum(run.held for run in planned.runs)
            extra = plan_ahead(
                ahead,
                policies,
                active=active + len(planned.runs) - planned_held,
                held=held + planned_held,
            )
        if extra is None:  # planned at their time instead; claimed again until then
            return planned, max(self.now, after), ahead[0].at
        planned.runs += extra.runs
        planned.skipped += extra.skipped
        return planned, max(self.horizon, after), next_after_horizon

    def _later_late(self, window: tuple[Any, ...], last: datetime, policies: Policies) -> int:
        """Missed fire times after `last` (the end of a chunk), counted up to what the misfire policy may keep."""
        wanted = later_late_wanted(policies)
        if not wanted:
            return 0
        schedule, _, start_at, end_at = window
        # late: older than the grace when seen (plan's test is strict: exactly the grace is not late)
        cutoff = self.now - timedelta(seconds=policies.misfire_grace_seconds, microseconds=1)
        later = fires(schedule, last, cutoff, start_at=start_at, end_at=end_at, limit=wanted)
        return sum(1 for fire in later if fire.skipped is None)

    def _window(self, window: tuple[Any, ...]) -> tuple[list[Fire], datetime | None]:
        """Fire times in (after, horizon], and the first one after the horizon (memoised per batch)."""
        cached = self._fires.get(window)
        if cached is None:
            schedule, after, start_at, end_at = window
            found = fires(schedule, after, self.horizon, start_at=start_at, end_at=end_at, limit=MAX_FIRES_PER_TICK)
            following = next_fire(schedule, max(self.horizon, after), start_at=start_at, end_at=end_at)
            cached = self._fires[window] = (found, following)
        return cached
