"""Deployments: a pipeline on a schedule. Create, change, pause, resume, delete, trigger, list occurrences.

The documents they accept live in app.domain.deployment_documents, the fire-time rules in
app.domain.deployment_fire_times.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.ids import uuid7
from app.core.states import RunTrigger
from app.db.deployments import Deployment, Occurrence
from app.db.models import Pipeline, Run
from app.db.queries import query
from app.domain.deployment_documents import TIMES, DeploymentIn, DeploymentPatch, document_of, validated
from app.domain.deployment_fire_times import compute_next, record_unhandled, reset_next
from app.domain.name_search import holds
from app.domain.namespaces import namespace_id, visible_namespaces
from app.domain.pagination import decode_cursor, decode_row_cursor
from app.domain.permissions import Permission, Principal
from app.domain.pipelines import resolve_pipeline
from app.domain.run_params import check_params
from app.domain.runs import RunRequest, submit_runs
from app.scheduling import spec as spec_
from app.settings import Settings

#: The fields whose change moves the loop's cursor to now: fire times are computed afresh from then.
_SCHEDULE_FIELDS = frozenset({"schedule", "start_at", "end_at", "dst_policy"})


def create_deployment(
    session: Session, document: DeploymentIn, principal: Principal, settings: Settings, *, now: datetime
) -> Deployment:
    target = namespace_id(session, document.namespace)
    principal.require(Permission.PIPELINES_WRITE, target, resource="namespace")
    gap, fold = validated(document, now)
    try:
        pipeline = resolve_pipeline(session, document.pipeline, namespace=document.namespace)
        # one in a namespace the caller cannot see answers as an id that names nothing
        principal.require(Permission.PIPELINES_READ, pipeline.namespace_id, resource="pipeline", name=document.pipeline)
    except NotFound as exc:
        raise InvalidInput(exc.detail, code=exc.code, errors=[{"field": "pipeline", "message": exc.detail}]) from None
    if pipeline.namespace_id != target:
        raise InvalidInput(
            "the pipeline is in another namespace",
            code="pipeline_not_found",
            errors=[{"field": "pipeline", "message": "not in this namespace"}],
        )
    check_params(session, pipeline.id, document.pipeline_version or pipeline.latest_version, document.params)
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


def withdraw_planned(session: Session, deployment: Deployment, *, now: datetime) -> None:
    """Take back the runs planned ahead for fire times after `now`; the loop replans from the deployment as it is.

    Locks the deployment first (and reloads it), so a schedule loop cannot plan it meanwhile.
    """
    session.refresh(deployment, with_for_update=True)
    session.execute(query("withdraw_planned_runs"), {"deployment_id": deployment.id, "now": now})
    if deployment.last_scheduled_for and deployment.last_scheduled_for > now:
        deployment.last_scheduled_for = now


def get_deployment(
    session: Session, deployment_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> Deployment:
    found = session.get(Deployment, deployment_id, with_for_update=lock)
    if found is None or not principal.may(Permission.PIPELINES_READ, found.namespace_id):
        raise NotFound(f"deployment {deployment_id} does not exist", code="deployment_not_found")
    return found


def list_deployments(
    session: Session,
    principal: Principal,
    *,
    namespace: str | None = None,
    search: str | None = None,
    limit: int,
    cursor: str | None,
) -> list[Deployment]:
    """Deployments the caller may read (in `namespace` only, if named; whose name holds `search`, in any case),
    newest first; `limit + 1` rows."""
    visible = visible_namespaces(session, principal, Permission.PIPELINES_READ, namespace)
    query = select(Deployment).order_by(Deployment.created_at.desc(), Deployment.id.desc()).limit(limit + 1)
    if visible is not None:
        query = query.where(Deployment.namespace_id.in_(visible))
    if search:
        query = query.where(holds(search, Deployment.name))
    if cursor:
        position = decode_cursor(cursor)
        query = query.where(tuple_(Deployment.created_at, Deployment.id) < tuple_(position.at, position.id))
    return list(session.scalars(query))


def update_deployment(
    session: Session, deployment: Deployment, patch: DeploymentPatch, settings: Settings, *, now: datetime
) -> None:
    """Apply changes, checked as create checks them; a new schedule takes effect at once (fire times recomputed).

    Any other change leaves the loop's cursor where it is (see deployment_fire_times.reset_next).
    """
    changes = patch.changes()
    if "max_retries" in changes and changes["max_retries"] is None:
        changes["max_retries"] = settings.default_max_retries  # NOT NULL: null means the default
    merged = msgspec.structs.replace(document_of(deployment), **changes)
    gap, fold = validated(merged, now, new_schedule="schedule" in changes, new_times=TIMES & changes.keys())
    if "params" in changes or "pipeline_version" in changes:
        latest = session.get_one(Pipeline, deployment.pipeline_id).latest_version
        check_params(session, deployment.pipeline_id, merged.pipeline_version or latest, merged.params)
    withdraw_planned(session, deployment, now=now)  # planned runs carry the old schedule, params and policies
    moves_cursor = bool(changes.keys() & _SCHEDULE_FIELDS)
    if moves_cursor:  # the old schedule's fire times due by now and not handled yet are recorded, not lost
        record_unhandled(session, deployment, now)
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
    if moves_cursor:
        deployment.last_scheduled_for = max(deployment.last_scheduled_for or now, now)
    if deployment.enabled:
        reset_next(deployment, now, moves_cursor=moves_cursor)
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


def lock_pipeline(session: Session, pipeline_id: uuid.UUID) -> None:
    """Hold the pipeline's row (shared) until the transaction ends: it cannot be archived meanwhile."""
    session.execute(select(Pipeline.id).where(Pipeline.id == pipeline_id).with_for_update(read=True))


