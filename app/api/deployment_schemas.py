"""Schemas of the deployments API, and the per-deployment run statistics its lists show."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import msgspec

from app.api.schemas import RunOut
from app.core.states import RunStatus
from app.db.deployments import OUTCOMES, Deployment, Occurrence
from app.db.queries import query
from app.domain import deployment_fire_times as fire_times
from app.scheduling.policies import DstFold, DstGap, MisfirePolicy, OverlapPolicy
from app.scheduling.reasons import ReasonCode

#: What became of a fire time.
OccurrenceOutcome = StrEnum("OccurrenceOutcome", [(v.upper(), v) for v in OUTCOMES], module=__name__)  # type: ignore[misc]
_REASON_CODES = frozenset(ReasonCode)


class LastRun(msgspec.Struct):
    id: uuid.UUID
    status: RunStatus
    scheduled_for: datetime | None
    created_at: datetime


class DstPolicy(msgspec.Struct):
    """What a schedule does with a local time that a DST change skips (`nonexistent`) or repeats (`ambiguous`)."""

    nonexistent: DstGap
    ambiguous: DstFold


class DeploymentOut(msgspec.Struct):
    id: uuid.UUID
    namespace_id: uuid.UUID
    name: str
    description: str
    pipeline_id: uuid.UUID
    pipeline_version: int | None
    params: dict[str, Any]
    schedule: dict[str, Any]
    start_at: datetime | None
    end_at: datetime | None
    misfire_policy: MisfirePolicy
    misfire_grace_seconds: int
    max_catch_up: int
    max_concurrent_runs: int
    overlap_policy: OverlapPolicy
    dst_policy: DstPolicy
    max_retries: int
    retry_backoff_seconds: float | None
    retry_backoff_max_seconds: float | None
    retry_jitter: float | None
    timeout_seconds: int | None
    enabled: bool
    next_run_at: datetime | None
    created_at: datetime
    last_run: LastRun | None = None
    run_counts: dict[str, int] = msgspec.field(default_factory=dict)
    #: The pipeline's name (what a list shows; pipeline_id is what links).
    pipeline_name: str | None = None

    @classmethod
    def of(cls, d: Deployment, stats: dict[str, Any] | None = None, *, now: datetime) -> DeploymentOut:
        """`now`: the database's clock (fire_times.database_now), which the schedule loop goes by."""
        stats = stats or {}
        return cls(
            id=d.id,
            namespace_id=d.namespace_id,
            name=d.name,
            description=d.description,
            pipeline_id=d.pipeline_id,
            pipeline_version=d.pipeline_version,
            params=d.params,
            schedule=d.schedule,
            start_at=d.start_at,
            end_at=d.end_at,
            misfire_policy=d.misfire_policy,
            misfire_grace_seconds=d.misfire_grace_seconds,
            max_catch_up=d.max_catch_up,
            max_concurrent_runs=d.max_concurrent_runs,
            overlap_policy=d.overlap_policy,
            dst_policy=DstPolicy(nonexistent=d.dst_gap, ambiguous=d.dst_fold),  # type: ignore[arg-type]
            max_retries=d.max_retries,
            retry_backoff_seconds=d.retry_backoff_seconds,
            retry_backoff_max_seconds=d.retry_backoff_max_seconds,
            retry_jitter=d.retry_jitter,
            timeout_seconds=d.timeout_seconds,
            enabled=d.enabled,
            next_run_at=fire_times.next_fire_time(d, now),
            created_at=d.created_at,
            last_run=stats.get("last_run"),
            run_counts=stats.get("counts", {}),
            pipeline_name=stats.get("pipeline_name"),
        )


class OccurrenceOut(msgspec.Struct):
    scheduled_for: datetime
    outcome: OccurrenceOutcome
    run_id: uuid.UUID | None
    reason: Annotated[
        str,
        msgspec.Meta(
            description="Why, in English with its numbers (`seen 3600 s late (grace 60 s)`), for a person to read; "
            "`reason_code` says it as a stable code (one written by a newer server reads `unspecified`)"
        ),
    ]
    #: Why, as a stable code (described in the document by ReasonCode's docstring; a description here would
    #: replace that one, which Litestar shares between every field of the type).
    reason_code: ReasonCode
    recorded_at: datetime
    #: The status of the run now (None when the fire time has no run, or the run was deleted).
    run_status: RunStatus | None = None
    #: How many fire times this stands for: 1, or a range of missed ones (a long downtime) ending at scheduled_for.
    fire_times: int = 1
    #: The first fire time of a range of missed ones (None for a single fire time).
    first_scheduled_for: datetime | None = None

    @classmethod
    def of(cls, row: tuple[Occurrence, str | None]) -> OccurrenceOut:
        o, status = row
        return cls(
            scheduled_for=o.scheduled_for,
            outcome=OccurrenceOutcome(o.outcome),
            run_id=o.run_id,
            reason=o.reason,
            recorded_at=o.recorded_at,
            run_status=RunStatus(status) if status else None,
            fire_times=o.fire_times,
            first_scheduled_for=o.first_scheduled_for,
            reason_code=ReasonCode(o.reason_code) if o.reason_code in _REASON_CODES else ReasonCode.UNSPECIFIED,
        )


class BackfillOut(msgspec.Struct):
    runs: list[RunOut]
    #: Fire times in the window that already had a scheduled or backfilled run (left as they are).
    already_had_a_run: int


class Upcoming(msgspec.Struct):
    fire_times: list[datetime]


def run_stats(session: Any, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """Per deployment: run counts by status, the newest run, and the pipeline's name."""
    out: dict[uuid.UUID, dict[str, Any]] = {i: {"counts": {}} for i in ids}
    if not ids:
        return out
    params = {"ids": [str(i) for i in ids]}
    for row in session.execute(query("deployment_pipeline_names"), params):
        out[row.id]["pipeline_name"] = row.name
    for row in session.execute(query("deployment_run_counts"), params):
        out[row.deployment_id]["counts"][row.status] = row.n
    for row in session.execute(query("deployment_last_runs"), params):
        out[row.deployment_id]["last_run"] = LastRun(row.id, RunStatus(row.status), row.scheduled_for, row.created_at)
    return out
