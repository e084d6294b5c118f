"""/api/v1/runs: submit, batch-submit, list, read, events, cancel, retry."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from sqlalchemy.orm import Session

from app.api.database import Database
from app.api.live_logs import LiveLogs
from app.api.schemas import Page, RunBatchIn, RunBatchOut, RunEventOut, RunOut
from app.db.models import Run
from app.domain import idempotency
from app.domain import runs as run_service
from app.domain.errors import InvalidInput
from app.domain.pagination import check_limit, encode_cursor
from app.domain.runs import RunFilters, RunRequest
from app.domain.states import RunKind, RunStatus, RunTrigger
from app.settings import Settings

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        max_length=255,
        description="Repeat the request with the same key and body to get the same result, never a duplicate.",
    ),
]
RunId = FromPath[uuid.UUID]
#: The API's identity in run events until accounts exist.
API_ACTOR = "api"


def _created(
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
    *,
    scope: str,
    key: str | None,
    body: object,
    create: Callable[[Session], list[uuid.UUID]],
) -> tuple[list[Run], bool]:
    """Run `create` once per Idempotency-Key; returns the runs and whether this was a replay."""
    with db.transaction() as session:
        if key:
            earlier = idempotency.claim(
                session,
                scope=scope,
                key=key,
                body_hash=idempotency.request_hash(body),
                ttl_hours=settings.idempotency_ttl_hours,
            )
            if earlier is not None:
                return run_service.get_runs(session, [uuid.UUID(i) for i in earlier]), True
        ids = create(session)
        if key:
            idempotency.record(session, scope=scope, key=key, ids=[str(i) for i in ids])
        return run_service.get_runs(session, ids), False


class RunController(Controller):
    path = "/api/v1/runs"
    tags = ["runs"]

    @post("/", sync_to_thread=True, status_code=201, summary="Submit a run")
    def submit(
        self,
        data: JSONBody[RunRequest],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RunOut]:
        runs, replayed = _created(
            db,
            settings,
            scope="POST /api/v1/runs",
            key=idempotency_key,
            body=data,
            create=lambda s: run_service.submit_runs(
                s, [data], trigger=RunTrigger.API, actor=API_ACTOR, settings=settings
            ),
        )
        headers = {"Location": f"/api/v1/runs/{runs[0].id}"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(RunOut.of(runs[0]), status_code=201, headers=headers)

    @post("/batch", sync_to_thread=True, status_code=201, summary="Submit up to CONVEYOR_MAX_BATCH_RUNS runs at once")
    def submit_batch(
        self,
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
        runs, replayed = _created(
            db,
            settings,
            scope="POST /api/v1/runs/batch",
            key=idempotency_key,
            body=data,
            create=lambda s: run_service.submit_runs(
                s, data.runs, trigger=RunTrigger.BATCH, actor=API_ACTOR, settings=settings
            ),
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(RunBatchOut([RunOut.of(r) for r in runs]), status_code=201, headers=headers)

    @get("/", sync_to_thread=True, summary="List runs, newest first")
    def list_runs(
        self,
        db: NamedDependency[Database],
        status: Annotated[list[RunStatus] | None, QueryParameter(description="One or more statuses")] = None,
        kind: FromQuery[RunKind | None] = None,
        pipeline: Annotated[str | None, QueryParameter(description="Pipeline id or name")] = None,
        deployment_id: FromQuery[uuid.UUID | None] = None,
        trigger: FromQuery[RunTrigger | None] = None,
        created_after: Annotated[datetime | None, QueryParameter(description="Inclusive, ISO 8601")] = None,
        created_before: Annotated[datetime | None, QueryParameter(description="Exclusive, ISO 8601")] = None,
        namespace: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> Page[RunOut]:
        filters = RunFilters(
            namespace=namespace,
            status=status,
            kind=kind,
            pipeline=pipeline,
            deployment_id=deployment_id,
            trigger=trigger,
            created_after=created_after,
            created_before=created_before,
        )
        with db.read() as session:
            rows = run_service.list_runs(session, filters, limit=check_limit(limit), cursor=cursor)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
        return Page(items=[RunOut.of(r) for r in rows], next_cursor=next_cursor)

    @get("/{run_id:uuid}", sync_to_thread=True, summary="Read a run")
    def read(self, run_id: RunId, db: NamedDependency[Database]) -> RunOut:
        with db.read() as session:
            return RunOut.of(run_service.get_run(session, run_id))

    @get("/{run_id:uuid}/events", sync_to_thread=True, summary="A run's state transitions, oldest first")
    def events(self, run_id: RunId, db: NamedDependency[Database]) -> list[RunEventOut]:
        with db.read() as session:
            return [RunEventOut.of(e) for e in run_service.list_events(session, run_id)]

    @post(
        "/{run_id:uuid}/cancel",
        sync_to_thread=True,
        summary="Cancel a run",
        description="A run not yet started is CANCELLED at once (200); a running one is asked to stop (202) "
        "and reaches CANCELLED within seconds.",
    )
    def cancel(
        self, run_id: RunId, db: NamedDependency[Database], live_logs: NamedDependency[LiveLogs]
    ) -> Response[RunOut]:
        with db.transaction() as session:
            run = run_service.cancel_run(session, run_id, actor=API_ACTOR)
        if run.status == RunStatus.CANCELLED:
            live_logs.end(run.id, run.status)
            return Response(RunOut.of(run), status_code=200)
        return Response(RunOut.of(run), status_code=202)

    @post(
        "/{run_id:uuid}/retry",
        sync_to_thread=True,
        status_code=202,
        summary="Run a failed, cancelled or timed-out run again, as a new attempt",
    )
    def retry(self, run_id: RunId, db: NamedDependency[Database], settings: NamedDependency[Settings]) -> RunOut:
        with db.transaction() as session:
            return RunOut.of(run_service.retry_run(session, run_id, actor=API_ACTOR, settings=settings))
