"""Deployments: a pipeline on a schedule. Create, change, pause, resume, delete, trigger, preview."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db.deployments import Deployment, Occurrence
from app.db.queries import query
from app.domain import deployment_spec as spec_
from app.domain.errors import Conflict, InvalidInput, NotFound
from app.domain.ids import uuid7
from app.domain.namespaces import DEFAULT_NAMESPACE, namespace_id
from app.domain.pagination import decode_cursor
from app.domain.permissions import Permission, Principal
from app.domain.pipelines import resolve_pipeline
from app.domain.runs import RunRequest, submit_runs
from app.domain.states import RunTrigger
from app.settings import Settings
from scheduler.timing import fires, next_fire, upcoming

#: Most `paused` occurrences recorded for one pause (older fire times are summarised by the newest).
MAX_PAUSED_OCCURRENCES = 1000


class DeploymentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
    pipeline: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    schedule: spec_.ScheduleSpec
    namespace: str = DEFAULT_NAMESPACE
    description: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    pipeline_version: Annotated[int, msgspec.Meta(ge=1)] | None = None
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    start_at: datetime | None = None
    end_at: datetime | None = None
    misfire_policy: spec_.MisfirePolicy = "run_once"
    misfire_grace_seconds: Annotated[int, msgspec.Meta(ge=0, le=604_800)] = 60
    max_catch_up: Annotated[int, msgspec.Meta(ge=1, le=10_000)] = 10
    max_concurrent_runs: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 1
    overlap_policy: spec_.OverlapPolicy = "skip"
    dst_policy: dict[str, str] | None = None
    max_retries: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None
    retry_backoff_seconds: Annotated[float, msgspec.Meta(ge=0, le=86_400)] | None = None
    retry_backoff_max_seconds: Annotated[float, msgspec.Meta(ge=0, le=604_800)] | None = None
    retry_jitter: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    timeout_seconds: Annotated[int, msgspec.Meta(ge=1)] | None = None
    enabled: bool = True


class DeploymentPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; anything left out stays as it is."""

    description: str | None = None
    pipeline_version: int | None = None
    params: dict[str, Any] | None = None
    schedule: spec_.ScheduleSpec | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    misfire_policy: spec_.MisfirePolicy | None = None
    misfire_grace_seconds: int | None = None
    max_catch_up: int | None = None
    max_concurrent_runs: int | None = None
    overlap_policy: spec_.OverlapPolicy | None = None
    dst_policy: dict[str, str] | None = None
    max_retries: int | None = None
    retry_backoff_seconds: float | None = None
    retry_backoff_max_seconds: float | None = None
    retry_jitter: float | None = None
    timeout_seconds: int | None = None


def _validated(document: DeploymentIn, now: datetime) -> tuple[str, str]:
    gap, fold = spec_.dst_policy(document.dst_policy)
    spec_.check_window(document.schedule, document.start_at, document.end_at, now)
    spec_.to_schedule(document.schedule, dst_gap=gap, dst_fold=fold, default_anchor=now)
    return gap, fold


def preview(document: DeploymentIn, *, now: datetime, count: int) -> list[datetime]:
    """The next `count` fire times of a draft (nothing is saved)."""
    gap, fold = _validated(document, now)
    schedule = spec_.to_schedule(document.schedule, dst_gap=gap, dst_fold=fold, default_anchor=document.start_at or now)
    return upcoming(schedule, now, count, start_at=document.start_at, end_at=document.end_at)


