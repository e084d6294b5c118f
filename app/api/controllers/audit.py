"""/api/v1/audit: query and export the audit log (read only: entries cannot be changed or deleted)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Literal

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream

from app.api.account_schemas import AuditEntryOut
from app.api.dataset_schemas import CSV_BOM, CSV_CELLS
from app.api.downloads import UTF8_BOM
from app.api.schemas import Page, PageCursor, page, page_cursor
from app.api.security import principal_of
from app.db.database import Database
from app.domain import audit
from app.domain.permissions import Permission

READ = {"permission": Permission.AUDIT_READ}


def _filters(
    user_id: uuid.UUID | None,
    action: str | None,
    resource_type: str | None,
    resource_id: str | None,
    namespace_id: uuid.UUID | None,
    outcome: str | None,
    since: datetime | None,
    until: datetime | None,
) -> audit.AuditFilters:
    return audit.AuditFilters(
        user_id=user_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        namespace_id=namespace_id,
        outcome=outcome,
        since=since,
        until=until,
    )


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit"]

    @get("/", operation_id="listAuditEntries", opt=READ, sync_to_thread=True, summary="Audit entries, newest first")
    def list_entries(
        self,
        request: Request,
        db: NamedDependency[Database],
        user_id: FromQuery[uuid.UUID | None] = None,
        action: FromQuery[str | None] = None,
        resource_type: FromQuery[str | None] = None,
        resource_id: FromQuery[str | None] = None,
        namespace_id: FromQuery[uuid.UUID | None] = None,
        outcome: FromQuery[Literal["success", "failure", "denied"] | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
        cursor: PageCursor = None,
    ) -> Page[AuditEntryOut]:
        filters = _filters(user_id, action, resource_type, resource_id, namespace_id, outcome, since, until)
        with db.read() as session:
            rows = audit.list_entries(
                session, principal_of(request), filters, limit=limit, cursor=page_cursor(request, cursor)
            )
        return page(request, rows, limit, position=lambda e: (e.at, uuid.UUID(int=e.id)), item=AuditEntryOut.of)

    @get(
        "/export",
        operation_id="exportAuditEntries",
        opt={**READ, "produces": ("text/csv", "application/x-ndjson")},
        summary="Export matching entries as CSV or NDJSON, streamed",
    )
    async def export(
        self,
        request: Request,
        db: NamedDependency[Database],
        format: Annotated[Literal["csv", "ndjson"], QueryParameter(description=CSV_CELLS)] = "ndjson",
        user_id: FromQuery[uuid.UUID | None] = None,
        action: FromQuery[str | None] = None,
        resource_type: FromQuery[str | None] = None,
        resource_id: FromQuery[str | None] = None,
        namespace_id: FromQuery[uuid.UUID | None] = None,
        outcome: FromQuery[Literal["success", "failure", "denied"] | None] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Annotated[int | None, QueryParameter(ge=1, le=1_000_000)] = None,
        bom: Annotated[bool, QueryParameter(description=CSV_BOM)] = False,
    ) -> Stream:
        filters = _filters(user_id, action, resource_type, resource_id, namespace_id, outcome, since, until)
        principal = principal_of(request)

        def rows() -> Iterator[bytes]:
            if bom and format == "csv":
                yield UTF8_BOM
            with db.transaction() as session:  # a server-side cursor lives in a transaction
                yield from audit.export(session, principal, filters, fmt=format, limit=limit)

        media = "text/csv" if format == "csv" else "application/x-ndjson"
        return Stream(
            rows(), media_type=media, headers={"Content-Disposition": f'attachment; filename="audit.{format}"'}
        )
