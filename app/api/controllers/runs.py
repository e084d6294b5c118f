"""/api/v1/runs: submit, batch-submit, list, read, events, report, cancel, retry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from app.api import idempotent
from app.api.idempotent import IdempotencyKey
from app.api.live_logs import LiveLogs
from app.api.schemas import (
    Page,
    PageCursor,
    PageLimit,
    RunBatchIn,
    RunBatchOut,
    RunEventOut,
    RunOut,
    RunSearch,
    page,
    page_cursor,
    runs_out,
)
from app.api.security import audit_context, principal_of
from app.core.errors import InvalidInput
from app.core.states import RunKind, RunStatus, RunTrigger
from app.db.database import Database
from app.domain import runs as run_service
from app.domain.dispatch import EagerSender
from app.domain.pagination import check_limit
from app.domain.permissions import Permission
from app.domain.run_names import subject_names
from app.domain.run_reports import RunReport, run_report
from app.domain.runs import RunFilters, RunRecord, RunRequest
from app.settings import Settings

RunId = FromPath[uuid.UUID]
READ = {"permission": Permission.RUNS_READ}


def _submit(
    request: Request,
    db: Database,
    settings: Settings,
    *,
    key: str | None,
    body: object,
    requests: list[RunRequest],
    trigger: RunTrigger,
) -> tuple[list[RunOut], bool]:
    """Submit once per Idempotency-Key (and caller); returns the runs and whether this was a replay.

    With the eager sender, the runs are committed QUEUED in the submit's one transaction, then sent (the
    relay's hop and two more transactions saved); the answer shows them as committed.
    """
    principal = principal_of(request)
    ctx = audit_context(request)
    eager: EagerSender | None = request.app.state.get("eager_sender")
    created: list[RunRecord] = []

    def create() -> list[uuid.UUID]:
        created.extend(
            run_service.submit_runs(
                session,
                requests,
                trigger=trigger,
                principal=principal,
                settings=settings,
                audit_as=ctx,
                dispatch_actor=eager.actor if eager is not None else None,
                # with no key the insert is the transaction's last statement: its COMMIT goes with it
                commit=not key,
            )
        )
        return [run.id for run in created]

    with db.transaction() as session:
        ids, replayed = idempotent.create_many(session, request, settings, key=key, body=body, create=create)
        # the rows the insert returned are the runs as committed; a replay reads the first request's runs
        runs: Sequence[RunRecord] = run_service.get_runs(session, ids) if replayed else created
    if eager is not None and not replayed:
        eager.send(runs)  # committed: send now rather than through the relay
    with db.read() as session:
        return runs_out(session, runs), replayed


class RunController(Controller):
    path = "/api/v1/runs"
    tags = ["runs"]

    @post(
        "/",
        operation_id="submitRun",
        opt={"permission": Permission.RUNS_OPERATE, "action": "runs.submit", "errors": (404,)},
        sync_to_thread=True,
        status_code=201,
        summary="Submit a run",
    )
    def submit(
        self,
        request: Request,
        data: JSONBody[RunRequest],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RunOut]:
        runs, replayed = _submit(
            request, db, settings, key=idempotency_key, body=data, requests=[data], trigger=RunTrigger.API
        )
        return Response(runs[0], status_code=201, headers=idempotent.headers(replayed, f"/api/v1/runs/{runs[0].id}"))

    @post(
        "/batch",
        operation_id="submitRuns",
        opt={"permission": Permission.RUNS_OPERATE, "action": "runs.submit", "errors": (404,)},
        sync_to_thread=True,
        status_code=201,
        summary="Submit up to CONVEYOR_MAX_BATCH_RUNS runs at once, all or nothing",
    )
    def submit_batch(
        self,
        request: Request,
        data: JSONBody[RunBatchIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RunBatchOut]:
        if len(data.runs) > settings.max_batch_runs:
            raise InvalidInput(
                f"a batch holds at most {settings.max_batch_runs} runs (got {len(data.runs)})",
                code="batch_too_large",
                errors=[{"field": "runs", "message": f"at most {settings.max_batch_runs} items"}],
            )
        runs, replayed = _submit(
            request, db, settings, key=idempotency_key, body=data, requests=data.runs, trigger=RunTrigger.BATCH
        )
        return Response(RunBatchOut(runs), status_code=201, headers=idempotent.headers(replayed))

    @get(
        "/",
        operation_id="listRuns",
        opt=READ,
        sync_to_thread=True,
        summary="List runs the caller may see, newest first",
    )
    def list_runs(
        self,
        request: Request,
        db: NamedDependency[Database],
        status: Annotated[list[RunStatus] | None, QueryParameter(description="One or more statuses")] = None,
        kind: FromQuery[RunKind | None] = None,
        pipeline: Annotated[str | None, QueryParameter(description="Pipeline id or name")] = None,
        deployment_id: FromQuery[uuid.UUID | None] = None,
        dataset_id: Annotated[uuid.UUID | None, QueryParameter(description="Imports into this dataset")] = None,
        trigger: FromQuery[RunTrigger | None] = None,
        created_after: Annotated[datetime | None, QueryParameter(description="Inclusive, ISO 8601")] = None,
        created_before: Annotated[datetime | None, QueryParameter(description="Exclusive, ISO 8601")] = None,
        namespace: FromQuery[str | None] = None,
        search: RunSearch = None,
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[RunOut]:
        filters = RunFilters(
            namespace=namespace,
            status=status,
            kind=kind,
            pipeline=pipeline,
            deployment_id=deployment_id,
            dataset_id=dataset_id,
            trigger=trigger,
            created_after=created_after,
            created_before=created_before,
            search=search,
        )
        with db.read() as session:
            rows = run_service.list_runs(
                session, principal_of(request), filters, limit=check_limit(limit), cursor=page_cursor(request, cursor)
            )
            names = subject_names(session, rows[:limit])
        return page(request, rows, limit, position=lambda r: (r.created_at, r.id), item=lambda r: RunOut.of(r, names))

    @get("/{run_id:uuid}", operation_id="getRun", opt=READ, sync_to_thread=True, summary="Read a run")
    def read(self, request: Request, run_id: RunId, db: NamedDependency[Database]) -> RunOut:
        with db.read() as session:
            return runs_out(session, [run_service.get_run(session, run_id, principal_of(request))])[0]

    @get(
        "/{run_id:uuid}/events",
        operation_id="listRunEvents",
        opt=READ,
        sync_to_thread=True,
        summary="A run's state transitions, oldest first",
    )
    def events(
        self,
        request: Request,
        run_id: RunId,
        db: NamedDependency[Database],
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[RunEventOut]:
        with db.read() as session:
            rows = run_service.list_events(
                session, run_id, principal_of(request), limit=limit, cursor=page_cursor(request, cursor)
            )
        return page(request, rows, limit, position=lambda e: (e.created_at, uuid.UUID(int=e.id)), item=RunEventOut.of)

    @get(
        "/{run_id:uuid}/report",
        operation_id="getRunReport",
        opt=READ,
        sync_to_thread=True,
        summary="What a run checked: its params, inputs, validate steps, output schema and row counts",
        description="Built from what the run recorded (nothing is run again); `passed` is null until the run is final.",
    )
    def report(self, request: Request, run_id: RunId, db: NamedDependency[Database]) -> RunReport:
        with db.read() as session:
            return run_report(session, run_id, principal_of(request))

    @post(
        "/{run_id:uuid}/cancel",
        operation_id="cancelRun",
        status_code=200,
        responses={202: ResponseSpec(RunOut, description="A running run was asked to stop")},
        opt={"permission": Permission.RUNS_OPERATE, "action": "runs.cancel", "errors": (409,)},
        sync_to_thread=True,
        summary="Cancel a run",
        description="A run not yet started is CANCELLED at once (200); a running one is asked to stop (202) "
        "and reaches CANCELLED within seconds.",
    )
    def cancel(
        self, request: Request, run_id: RunId, db: NamedDependency[Database], live_logs: NamedDependency[LiveLogs]
    ) -> Response[RunOut]:
        request.state.audit_resource_type, request.state.audit_resource_id = "run", str(run_id)
        with db.transaction() as session:
            run = run_service.cancel_run(session, run_id, principal_of(request), audit_as=audit_context(request))
            answer = runs_out(session, [run])[0]
        if run.status == RunStatus.CANCELLED:
            live_logs.end(run.id, run.status)
            return Response(answer, status_code=200)
        return Response(answer, status_code=202)

    @post(
        "/{run_id:uuid}/retry",
        operation_id="retryRun",
        opt={"permission": Permission.RUNS_OPERATE, "action": "runs.retry", "errors": (409,)},
        sync_to_thread=True,
        status_code=202,
        summary="Run a failed, cancelled or timed-out run again",
    )
    def retry(
        self, request: Request, run_id: RunId, db: NamedDependency[Database], settings: NamedDependency[Settings]
    ) -> RunOut:
        request.state.audit_resource_type, request.state.audit_resource_id = "run", str(run_id)
        with db.transaction() as session:
            run = run_service.retry_run(
                session, run_id, principal_of(request), settings=settings, audit_as=audit_context(request)
            )
            return runs_out(session, [run])[0]
