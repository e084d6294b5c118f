"""/api/v1/deployments: scheduled pipelines; pause, resume, trigger, preview, occurrences."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.orm import Session

from app.api import idempotent
from app.api.deployment_schemas import (
    BackfillOut,
    DeploymentOut,
    OccurrenceOut,
    OccurrenceOutcome,
    Upcoming,
    run_stats,
)
from app.api.idempotent import IdempotencyKey
from app.api.schemas import (
    NameSearch,
    NamespaceFilter,
    Page,
    PageCursor,
    PageLimit,
    RunOut,
    page,
    page_cursor,
    runs_out,
)
from app.api.security import audit_context, principal_of
from app.db.database import Database
from app.db.deployments import Deployment
from app.domain import backfill as backfill_service
from app.domain import deployment_actions as actions
from app.domain import deployment_documents as documents
from app.domain import deployment_fire_times as fire_times
from app.domain import deployments as service
from app.domain.permissions import Permission
from app.domain.runs import get_runs
from app.scheduling.timing import upcoming as upcoming_fires
from app.settings import Settings

READ = {"permission": Permission.PIPELINES_READ}
WRITE = Permission.PIPELINES_WRITE
DeploymentId = FromPath[uuid.UUID]


def _out(session: Session, deployment: Deployment) -> DeploymentOut:
    """The deployment as the API shows it, its next fire time by the database's clock (as the loop goes by)."""
    session.flush()
    now = fire_times.database_now(session)
    return DeploymentOut.of(deployment, run_stats(session, [deployment.id])[deployment.id], now=now)