def create_deployment(
    session: Session, document: DeploymentIn, principal: Principal, settings: Settings, *, now: datetime
) -> Deployment:
    target = namespace_id(session, document.namespace)
    principal.require(Permission.PIPELINES_WRITE, target, resource="namespace")
    gap, fold = _validated(document, now)
    try:
        pipeline = resolve_pipeline(session, document.pipeline, namespace=document.namespace)
    except NotFound as exc:
        raise InvalidInput(exc.detail, code=exc.code, errors=[{"field": "pipeline", "message": exc.detail}]) from None
    if pipeline.namespace_id != target:
        raise InvalidInput(
            "the pipeline is in another namespace",
            code="pipeline_not_found",
            errors=[{"field": "pipeline", "message": "not in this namespace"}],
        )
    deployment = Deployment(
        id=uuid7(),
        namespace_id=target,
        name=document.name,
        description=document.description,
        pipeline_id=pipeline.id,
        pipeline_version=document.pipeline_version,
        params=document.params,
        schedule=msgspec.to_builtins(document.schedule),
        start_at=document.start_at,
        end_at=document.end_at,
        misfire_policy=document.misfire_policy,
        misfire_grace_seconds=document.misfire_grace_seconds,
        max_catch_up=document.max_catch_up,
        max_concurrent_runs=document.max_concurrent_runs,
        overlap_policy=document.overlap_policy,
        dst_gap=gap,
        dst_fold=fold,
        max_retries=settings.default_max_retries if document.max_retries is None else document.max_retries,
        retry_backoff_seconds=document.retry_backoff_seconds,
        retry_backoff_max_seconds=document.retry_backoff_max_seconds,
        retry_jitter=document.retry_jitter,
        timeout_seconds=document.timeout_seconds,
        enabled=document.enabled,
        created_by=principal.user_id,
        last_scheduled_for=now,
        paused_at=None if document.enabled else now,
    )
    if isinstance(document.schedule, spec_.IntervalSpec) and document.schedule.anchor is None:
        deployment.schedule = {**deployment.schedule, "anchor": (document.start_at or now).isoformat()}
    deployment.next_run_at = compute_next(deployment, now) if document.enabled else None
    session.add(deployment)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"a deployment named {document.name!r} exists in this namespace",
            code="deployment_name_taken",
            errors=[{"field": "name", "message": "taken"}],
        ) from None
    session.refresh(deployment)
    return deployment


def schedule_for(deployment: Deployment):  # type: ignore[no-untyped-def]
    return spec_.schedule_of(
        deployment.schedule,
        dst_gap=deployment.dst_gap,
        dst_fold=deployment.dst_fold,
        default_anchor=deployment.start_at or deployment.created_at,
    )


def compute_next(deployment: Deployment, after: datetime) -> datetime | None:
    return next_fire(schedule_for(deployment), after, start_at=deployment.start_at, end_at=deployment.end_at)


def withdraw_planned(session: Session, deployment: Deployment, *, now: datetime) -> None:
    """Take back the runs planned ahead for fire times after `now`; the loop replans from the deployment as it is.

    Locks the deployment first (and reloads it), so a schedule loop cannot plan it meanwhile.
    """
    session.refresh(deployment, with_for_update=True)
    session.execute(query("withdraw_planned_runs"), {"deployment_id": deployment.id, "now": now})
    if deployment.last_scheduled_for and deployment.last_scheduled_for > now:
        deployment.last_scheduled_for = now


def next_fire_time(deployment: Deployment, now: datetime) -> datetime | None:
    """The next fire time to show: the loop's cursor (`next_run_at`), or an earlier one already planned ahead."""
    if not deployment.enabled or deployment.next_run_at is None:
        return None
    coming = compute_next(deployment, now)
    return deployment.next_run_at if coming is None else min(deployment.next_run_at, coming)


def get_deployment(
    session: Session, deployment_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> Deployment:
    found = session.get(Deployment, deployment_id, with_for_update=lock)
    if found is None or not principal.may(Permission.PIPELINES_READ, found.namespace_id):
        raise NotFound(f"deployment {deployment_id} does not exist", code="deployment_not_found")
    return found


def list_deployments(
    session: Session, *, visible: list[uuid.UUID] | None, limit: int, cursor: str | None
) -> list[Deployment]:
    query = select(Deployment).order_by(Deployment.created_at.desc(), Deployment.id.desc()).limit(limit + 1)
    if visible is not None:
        query = query.where(Deployment.namespace_id.in_(visible))
    if cursor:
        position = decode_cursor(cursor)
        query = query.where(tuple_(Deployment.created_at, Deployment.id) < tuple_(position.at, position.id))
    return list(session.scalars(query))


def update_deployment(session: Session, deployment: Deployment, patch: DeploymentPatch, *, now: datetime) -> None:
    """Apply changes; a new schedule takes effect at once (fire times from now on are recomputed)."""
    changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not None}
    merged = DeploymentIn(
        name=deployment.name,
        pipeline=str(deployment.pipeline_id),
        schedule=changes.get("schedule") or msgspec.convert(deployment.schedule, spec_.ScheduleSpec),  # type: ignore[arg-type]
        start_at=changes.get("start_at", deployment.start_at),
        end_at=changes.get("end_at", deployment.end_at),
        dst_policy=changes.get("dst_policy") or {"nonexistent": deployment.dst_gap, "ambiguous": deployment.dst_fold},
        misfire_policy=changes.get("misfire_policy", deployment.misfire_policy),
        overlap_policy=changes.get("overlap_policy", deployment.overlap_policy),
    )
    gap, fold = spec_.dst_policy(merged.dst_policy)
    spec_.to_schedule(merged.schedule, dst_gap=gap, dst_fold=fold, default_anchor=now)
    if merged.start_at and merged.end_at and merged.end_at <= merged.start_at:
        raise spec_.field_error("end_at", "must be after start_at", "invalid_window")
    withdraw_planned(session, deployment, now=now)  # planned runs carry the old schedule, params and policies
    for key, value in changes.items():
        if key == "schedule":
            value = msgspec.to_builtins(value)
            if value.get("kind") == "interval" and not value.get("anchor"):
                value["anchor"] = now.isoformat()
        if key == "dst_policy":
            deployment.dst_gap, deployment.dst_fold = gap, fold
            continue
        setattr(deployment, key, value)
    deployment.updated_at = func.now()  # type: ignore[assignment]
    if "schedule" in changes or "start_at" in changes or "end_at" in changes or "dst_policy" in changes:
        deployment.last_scheduled_for = max(deployment.last_scheduled_for or now, now)
    if deployment.enabled:
        deployment.next_run_at = compute_next(deployment, max(now, deployment.last_scheduled_for or now))
    session.flush()


