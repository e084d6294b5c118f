"""A stored deployment's fire times: its schedule, the next one, and those due that the loop has not handled."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.db.deployments import Deployment, Occurrence
from app.db.queries import query
from app.scheduling import spec as spec_
from app.scheduling.reasons import ReasonCode
from app.scheduling.timing import MAX_SINGLE_MISSED, fires, next_fire, span


def schedule_for(deployment: Deployment):  # type: ignore[no-untyped-def]
    return spec_.schedule_of(
        deployment.schedule,
        dst_gap=deployment.dst_gap,
        dst_fold=deployment.dst_fold,
        default_anchor=spec_.window(deployment.start_at, None)[0] or deployment.created_at,
    )


def compute_next(deployment: Deployment, after: datetime) -> datetime | None:
    start_at, end_at = spec_.window(deployment.start_at, deployment.end_at)
    return next_fire(schedule_for(deployment), after, start_at=start_at, end_at=end_at)


def database_now(session: Session | Connection) -> datetime:
    """The database's clock, which the schedule loop ticks with: the `now` of every change to fire times."""
    return session.execute(query("database_now")).scalar_one().astimezone(UTC)  # in the session's zone


def next_fire_time(deployment: Deployment, now: datetime) -> datetime | None:
    """The next fire time to show: the loop's cursor (`next_run_at`), or an earlier one already planned ahead."""
    if not deployment.enabled or deployment.next_run_at is None:
        return None
    coming = compute_next(deployment, now)
    return deployment.next_run_at if coming is None else min(deployment.next_run_at, coming)


def reset_next(deployment: Deployment, now: datetime, *, moves_cursor: bool) -> None:
    """The loop's cursor after a change: a new schedule's first fire time from now; any other change keeps it, but
    never later than the first fire time after the last one handled (withdraw_planned may have moved that back, and
    a deployment held back after a failed plan is replanned at once). Recomputing it from now for every change left a
    loop that was behind waiting for the next fire time to come before it claimed the ones already due."""
    if moves_cursor:
        deployment.next_run_at = compute_next(deployment, max(now, deployment.last_scheduled_for or now))
        return
    due = compute_next(deployment, deployment.last_scheduled_for or now)
    if due is not None and (deployment.next_run_at is None or due < deployment.next_run_at):
        deployment.next_run_at = due


def record_unhandled(session: Session, deployment: Deployment, now: datetime) -> int:
    """Record the fire times due by `now` that the loop has not handled: `paused` while paused, else missed.

    A change of schedule moves the loop's cursor to `now`, so the old schedule's fire times it had not reached
    (every scheduler down, or behind) would be lost without a word: they are recorded as `misfire_skipped` by the
    change. Up to MAX_SINGLE_MISSED are a row each; more are one row for the range (fire_times, first_scheduled_for),
    as the loop records a long downtime, with any DST-skipped ones among them a row each: a year's pause of a
    per-second schedule is one row, counted without walking it (timing.span). Returns how many were recorded.
    """
    after = deployment.last_scheduled_for or deployment.paused_at or now
    start_at, end_at = spec_.window(deployment.start_at, deployment.end_at)
    schedule = schedule_for(deployment)
    outcome, reason, code = (
        ("misfire_skipped", "due before the schedule changed, and not handled by then", ReasonCode.SCHEDULE_CHANGED)
        if deployment.enabled
        else ("paused", "the deployment was paused", ReasonCode.PAUSED)
    )
    missed = fires(schedule, after, now, start_at=start_at, end_at=end_at, limit=MAX_SINGLE_MISSED + 1)
    if sum(f.skipped is None for f in missed) <= MAX_SINGLE_MISSED:
        for fire in missed:
            session.add(
                Occurrence(
                    deployment_id=deployment.id,
                    scheduled_for=fire.at,
                    outcome="dst_skipped" if fire.skipped else outcome,
                    reason="" if fire.skipped else reason,
                    reason_code=ReasonCode.DST_GAP if fire.skipped else code,
                )
            )
        return len(missed)
    found = span(schedule, after, now, start_at=start_at, end_at=end_at)
    for fire in found.skipped:
        session.add(
            Occurrence(
                deployment_id=deployment.id,
                scheduled_for=fire.at,
                outcome="dst_skipped",
                reason="",
                reason_code=ReasonCode.DST_GAP,
            )
        )
    session.add(
        Occurrence(
            deployment_id=deployment.id,
            scheduled_for=found.last,
            first_scheduled_for=found.first,
            fire_times=found.count,
            outcome=outcome,
            reason=f"a range of fire times; {reason}",
            reason_code=code,
        )
    )
    return found.count + len(found.skipped)