class DeploymentController(Controller):
    path = "/api/v1/deployments"
    tags = ["deployments"]

    @post(
        "/",
        operation_id="createDeployment",
        opt={"permission": WRITE, "action": "deployments.create", "errors": (404, 409)},
        sync_to_thread=True,
        status_code=201,
        summary="Create a deployment: a pipeline on a schedule",
    )
    def create(
        self,
        request: Request,
        data: JSONBody[documents.DeploymentIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[DeploymentOut]:
        principal = principal_of(request)
        with db.transaction() as session:
            deployment_id, replayed = idempotent.create_one(
                session,
                request,
                settings,
                key=idempotency_key,
                body=data,
                create=lambda: actions.create(session, data, principal, settings, audit_as=audit_context(request)).id,
            )
            deployment = service.get_deployment(session, deployment_id, principal)
            location = f"/api/v1/deployments/{deployment_id}"
            return Response(_out(session, deployment), status_code=201, headers=idempotent.headers(replayed, location))

    @post(
        "/validate",
        operation_id="validateDeployment",
        opt={"permission": WRITE},
        sync_to_thread=True,
        status_code=200,
        summary="Check a draft and preview its next fire times (nothing is saved)",
    )
    def validate(
        self,
        data: JSONBody[documents.DeploymentIn],
        db: NamedDependency[Database],
        n: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
    ) -> Upcoming:
        with db.read() as session:  # the database's clock, which the loop and create go by
            now = fire_times.database_now(session)
        return Upcoming(documents.preview(data, now=now, count=n))

    @get(
        "/",
        operation_id="listDeployments",
        opt=READ,
        sync_to_thread=True,
        summary="Deployments, with next fire time, last run and run counts",
    )
    def list_deployments(
        self,
        request: Request,
        db: NamedDependency[Database],
        limit: PageLimit = 50,
        cursor: PageCursor = None,
        namespace: NamespaceFilter = None,
        search: NameSearch = None,
    ) -> Page[DeploymentOut]:
        with db.read() as session:
            rows = service.list_deployments(
                session,
                principal_of(request),
                namespace=namespace,
                search=search,
                limit=limit,
                cursor=page_cursor(request, cursor),
            )
            stats = run_stats(session, [d.id for d in rows[:limit]])
            now = fire_times.database_now(session)
        return page(
            request,
            rows,
            limit,
            position=lambda d: (d.created_at, d.id),
            item=lambda d: DeploymentOut.of(d, stats[d.id], now=now),
        )

    @get(
        "/{deployment_id:uuid}",
        operation_id="getDeployment",
        opt=READ,
        sync_to_thread=True,
        summary="Read a deployment",
    )
    def read(self, request: Request, deployment_id: DeploymentId, db: NamedDependency[Database]) -> DeploymentOut:
        with db.read() as session:
            deployment = service.get_deployment(session, deployment_id, principal_of(request))
            return _out(session, deployment)

    @patch(
        "/{deployment_id:uuid}",
        operation_id="updateDeployment",
        opt={"permission": WRITE, "action": "deployments.update", "errors": (409,)},
        sync_to_thread=True,
        summary="Change a deployment; a new schedule takes effect at once",
    )
    def update(
        self,
        request: Request,
        deployment_id: DeploymentId,
        data: JSONBody[documents.DeploymentPatch],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> DeploymentOut:
        with db.transaction() as session:
            deployment = actions.update(
                session,
                deployment_id,
                data,
                principal_of(request),
                settings,
                audit_as=audit_context(request),
            )
            return _out(session, deployment)

    @post(
        "/{deployment_id:uuid}/pause",
        operation_id="pauseDeployment",
        opt={"permission": WRITE, "action": "deployments.pause", "errors": (409,)},
        sync_to_thread=True,
        status_code=200,
        summary="Pause: no runs until resumed",
    )
    def pause(self, request: Request, deployment_id: DeploymentId, db: NamedDependency[Database]) -> DeploymentOut:
        with db.transaction() as session:
            deployment = actions.pause(session, deployment_id, principal_of(request), audit_as=audit_context(request))
            return _out(session, deployment)

    @post(
        "/{deployment_id:uuid}/resume",
        operation_id="resumeDeployment",
        opt={"permission": WRITE, "action": "deployments.resume", "errors": (409,)},
        sync_to_thread=True,
        status_code=200,
        summary="Resume; fire times missed while paused are recorded",
    )
    def resume(self, request: Request, deployment_id: DeploymentId, db: NamedDependency[Database]) -> DeploymentOut:
        with db.transaction() as session:
            deployment = actions.resume(session, deployment_id, principal_of(request), audit_as=audit_context(request))
            return _out(session, deployment)

    @delete(
        "/{deployment_id:uuid}",
        operation_id="deleteDeployment",
        opt={"permission": WRITE, "action": "deployments.delete"},
        sync_to_thread=True,
        summary="Delete a deployment (its runs stay)",
    )
    def remove(self, request: Request, deployment_id: DeploymentId, db: NamedDependency[Database]) -> None:
        with db.transaction() as session:
            actions.delete(session, deployment_id, principal_of(request), audit_as=audit_context(request))

    @post(
        "/{deployment_id:uuid}/trigger",
        operation_id="triggerDeployment",
        opt={"permission": Permission.RUNS_OPERATE, "action": "deployments.trigger", "errors": (409,)},
        sync_to_thread=True,
        status_code=201,
        summary="Run now, with parameter overrides",
    )
    def trigger(
        self,
        request: Request,
        deployment_id: DeploymentId,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: JSONBody[documents.TriggerIn | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RunOut]:
        principal = principal_of(request)
        overrides = data.params if data else {}
        ctx = audit_context(request)
        with db.transaction() as session:
            deployment = service.get_deployment(session, deployment_id, principal)
            run_id, replayed = idempotent.create_one(
                session,
                request,
                settings,
                key=idempotency_key,
                body=overrides,
                resource_id=deployment_id,
                create=lambda: actions.trigger(session, deployment, overrides, principal, settings, audit_as=ctx),
            )
            answer = runs_out(session, get_runs(session, [run_id]))[0]
            return Response(answer, status_code=201, headers=idempotent.headers(replayed))

    @post(
        "/{deployment_id:uuid}/backfill",
        operation_id="backfillDeployment",
        opt={"permission": Permission.RUNS_OPERATE, "action": "deployments.backfill", "errors": (409,)},
        sync_to_thread=True,
        status_code=201,
        summary="Runs for the fire times of a past window",
    )
    def backfill(
        self,
        request: Request,
        deployment_id: DeploymentId,
        data: JSONBody[backfill_service.BackfillIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[BackfillOut]:
        principal = principal_of(request)
        existing: list[int] = []

        def create() -> list[uuid.UUID]:
            ctx = audit_context(request)
            created, had = actions.backfill(session, deployment, data, principal, settings, audit_as=ctx)
            existing.append(had)
            return created

        with db.transaction() as session:
            deployment = service.get_deployment(session, deployment_id, principal)
            created, replayed = idempotent.create_many(
                session, request, settings, key=idempotency_key, body=data, resource_id=deployment_id, create=create
            )
            if replayed:  # the window is past, its fire times fixed: those the first request did not run had one
                existing.append(len(backfill_service.plan(deployment, data, now=fire_times.database_now(session))))
                existing[0] -= len(created)
            runs = runs_out(session, get_runs(session, created))
        return Response(BackfillOut(runs, existing[0]), status_code=201, headers=idempotent.headers(replayed))

    @post(
        "/{deployment_id:uuid}/backfill/preview",
        operation_id="previewBackfill",
        opt={"permission": Permission.RUNS_OPERATE},
        sync_to_thread=True,
        status_code=200,
        summary="How many runs a backfill of the window would create (nothing is created)",
    )
    def backfill_preview(
        self,
        request: Request,
        deployment_id: DeploymentId,
        data: JSONBody[backfill_service.BackfillIn],
        db: NamedDependency[Database],
    ) -> backfill_service.BackfillPreview:
        principal = principal_of(request)
        with db.read() as session:
            deployment = service.get_deployment(session, deployment_id, principal)
            now = fire_times.database_now(session)
            return backfill_service.preview(session, deployment, data, principal, now=now)

    @get(
        "/{deployment_id:uuid}/upcoming",
        operation_id="listUpcomingFireTimes",
        opt=READ,
        sync_to_thread=True,
        summary="The next n fire times",
    )
    def upcoming(
        self,
        request: Request,
        deployment_id: DeploymentId,
        db: NamedDependency[Database],
        n: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
    ) -> Upcoming:
        with db.read() as session:
            deployment = service.get_deployment(session, deployment_id, principal_of(request))
            now = fire_times.database_now(session)  # the clock the loop fires by, not this host's
        return Upcoming(
            upcoming_fires(
                fire_times.schedule_for(deployment),
                now,
                n,
                start_at=deployment.start_at,
                end_at=deployment.end_at,
            )
            if deployment.enabled
            else []
        )

    @get(
        "/{deployment_id:uuid}/occurrences",
        operation_id="listDeploymentOccurrences",
        opt=READ,
        sync_to_thread=True,
        summary="Each fire time and what became of it: a run, or why not",
    )
    def occurrences(
        self,
        request: Request,
        deployment_id: DeploymentId,
        db: NamedDependency[Database],
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        cursor: PageCursor = None,
        outcome: FromQuery[OccurrenceOutcome | None] = None,
    ) -> Page[OccurrenceOut]:
        with db.read() as session:
            deployment = service.get_deployment(session, deployment_id, principal_of(request))
            rows = service.list_occurrences(
                session,
                deployment,
                limit=limit,
                cursor=page_cursor(request, cursor),
                outcome=outcome.value if outcome else None,
            )
        return page(
            request, rows, limit, position=lambda r: (r[0].scheduled_for, uuid.UUID(int=r[0].id)), item=OccurrenceOut.of
        )
