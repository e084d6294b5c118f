"""Backfill: runs for the fire times of a past window (trigger `backfill`), bounded, one per fire time."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.states import RunTrigger
from app.db.deployments import Deployment
from app.db.models import Pipeline, Run
from app.domain.deployment_fire_times import schedule_for
from app.domain.permissions import Permission, Principal
from app.domain.run_rows import insert_runs, scheduled_run_rows
from app.domain.runs import actor_of
from app.scheduling import spec as spec_
from app.scheduling.timing import fires
from app.settings import Settings


class BackfillIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Runs for the fire times of a past window, oldest first."""

    start: spec_.Time
    end: spec_.Time
    max_runs: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 100
    #: `allow`: all at once; `buffer_all`: held and sent as the deployment has free slots (max_concurrent_runs).
    overlap_policy: Literal["allow", "buffer_all"] = "buffer_all"


class BackfillPreview(msgspec.Struct):
    """What a backfill of the window would do, without doing it."""

    #: Fire times in the window.
    fire_times: int
    #: Runs it would create (fire times that have no run yet).
    will_create: int
    #: Fire times that already have a scheduled or backfilled run (left as they are).
    already_had_a_run: int
    first: datetime | None
    last: datetime | None


def plan(deployment: Deployment, request: BackfillIn, *, now: datetime) -> list[datetime]:
    """The window's fire times, oldest first; InvalidInput if the window is wrong or holds more than max_runs."""
    spec_.check_time("start", request.start)
    spec_.check_time("end", request.end)
    if request.end <= request.start:
        raise spec_.field_error("end", "must be after start", "invalid_window")
    if request.end > now:
        raise spec_.field_error("end", "a backfill covers the past; end must not be in the future", "invalid_window")
    found = [
        f.at
        for f in fires(
            schedule_for(deployment), request.start - timedelta(microseconds=1), request.end, limit=request.max_runs + 1
        )
        if f.skipped is None
    ]
    if len(found) > request.max_runs:
        raise spec_.field_error(
            "max_runs",
            f"the window has more than {request.max_runs} fire times; narrow it or raise max_runs",
            "backfill_too_large",
        )
    return found


def preview(
    session: Session, deployment: Deployment, request: BackfillIn, principal: Principal, *, now: datetime
) -> BackfillPreview:
    """How many runs `backfill` would create for the window (the same checks, nothing written)."""
    principal.require(Permission.RUNS_OPERATE, deployment.namespace_id, resource="deployment")
    found = plan(deployment, request, now=now)
    existing = (
        session.scalar(
            select(func.count())
            .select_from(Run)
            .where(Run.deployment_id == deployment.id, Run.scheduled_for.in_(found))
        )
        if found
        else 0
    ) or 0
    return BackfillPreview(
        fire_times=len(found),
        will_create=len(found) - existing,
        already_had_a_run=existing,
        first=found[0] if found else None,
        last=found[-1] if found else None,
    )


def backfill(
    session: Session,
    deployment: Deployment,
    request: BackfillIn,
    principal: Principal,
    settings: Settings,
    *,
    now: datetime,
) -> tuple[list[uuid.UUID], int]:
    """Create runs (trigger `backfill`) for the window's fire times; returns them and how many already had one."""
    principal.require(Permission.RUNS_OPERATE, deployment.namespace_id, resource="deployment")
    found = plan(deployment, request, now=now)
    row = {
        "id": deployment.id,
        "namespace_id": deployment.namespace_id,
        "pipeline_id": deployment.pipeline_id,
        "pipeline_version": deployment.pipeline_version,
        "params": deployment.params,
        "max_retries": deployment.max_retries,
        "retry_backoff_seconds": deployment.retry_backoff_seconds,
        "retry_backoff_max_seconds": deployment.retry_backoff_max_seconds,
        "retry_jitter": deployment.retry_jitter,
        "timeout_seconds": deployment.timeout_seconds,
        "latest_version": session.scalar(select(Pipeline.latest_version).where(Pipeline.id == deployment.pipeline_id)),
    }
    rows = scheduled_run_rows(
        row,
        settings,
        [(at, request.overlap_policy == "buffer_all") for at in found],
        actor=actor_of(principal),
        trigger=RunTrigger.BACKFILL,
        created_by=principal.user_id,
    )
    created = insert_runs(session, rows)
    return created, len(rows) - len(created)