def pipeline_archived(session: Session, deployment: Deployment) -> bool:
    """Whether the deployment's pipeline is archived (it takes no new runs)."""
    archived = select(Pipeline.archived_at.is_not(None)).where(Pipeline.id == deployment.pipeline_id)
    return bool(session.scalar(archived))


def resume(session: Session, deployment: Deployment, *, now: datetime) -> int:
    """Resume; the fire times missed while paused are recorded as `paused`. Returns how many."""
    if deployment.enabled:
        raise Conflict("the deployment is not paused", code="deployment_not_paused")
    missed = record_unhandled(session, deployment, now)
    deployment.enabled, deployment.paused_at = True, None
    deployment.last_scheduled_for = now
    deployment.next_run_at = compute_next(deployment, now)
    session.flush()
    return missed


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
    [run] = submit_runs(
        session,
        [request],
        trigger=RunTrigger.MANUAL,
        principal=principal,
        settings=settings,
        deployment_id=deployment.id,
        pipeline_version=deployment.pipeline_version,
    )
    return run.id  # type: ignore[no-any-return]


def list_occurrences(
    session: Session, deployment: Deployment, *, limit: int, cursor: str | None, outcome: str | None = None
) -> list[tuple[Occurrence, str | None]]:
    """A page of fire times, newest first, each with the status of its run (None when there is no run)."""
    query = (
        select(Occurrence, Run.status)
        .outerjoin(Run, Run.id == Occurrence.run_id)
        .where(Occurrence.deployment_id == deployment.id)
        .order_by(Occurrence.scheduled_for.desc(), Occurrence.id.desc())
        .limit(limit + 1)
    )
    if outcome is not None:
        query = query.where(Occurrence.outcome == outcome)
    if cursor:
        at, last_id = decode_row_cursor(cursor)
        query = query.where(tuple_(Occurrence.scheduled_for, Occurrence.id) < tuple_(at, last_id))
    return [(o, status) for o, status in session.execute(query)]


def wake_schedulers(session: Session) -> None:
    """Tell the schedule loops (LISTEN conveyor_deployments) a deployment changed, at commit, so they replan now."""
    session.execute(query("wake_schedulers"))
