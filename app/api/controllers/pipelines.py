"""/api/v1/pipelines: create, list and read pipelines."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from app.api import idempotent
from app.api.controllers.pipeline_versions import PipelineChange, Ref
from app.api.idempotent import IdempotencyKey
from app.api.openapi import YAML_BODY
from app.api.schemas import (
    NameSearch,
    Page,
    PageCursor,
    PageLimit,
    PipelineIn,
    PipelineOut,
    PipelineSummary,
    page,
    page_cursor,
)
from app.api.security import audit_context, principal_of
from app.api.yaml_body import YamlBodyMiddleware
from app.db.database import Database
from app.db.models import Pipeline, PipelineVersion
from app.domain import pipeline_versions as version_service
from app.domain import pipelines as pipeline_service
from app.domain.pagination import check_limit
from app.domain.permissions import Permission
from app.settings import Settings


class PipelineController(Controller):
    path = "/api/v1/pipelines"
    tags = ["pipelines"]

    @post(
        "/",
        operation_id="createPipeline",
        opt={
            "permission": Permission.PIPELINES_WRITE,
            "action": "pipelines.create",
            "errors": (409,),
            "accepts": YAML_BODY,
        },
        sync_to_thread=True,
        status_code=201,
        middleware=[YamlBodyMiddleware()],
        summary="Create a pipeline (version 1): JSON, or a YAML document with Content-Type application/yaml",
    )
    def create(
        self,
        request: Request,
        data: JSONBody[PipelineIn],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PipelineOut]:
        def create() -> uuid.UUID:
            pipeline, _ = pipeline_service.create_pipeline(
                session,
                namespace=data.namespace,
                name=data.name,
                description=data.description,
                spec=data.spec,
                principal=principal_of(request),
                audit_as=audit_context(request),
            )
            return pipeline.id

        with db.transaction() as session:
            pipeline_id, replayed = idempotent.create_one(
                session, request, settings, key=idempotency_key, body=data, create=create
            )
            pipeline = session.get_one(Pipeline, pipeline_id)
            version = session.get_one(PipelineVersion, (pipeline_id, 1))
            out = PipelineOut.of(pipeline, version)
        return Response(out, status_code=201, headers=idempotent.headers(replayed, f"/api/v1/pipelines/{pipeline_id}"))

    @get(
        "/",
        operation_id="listPipelines",
        opt={"permission": Permission.PIPELINES_READ},
        sync_to_thread=True,
        summary="List pipelines the caller may see, newest first (without their specs: read one for its spec)",
    )
    def list_pipelines(
        self,
        request: Request,
        db: NamedDependency[Database],
        namespace: FromQuery[str | None] = None,
        name_prefix: Annotated[
            str | None, QueryParameter(description="Start of the name, exactly as written (see `search`)")
        ] = None,
        search: NameSearch = None,
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[PipelineSummary]:
        with db.read() as session:
            rows = pipeline_service.list_pipelines(
                session,
                principal_of(request),
                namespace=namespace,
                name_prefix=name_prefix,
                search=search,
                limit=check_limit(limit),
                cursor=page_cursor(request, cursor),
            )
        return page(
            request, rows, limit, position=lambda r: (r[0].created_at, r[0].id), item=lambda r: PipelineSummary.of(*r)
        )

    @get(
        "/{pipeline_ref:str}",
        operation_id="getPipeline",
        opt={"permission": Permission.PIPELINES_READ},
        sync_to_thread=True,
        summary="Read a pipeline by id or name",
    )
    def read(
        self,
        request: Request,
        pipeline_ref: FromPath[str],
        db: NamedDependency[Database],
        namespace: FromQuery[str] = "default",
    ) -> PipelineOut:
        with db.read() as session:
            pipeline = pipeline_service.pipeline_for(
                session, pipeline_ref, namespace, principal_of(request), Permission.PIPELINES_READ
            )
            version = pipeline_service.get_version(session, pipeline.id, pipeline.latest_version)
        return PipelineOut.of(pipeline, version)

    @put(
        "/{pipeline_ref:str}",
        operation_id="updatePipeline",
        opt={
            "permission": Permission.PIPELINES_WRITE,
            "action": "pipelines.update",
            "accepts": YAML_BODY,
        },
        sync_to_thread=True,
        middleware=[YamlBodyMiddleware()],
        summary="Change a pipeline: the spec becomes a new immutable version (JSON or application/yaml)",
    )
    def change(
        self,
        request: Request,
        pipeline_ref: Ref,
        data: JSONBody[PipelineChange],
        db: NamedDependency[Database],
        namespace: FromQuery[str] = "default",
    ) -> PipelineOut:
        principal = principal_of(request)
        with db.transaction() as session:
            pipeline = pipeline_service.pipeline_for(
                session, pipeline_ref, namespace, principal, Permission.PIPELINES_WRITE
            )
            version = version_service.new_version(
                session, pipeline, data.spec, principal=principal, message=data.message, audit_as=audit_context(request)
            )
            if data.description is not None:
                pipeline.description = data.description
            return PipelineOut.of(pipeline, version)
