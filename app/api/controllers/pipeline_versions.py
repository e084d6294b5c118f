"""/api/v1/pipelines/{ref}: change (a new version), versions, diff, archive; run now with params and inputs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter

from app.api import idempotent
from app.api.idempotent import IdempotencyKey
from app.api.openapi import YAML_BODY
from app.api.schemas import Page, PageCursor, PageLimit, PipelineOut, RunOut, page, page_cursor, runs_out
from app.api.security import audit_context, principal_of
from app.api.yaml_body import YamlBodyMiddleware
from app.core import display_text
from app.core.errors import InvalidInput
from app.core.ids import MAX_VERSION
from app.db.database import Database
from app.db.datasets import DatasetVersion
from app.db.models import Run
from app.domain import files as data_files
from app.domain import pipeline_io as run_service
from app.domain import pipeline_versions as service
from app.domain import pipelines as pipeline_service
from app.domain.namespaces import namespace_id
from app.domain.pagination import check_limit
from app.domain.permissions import Permission
from app.domain.run_params import check_params
from app.ingest.bounded import bounded, request_limits
from app.paths import DATA_FILE
from app.pipeline import FieldError, ValidationReport, parquet_schema
from app.pipeline.isolated import validate_in_child
from app.pipeline.spec import parse_spec, pipeline_json_schema
from app.settings import Settings

Ref = FromPath[str]


def _with_codes(exc: InvalidInput) -> list[dict[str, str]]:
    return [
        {"field": e.get("field", "spec"), "message": e.get("message", ""), "code": e.get("code", exc.code)}
        for e in exc.errors
    ]


class PipelineChange(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    """A new version of the spec (and, optionally, a new description and a note on what changed)."""

    spec: dict[str, Any]
    description: display_text.multi_line(10_000) | None = None  # type: ignore[valid-type]
    message: display_text.multi_line(2000) = ""  # type: ignore[valid-type]


class PipelineVersionSummary(msgspec.Struct):
    """A version as the list shows it: its spec (up to 1 MiB) is read one version at a time."""

    version: int
    message: str
    created_at: datetime
    created_by: uuid.UUID | None


class PipelineVersionOut(msgspec.Struct):
    version: int
    spec: dict[str, Any]
    message: str
    created_at: datetime
    created_by: uuid.UUID | None


class DiffOut(msgspec.Struct):
    from_version: int
    to_version: int
    changes: list[dict[str, Any]]
    unified: str


class DraftIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A spec to check without saving or running it; inputs may be chosen as for a run."""

    spec: dict[str, Any]
    namespace: str = "default"
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    inputs: dict[str, str | run_service.InputChoice] = msgspec.field(default_factory=dict)


