"""Deployment changes as a caller (API, CLI) makes them: each checked and audited in its transaction.

The rules of each change live in app.domain.deployments and app.domain.backfill; this module adds who is
acting, so every caller writes the same audit row and no controller has to remember to. A change that moves
a deployment's fire times goes by the database's clock, as the schedule loop does (fire_times.database_now): a host
whose clock is off neither takes back runs still to come too late nor records fire times still to come as missed.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import Conflict
from app.db.deployments import Deployment
from app.domain import audit
from app.domain import backfill as backfill_service
from app.domain import deployment_documents as documents
from app.domain import deployment_fire_times as fire_times
from app.domain import deployments as service
from app.domain.permissions import Permission, Principal
from app.settings import Settings


def _record(
    session: Session, audit_as: audit.AuditContext, action: str, deployment: Deployment, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        audit_as,
        action=action,
        resource_type="deployment",
        resource_id=deployment.id,
        namespace_id=deployment.namespace_id,
        details=details,
    )


def _writable(session: Session, deployment_id: uuid.UUID, principal: Principal) -> Deployment:
    """The deployment, locked for the change, once the caller may change it."""
    deployment = service.get_deployment(session, deployment_id, principal, lock=True)
    principal.require(Permission.PIPELINES_WRITE, deployment.namespace_id, resource="deployment")
    return deployment


def create(
    session: Session,
    document: documents.DeploymentIn,
    principal: Principal,
    settings: Settings,
    *,
    audit_as: audit.AuditContext,
) -> Deployment:
    now = fire_times.database_now(session)
    deployment = service.create_deployment(session, document, principal, settings, now=now)
    _record(session, audit_as, "deployments.create", deployment, {"after": msgspec.to_builtins(document)})
    service.wake_schedulers(session)  # its first fire time may be due within the lookahead
    return deployment


def update(
    session: Session,
    deployment_id: uuid.UUID,
    patch: documents.DeploymentPatch,
    principal: Principal,
    settings: Settings,
    *,
    audit_as: audit.AuditContext,
) -> Deployment:
    deployment = _writable(session, deployment_id, principal)
    service.update_deployment(session, deployment, patch, settings, now=fire_times.database_now(session))
    # The fields given, a null (reset) included.
    _record(session, audit_as, "deployments.update", deployment, {"after": msgspec.to_builtins(patch)})
    service.wake_schedulers(session)
    return deployment


def pause(
    session: Session, deployment_id: uuid.UUID, principal: Principal, *, audit_as: audit.AuditContext
) -> Deployment:
    deployment = _writable(session, deployment_id, principal)
    service.pause(session, deployment, now=fire_times.database_now(session))
    _record(session, audit_as, "deployments.pause", deployment, {})
    service.wake_schedulers(session)
    return deployment


def resume(
    session: Session, deployment_id: uuid.UUID, principal: Principal, *, audit_as: audit.AuditContext
) -> Deployment:
    # The pipeline's row first, shared, then the deployment's: the order an archive takes them in (pipeline, then its
    # deployments), so an archive committing meanwhile is waited for and seen, and the two never wait on each other.
    pipeline_id = session.scalar(select(Deployment.pipeline_id).where(Deployment.id == deployment_id))
    if pipeline_id is not None:
        service.lock_pipeline(session, pipeline_id)
    deployment = _writable(session, deployment_id, principal)
    if deployment.pipeline_id != pipeline_id:  # pointed at another pipeline before the lock: that one is held too
        service.lock_pipeline(session, deployment.pipeline_id)
    if service.pipeline_archived(session, deployment):
        raise Conflict(
            "the deployment's pipeline is archived: it takes no new runs; point the deployment at another "
            "pipeline (PATCH) first",
            code="pipeline_archived",
        )
    missed = service.resume(session, deployment, now=fire_times.database_now(session))
    _record(session, audit_as, "deployments.resume", deployment, {"paused_fire_times": missed})
    service.wake_schedulers(session)
    return deployment


def pause_for_archive(session: Session, pipeline_id: uuid.UUID, *, audit_as: audit.AuditContext) -> list[Deployment]:
    """Pause every active deployment of a pipeline being archived, each audited: an archived pipeline takes no new
    runs (a manual run or a trigger is pipeline_not_found), yet its deployments kept firing it every fire time."""
    active = select(Deployment).where(Deployment.pipeline_id == pipeline_id, Deployment.enabled).with_for_update()
    deployments = list(session.scalars(active))
    now = fire_times.database_now(session)
    for deployment in deployments:
        service.pause(session, deployment, now=now)
        _record(session, audit_as, "deployments.pause", deployment, {"reason": "its pipeline was archived"})
    if deployments:
        service.wake_schedulers(session)
    return deployments


def delete(session: Session, deployment_id: uuid.UUID, principal: Principal, *, audit_as: audit.AuditContext) -> None:
    deployment = _writable(session, deployment_id, principal)
    _record(session, audit_as, "deployments.delete", deployment, {"before": {"name": deployment.name}})
    service.delete_deployment(session, deployment, now=fire_times.database_now(session))


def trigger(
    session: Session,
    deployment: Deployment,
    overrides: dict[str, Any],
    principal: Principal,
    settings: Settings,
    *,
    audit_as: audit.AuditContext,
) -> uuid.UUID:
    """A manual run now; an Idempotency-Key replay does not call this, so it is audited once."""
    run_id = service.trigger(session, deployment, overrides, principal, settings)
    _record(session, audit_as, "deployments.trigger", deployment, {"run_id": str(run_id), "params": overrides})
    return run_id


def backfill(
    session: Session,
    deployment: Deployment,
    request: backfill_service.BackfillIn,
    principal: Principal,
    settings: Settings,
    *,
    audit_as: audit.AuditContext,
) -> tuple[list[uuid.UUID], int]:
    """Runs for a past window; "past" by the database's clock, so a host clock ahead backfills no fire time to come."""
    now = fire_times.database_now(session)
    created, existing = backfill_service.backfill(session, deployment, request, principal, settings, now=now)
    details = {"start": request.start, "end": request.end, "created": len(created), "already_had_a_run": existing}
    _record(session, audit_as, "deployments.backfill", deployment, details)
    return created, existing
