"""Request and response bodies of the HTTP API (msgspec Structs; the OpenAPI document comes from them)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar import Request
from litestar.params import QueryParameter
from sqlalchemy.orm import Session

from app.api.notice_schemas import RunLogNotice, log_notice
from app.core import display_text
from app.core.patterns import whole
from app.core.states import EventReason, RunKind, RunStatus, RunTrigger
from app.db.models import Pipeline, PipelineVersion, RunEvent
from app.domain.members import NAMESPACE_NAME
from app.domain.namespaces import DEFAULT_NAMESPACE
from app.domain.pagination import MAX_LIMIT, encode_cursor, encode_number_cursor, list_scope, scoped, unscoped
from app.domain.run_names import SubjectNames, subject_names
from app.domain.runlogs import LogLine
from app.domain.runs import RunRecord, RunRequest

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    """One page of a list; pass `next_cursor` as `cursor` for the next (null on the last page).

    The OpenAPI document names `Page[RunOut]` `RunOutPage` (see app.api.openapi.rename_schemas).
    """

    items: list[T]
    next_cursor: str | None


R = TypeVar("R")

#: The page size of every keyset-paged list (ARCHITECTURE.md "API conventions"): 1 to 500, 50 by default.
PageLimit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT, description="Items per page (1 to 500)")]
#: Where a page starts: the `next_cursor` of the page before (none for the first page); opaque.
PageCursor = Annotated[
    str | None,
    QueryParameter(
        description="The previous page's `next_cursor`, sent with the same filters (else 400 `invalid_cursor`)"
    ),
]

#: Longest `?search=` a list takes (a name is at most 200 characters).
MAX_SEARCH = 200


def _search(matches: str) -> Any:
    """A list's `?search=`, matched against `matches` (app/domain/name_search.py holds the rule every list uses)."""
    return QueryParameter(
        max_length=MAX_SEARCH, description=f"Part of {matches}, in any case; `%` and `_` match themselves"
    )


#: The `?search=` of pipelines, deployments, datasets and API tokens.
NameSearch = Annotated[str | None, _search("the name")]
#: The `?search=` of runs: the name of what they run.
RunSearch = Annotated[str | None, _search("the name of its pipeline, deployment or dataset")]
#: The `?search=` of resumable uploads.
FileNameSearch = Annotated[str | None, _search("the file name")]
#: The `?search=` of webhook subscriptions.
WebhookSearch = Annotated[str | None, _search("the address or description")]
#: The `?search=` of accounts.
UserSearch = Annotated[str | None, _search("the username or email")]

#: The `?namespace=` filter of a list: a malformed name is 400, one the caller cannot see 404 (as if absent).
NamespaceFilter = Annotated[
    str | None,
    QueryParameter(
        description="Only this namespace (default: every namespace the caller may see); "
        "one the caller cannot see answers 404 as if it did not exist",
        pattern=NAMESPACE_NAME,
    ),
]


#: Query parameters that do not change which rows a list holds, so a cursor stays good across them.
_PAGING = frozenset({"cursor", "limit"})


def request_scope(request: Request[Any, Any, Any]) -> str:
    """The scope of the list `request` reads: its operation, path parameters and filters (app.domain.pagination)."""
    handler = request.route_handler
    name = handler.operation_id if isinstance(handler.operation_id, str) else handler.handler_name
    filters = [(k, v) for k, v in request.query_params.multi_items() if k not in _PAGING]
    return list_scope(name, request.path_params, filters)


def page_cursor(request: Request[Any, Any, Any], cursor: str | None) -> str | None:
    """The position in the request's `cursor`, or 400 `invalid_cursor` if it was made for another list or filters."""
    return unscoped(cursor, request_scope(request))