def pause(session: Session, deployment: Deployment, *, now: datetime) -> None:
    if not deployment.enabled:
        raise Conflict("the deployment is already paused", code="deployment_paused")
    withdraw_planned(session, deployment, now=now)
    deployment.enabled, deployment.paused_at, deployment.next_run_at = False, now, None
    session.flush()


def delete_deployment(session: Session, deployment: Deployment, *, now: datetime) -> None:
    """Delete; its runs stay, except those planned ahead for fire times still to come."""
    withdraw_planned(session, deployment, now=now)
    session.delete(deployment)


def resume(session: Session, deployment: Deployment, *, now: datetime) -> int:
    """Resume; the fire times missed while paused are recorded as `paused`. Returns how many."""
    if deployment.enabled:
        raise Conflict("the deployment is not paused", code="deployment_not_paused")
    after = deployment.last_scheduled_for or deployment.paused_at or now
    missed = [
        f
        for f in fires(
            schedule_for(deployment),
            after,
            now,
            start_at=deployment.start_at,
            end_at=deployment.end_at,
            limit=MAX_PAUSED_OCCURRENCES,
        )
    ]
    for fire in missed:
        session.add(
            Occurrence(
                deployment_id=deployment.id,
                scheduled_for=fire.at,
                outcome="dst_skipped" if fire.skipped else "paused",
                reason="" if fire.skipped else "the deployment was paused",
            )
        )
    deployment.enabled, deployment.paused_at = True, None
    deployment.last_scheduled_for = now
    deployment.next_run_at = compute_next(deployment, now)
    session.flush()
    return len(missed)


class TriggerIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    params: dict[str, Any] = msgspec.field(default_factory=dict)


def trigger(
    session: Session, deployment: Deployment, overrides: dict[str, Any], principal: Principal, settings: Settings
) -> uuid.UUID:
    """A manual run now, with the deployment's parameters overridden; never in the way of scheduled runs."""
    principal.require(Permission.RUNS_OPERATE, deployment.namespace_id, resource="deployment")
    request = RunRequest(
        pipeline=str(deployment.pipeline_id),
        params={**deployment.params, **overrides},
        max_retries=deployment.max_retries,
        retry_backoff_seconds=deployment.retry_backoff_seconds,
        retry_backoff_max_seconds=deployment.retry_backoff_max_seconds,
        retry_jitter=deployment.retry_jitter,
        timeout_seconds=deployment.timeout_seconds,
    )
    [run_id] = submit_runs(
        session,
        [request],
        trigger=RunTrigger.MANUAL,
        principal=principal,
        settings=settings,
        deployment_id=deployment.id,
        pipeline_version=deployment.pipeline_version,
    )
    return run_id


def list_occurrences(session: Session, deployment: Deployment, *, limit: int, cursor: str | None) -> list[Occurrence]:
    query = (
        select(Occurrence)
        .where(Occurrence.deployment_id == deployment.id)
        .order_by(Occurrence.scheduled_for.desc(), Occurrence.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        position = decode_cursor(cursor)
        query = query.where(tuple_(Occurrence.scheduled_for, Occurrence.id) < tuple_(position.at, position.id.int))
    return list(session.scalars(query))


def utcnow() -> datetime:
    return datetime.now(UTC)
