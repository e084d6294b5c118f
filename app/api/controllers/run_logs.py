"""/api/v1/runs/{id}/logs: persisted lines by page, and the live stream as Server-Sent Events."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

import anyio
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent

from app.api.live_logs import LiveLogs
from app.api.schemas import LogLineOut, LogPage
from app.api.security import principal_of
from app.core.errors import InvalidParameter
from app.db.database import Database
from app.domain import runs as run_service
from app.domain.permissions import Permission
from app.domain.runlogs import read_lines
from app.settings import Settings

READ = {"permission": Permission.RUNS_READ}
#: A line number as the stream sends it: ASCII digits, no more than a BIGINT holds. (str.isdigit also takes
#: "²" and int() refuses past 4300 digits: both were 500s.)
_LINE_NUMBER = re.compile(r"0*[0-9]{1,19}")
_MAX_LINE = 2**63 - 1


def line_number(last_event_id: str) -> int:
    """The line a reconnecting client saw last; InvalidParameter (400) unless it is one the stream could send."""
    if not _LINE_NUMBER.fullmatch(last_event_id) or int(last_event_id) > _MAX_LINE:
        raise InvalidParameter(
            "Last-Event-ID must be a line number",
            code="invalid_last_event_id",
            errors=[{"field": "Last-Event-ID", "message": "not a line number"}],
        )
    return int(last_event_id)


class RunLogController(Controller):
    path = "/api/v1/runs/{run_id:uuid}/logs"
    tags = ["runs"]

    @get(
        "/",
        operation_id="listRunLogLines",
        opt=READ,
        sync_to_thread=True,
        summary="A run's persisted log lines, paginated by line number",
    )
    def lines(
        self,
        request: Request,
        run_id: FromPath[uuid.UUID],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        after: Annotated[int, QueryParameter(ge=0, description="Return lines numbered above this")] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=5000)] = 1000,
    ) -> LogPage:
        with db.read() as session:
            status = run_service.get_run(session, run_id, principal_of(request)).status
            items = [
                LogLineOut.of(x)
                for x in read_lines(
                    session.connection(), run_id, after=after, limit=limit, legacy_root=settings.data_path
                )
            ]
        return LogPage(items=items, next_after=items[-1].n if items else after, run_status=status)

    @get(
        "/stream",
        operation_id="streamRunLog",
        opt={**READ, "produces": ("text/event-stream",)},
        summary="Follow a run's log live (Server-Sent Events)",
        description="`log` events carry one line each, with the line number as event id; reconnect with "
        "`Last-Event-ID` to resume. The stream ends with one `end` event carrying the final status.",
    )
    async def stream(
        self,
        request: Request,
        run_id: FromPath[uuid.UUID],
        db: NamedDependency[Database],
        live_logs: NamedDependency[LiveLogs],
        last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID", required=False)] = None,
    ) -> ServerSentEvent:
        after = line_number(last_event_id) if last_event_id else 0
        principal = principal_of(request)

        def status_of(rid: uuid.UUID) -> str:
            with db.read() as session:
                return run_service.get_run(session, rid, principal).status

        await anyio.to_thread.run_sync(status_of, run_id)  # 404 before the stream starts
        return ServerSentEvent(
            live_logs.slots.follow(principal.user_id, live_logs.follow(run_id, after=after, status_of=status_of)),
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