def page(
    request: Request[Any, Any, Any],
    rows: list[R],
    limit: int,
    *,
    position: Callable[[R], tuple[datetime, uuid.UUID] | int],
    item: Callable[[R], T],
) -> Page[T]:
    """A page from `limit + 1` rows: the extra row only says that more exist, and the cursor points at the last kept
    (scoped to the request's list and filters). `position` is the row's (timestamp, id), or its number in a numbered
    list (a pipeline's versions)."""
    kept = rows[:limit]
    if len(rows) <= limit:
        return Page([item(r) for r in kept], None)
    last = position(kept[-1])
    cursor = encode_number_cursor(last) if isinstance(last, int) else encode_cursor(*last)
    return Page([item(r) for r in kept], scoped(cursor, request_scope(request)))


class ErrorDetail(msgspec.Struct):
    code: str | None
    message: str


class ProblemFieldError(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details, with a stable `code` and the request's trace id."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    trace_id: str
    errors: list[ProblemFieldError] = msgspec.field(default_factory=list)


#: Enum members by value: a dict lookup is several times cheaper than `RunStatus(value)`, which counts when a
#: batch submit answers with a thousand runs.
_STATUS = {s.value: s for s in RunStatus}
_KIND = {k.value: k for k in RunKind}
_TRIGGER = {t.value: t for t in RunTrigger}


class RunOut(msgspec.Struct):
    id: uuid.UUID
    namespace_id: uuid.UUID
    status: RunStatus
    kind: RunKind
    trigger: RunTrigger
    pipeline_id: uuid.UUID | None
    pipeline_version: int | None
    deployment_id: uuid.UUID | None
    scheduled_for: datetime | None
    params: dict[str, Any]
    priority: int
    attempt: int
    max_retries: int
    timeout_seconds: int
    created_at: datetime
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    next_retry_at: datetime | None
    cancel_requested: bool
    error: ErrorDetail | None
    progress: dict[str, Any]
    log_lines: int
    #: Seconds from the fire time to the run being queued (scheduled runs only).
    lateness_seconds: float | None = None
    #: The dataset an ingest run imports into.
    dataset_id: uuid.UUID | None = None
    #: The generated dataset a pipeline run writes.
    output_dataset_id: uuid.UUID | None = None
    #: A pipeline run's inputs, pinned when it was submitted: {name: {dataset_id, version, name}}.
    inputs: dict[str, Any] | None = None
    #: The reports of its validate steps.
    validation: list[dict[str, Any]] | None = None
    #: The user who submitted it, or for a scheduled run the user who made its deployment.
    created_by: uuid.UUID | None = None
    #: The names of its pipeline, deployment and dataset (input of an import, output of a pipeline run), read when
    #: the run is: a list names every run it holds, however many pipelines there are.
    names: RunNames | None = None

    @classmethod
    def of(cls, run: RunRecord, names: SubjectNames | None = None) -> RunOut:
        """The run as the API shows it; with `names` (subject_names of the runs answered) it carries their names."""
        error = ErrorDetail(run.error_code, run.error_message or "") if run.error_code else None
        return cls(
            id=run.id,
            namespace_id=run.namespace_id,
            status=_STATUS[run.status],
            kind=_KIND[run.kind],
            trigger=_TRIGGER[run.trigger],
            pipeline_id=run.pipeline_id,
            pipeline_version=run.pipeline_version,
            deployment_id=run.deployment_id,
            scheduled_for=run.scheduled_for,
            params=run.params,
            priority=run.priority,
            attempt=run.attempt,
            max_retries=run.max_retries,
            timeout_seconds=run.timeout_seconds,
            created_at=run.created_at,
            queued_at=run.queued_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
            next_retry_at=run.next_retry_at,
            cancel_requested=run.cancel_requested_at is not None,
            error=error,
            progress=run.progress,
            log_lines=run.log_lines,
            lateness_seconds=(run.queued_at - run.scheduled_for).total_seconds()
            if run.scheduled_for and run.queued_at
            else None,
            dataset_id=run.dataset_id if run.kind == "ingest" else None,
            output_dataset_id=run.dataset_id if run.kind == "pipeline" else None,
            inputs=run.inputs,
            validation=run.validation,
            created_by=run.created_by,
            names=RunNames.of(run, names) if names is not None else None,
        )


class RunNames(msgspec.Struct):
    """What a run works on, by name (None when it has no such thing, or it was deleted)."""

    pipeline: str | None
    deployment: str | None
    dataset: str | None

    @classmethod
    def of(cls, run: RunRecord, names: SubjectNames) -> RunNames:
        return cls(
            pipeline=names.pipelines.get(run.pipeline_id) if run.pipeline_id else None,
            deployment=names.deployments.get(run.deployment_id) if run.deployment_id else None,
            dataset=names.datasets.get(run.dataset_id) if run.dataset_id else None,
        )


def runs_out(session: Session, runs: Sequence[RunRecord]) -> list[RunOut]:
    """The runs as the API shows them, each with its names (read for these runs only)."""
    names = subject_names(session, runs)
    return [RunOut.of(run, names) for run in runs]


class RunEventOut(msgspec.Struct):
    id: int
    from_status: RunStatus | None
    to_status: RunStatus
    reason: EventReason
    actor: str
    attempt: int
    details: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, event: RunEvent) -> RunEventOut:
        return cls(
            id=event.id,
            from_status=RunStatus(event.from_status) if event.from_status else None,
            to_status=RunStatus(event.to_status),
            reason=event.reason,  # type: ignore[arg-type]  # a reason from a newer writer is sent as it is
            actor=event.actor,
            attempt=event.attempt,
            details=event.details,
            created_at=event.created_at,
        )


