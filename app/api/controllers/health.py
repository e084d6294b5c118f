"""Liveness and readiness probes."""

from __future__ import annotations

import anyio
from litestar import Request, Response, get
from litestar.di import NamedDependency
from sqlalchemy import text

from app.api.errors import problem
from app.api.live_logs import LiveLogs
from app.api.openapi import per_path, problem_response
from app.api.schemas import Health
from app.core.errors import DomainError
from app.db.database import Database
from app.domain import files as data_files
from app.domain.permissions import Permission
from app.settings import Settings


@get(
    ["/healthz", "/api/v1/healthz"],
    operation_id=per_path({"/healthz": "getLiveness", "/api/v1/healthz": "getApiLiveness"}),
    opt={"permission": Permission.PUBLIC},
    summary="Liveness: the process answers",
    tags=["health"],
)
async def healthz() -> Health:
    return Health(status="ok")


def _checks(db: Database, live_logs: LiveLogs, settings: Settings) -> dict[str, str]:
    from app.db.migrate import current_revision, head_revision  # alembic is slow to import: only when asked

    checks: dict[str, str] = {}
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        current, head = current_revision(db.engine), head_revision()
        checks["migrations"] = "ok" if current == head else f"at {current}, code expects {head}"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        live_logs.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"unreachable: {type(exc).__name__}"
    try:
        data_files.store(settings).check()
        checks["storage"] = "ok"
    except DomainError as exc:
        checks["storage"] = f"{exc.code}: {exc.detail}"[:300]
    return checks


@get(
    ["/readyz", "/api/v1/readyz"],
    operation_id=per_path({"/readyz": "getReadiness", "/api/v1/readyz": "getApiReadiness"}),
    opt={"permission": Permission.PUBLIC},
    responses={503: problem_response(503, code="not_ready", description="Not ready: the detail names what is not")},
    tags=["health"],
    summary="Readiness: database reachable, migrations at head, Redis and the data store reachable",
)
async def readyz(
    request: Request,
    db: NamedDependency[Database],
    live_logs: NamedDependency[LiveLogs],
    settings: NamedDependency[Settings],
) -> Response[Health]:
    checks = await anyio.to_thread.run_sync(_checks, db, live_logs, settings)
    if all(v == "ok" for v in checks.values()):
        return Response(Health(status="ready", checks=checks))
    failing = ", ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok")
    return problem(request, status=503, code="not_ready", detail=f"not ready ({failing})")  # type: ignore[return-value]