class PipelineVersionController(Controller):
    path = "/api/v1/pipelines"
    tags = ["pipelines"]

    @get(
        "/schema",
        operation_id="getPipelineSpecSchema",
        opt={"permission": Permission.PIPELINES_READ},
        summary="The JSON Schema of the pipeline language (built-in and plugin steps), for an editor",
    )
    async def schema(self) -> dict[str, Any]:
        return pipeline_json_schema()

    @post(
        "/validate",
        operation_id="validatePipeline",
        opt={"permission": Permission.PIPELINES_READ, "accepts": YAML_BODY},
        sync_to_thread=True,
        status_code=200,
        middleware=[YamlBodyMiddleware()],
        summary="Check a draft: inputs readable, steps well-formed, SQL parses and binds; the output schema",
    )
    def validate(
        self,
        request: Request,
        data: JSONBody[DraftIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> ValidationReport:
        principal = principal_of(request)
        try:
            spec = parse_spec(data.spec)
        except InvalidInput as exc:
            return ValidationReport(
                valid=False, errors=[FieldError(**e) for e in _with_codes(exc)], output_columns=None
            )
        with db.read() as session:
            ns = namespace_id(session, data.namespace)
            try:
                pinned = run_service.resolve_inputs(
                    session, msgspec.to_builtins(spec), data.inputs, namespace_id=ns, principal=principal
                )
            except InvalidInput as exc:
                return ValidationReport(
                    valid=False, errors=[FieldError(**e) for e in _with_codes(exc)], output_columns=None
                )
            versions = {
                name: session.get_one(DatasetVersion, (uuid.UUID(p["dataset_id"]), p["version"]))
                for name, p in pinned.items()
            }
        limits = request_limits(settings)
        with bounded(limits):
            schemas = {
                name: parquet_schema(
                    str(data_files.version_file(settings, v.dataset_id, v.run_id, DATA_FILE, attempt=v.attempt)), limits
                )
                for name, v in versions.items()
            }
        # Binding runs no query, but DuckDB folds constants while binding, which no interrupt stops: a child
        # process with a memory cap, killed at the time limit, does it.
        return validate_in_child(spec, input_schemas=schemas, params=data.params, settings=settings)

    @get(
        "/{pipeline_ref:str}/versions",
        operation_id="listPipelineVersions",
        opt={"permission": Permission.PIPELINES_READ},
        sync_to_thread=True,
        summary="A pipeline's versions, newest first, paged (no spec: read one version for it)",
    )
    def versions(
        self,
        request: Request,
        pipeline_ref: Ref,
        db: NamedDependency[Database],
        namespace: FromQuery[str] = "default",
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[PipelineVersionSummary]:
        with db.read() as session:
            pipeline = pipeline_service.pipeline_for(
                session, pipeline_ref, namespace, principal_of(request), Permission.PIPELINES_READ
            )
            rows = service.list_versions(
                session, pipeline.id, limit=check_limit(limit), cursor=page_cursor(request, cursor)
            )
        return page(
            request,
            rows,
            limit,
            position=lambda v: v.version,
            item=lambda v: PipelineVersionSummary(v.version, v.message, v.created_at, v.created_by),
        )

    @get(
        "/{pipeline_ref:str}/versions/{version:int}",
        operation_id="getPipelineVersion",
        opt={"permission": Permission.PIPELINES_READ},
        sync_to_thread=True,
        summary="One version of a pipeline, with its spec",
    )
    def version(
        self,
        request: Request,
        pipeline_ref: Ref,
        version: Annotated[int, PathParameter(ge=1, le=MAX_VERSION)],
        db: NamedDependency[Database],
        namespace: FromQuery[str] = "default",
    ) -> PipelineVersionOut:
        with db.read() as session:
            pipeline = pipeline_service.pipeline_for(
                session, pipeline_ref, namespace, principal_of(request), Permission.PIPELINES_READ
            )
            v = pipeline_service.get_version(session, pipeline.id, version)
            return PipelineVersionOut(v.version, v.spec, v.message, v.created_at, v.created_by)

    @get(
        "/{pipeline_ref:str}/diff",
        operation_id="diffPipelineVersions",
        opt={"permission": Permission.PIPELINES_READ},
        sync_to_thread=True,
        summary="What changed between two versions (default: the one before the latest, and the latest)",
    )
    def diff(
        self,
        request: Request,
        pipeline_ref: Ref,
        db: NamedDependency[Database],
        from_: Annotated[int | None, QueryParameter(name="from", ge=1, le=MAX_VERSION)] = None,
        to: Annotated[int | None, QueryParameter(ge=1, le=MAX_VERSION)] = None,
        namespace: FromQuery[str] = "default",
    ) -> DiffOut:
        with db.read() as session:
            pipeline = pipeline_service.pipeline_for(
                session, pipeline_ref, namespace, principal_of(request), Permission.PIPELINES_READ
            )
            newer = to or pipeline.latest_version
            older = from_ or max(1, newer - 1)
            before = pipeline_service.get_version(session, pipeline.id, older).spec
            after = pipeline_service.get_version(session, pipeline.id, newer).spec
        return DiffOut(
            older,
            newer,
            service.changes(before, after),
            service.unified(before, after, names=(f"v{older}", f"v{newer}")),
        )

    @post(
        "/{pipeline_ref:str}/archive",
        operation_id="archivePipeline",
        opt={"permission": Permission.PIPELINES_WRITE, "action": "pipelines.archive", "errors": (409,)},
        sync_to_thread=True,
        status_code=200,
        summary="Archive: hidden from lists and new runs; versions and runs stay",
    )
    def archive(
        self, request: Request, pipeline_ref: Ref, db: NamedDependency[Database], namespace: FromQuery[str] = "default"
    ) -> PipelineOut:
        principal = principal_of(request)
        with db.transaction() as session:
            pipeline = pipeline_service.pipeline_for(
                session, pipeline_ref, namespace, principal, Permission.PIPELINES_WRITE
            )
            service.archive(session, pipeline, audit_as=audit_context(request))
            version = pipeline_service.get_version(session, pipeline.id, pipeline.latest_version)
            return PipelineOut.of(pipeline, version)

    @post(
        "/{pipeline_ref:str}/runs",
        operation_id="runPipeline",
        opt={"permission": Permission.RUNS_OPERATE, "action": "pipelines.run", "errors": (409,)},
        sync_to_thread=True,
        status_code=201,
        summary="Run now, with parameters and inputs chosen from the data center (pinned on the run)",
    )
    def run(
        self,
        request: Request,
        pipeline_ref: Ref,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: JSONBody[run_service.PipelineRunIn | None] = None,
        namespace: FromQuery[str] = "default",
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RunOut]:
        principal = principal_of(request)
        body = data or run_service.PipelineRunIn()
        ctx = audit_context(request)
        with db.transaction() as session:
            pipeline = pipeline_service.pipeline_for(
                session, pipeline_ref, namespace, principal, Permission.RUNS_OPERATE
            )
            number = body.version or pipeline.latest_version

            def submit() -> uuid.UUID:
                spec = pipeline_service.get_version(session, pipeline.id, number).spec
                check_params(session, pipeline.id, number, body.params)  # the rule POST /runs applies
                return run_service.submit(
                    session, pipeline, body, spec, version=number, principal=principal, settings=settings, audit_as=ctx
                )

            run_id, replayed = idempotent.create_one(
                session,
                request,
                settings,
                key=idempotency_key,
                body=body,
                resource_id=pipeline.id,
                create=submit,
            )
            answer = runs_out(session, [session.get_one(Run, run_id)])[0]
            return Response(answer, status_code=201, headers=idempotent.headers(replayed, f"/api/v1/runs/{run_id}"))