class RunBatchIn(msgspec.Struct, forbid_unknown_fields=True):
    runs: Annotated[list[RunRequest], msgspec.Meta(min_length=1)]


class RunBatchOut(msgspec.Struct):
    runs: list[RunOut]


class LogLineOut(msgspec.Struct):
    n: int
    ts: datetime
    level: str
    message: str
    attempt: int
    step: int | None
    #: A line Conveyor writes itself, as a code with typed parameters (its English is `message`); None for a
    #: pipeline's own lines.
    notice: RunLogNotice | None = None

    @classmethod
    def of(cls, line: LogLine) -> LogLineOut:
        return cls(line.n, line.ts, line.level, line.message, line.attempt, line.step, log_notice(line.notice))


class LogPage(msgspec.Struct):
    """Lines numbered above `after`; ask again with `after=next_after` for more."""

    items: list[LogLineOut]
    next_after: int
    run_status: RunStatus


class PipelineIn(display_text.Normalised, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=whole(r"[A-Za-z0-9][A-Za-z0-9_.\-]*"))]
    spec: dict[str, Any]
    description: display_text.multi_line(10_000) = ""  # type: ignore[valid-type]
    namespace: str = DEFAULT_NAMESPACE


class PipelineOut(msgspec.Struct):
    id: uuid.UUID
    namespace_id: uuid.UUID
    name: str
    description: str
    version: int
    spec: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, pipeline: Pipeline, version: PipelineVersion) -> PipelineOut:
        return cls(**_pipeline_fields(pipeline, version), spec=version.spec)


class PipelineSummary(msgspec.Struct):
    """A pipeline as a list shows it: without its spec (GET /pipelines/{ref} has it), so a page stays small
    whatever the specs weigh (10 pipelines of 9 MB specs made one 90 MB page); `steps` counts its steps."""

    id: uuid.UUID
    namespace_id: uuid.UUID
    name: str
    description: str
    version: int
    steps: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, pipeline: Pipeline, version: PipelineVersion) -> PipelineSummary:
        steps = version.spec.get("steps")
        return cls(**_pipeline_fields(pipeline, version), steps=len(steps) if isinstance(steps, list) else 0)


def _pipeline_fields(pipeline: Pipeline, version: PipelineVersion) -> dict[str, Any]:
    """What a pipeline's full and list forms share."""
    return {
        "id": pipeline.id,
        "namespace_id": pipeline.namespace_id,
        "name": pipeline.name,
        "description": pipeline.description,
        "version": version.version,
        "created_at": pipeline.created_at,
        "updated_at": pipeline.updated_at,
    }


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = msgspec.field(default_factory=dict)
