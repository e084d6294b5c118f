"""Pipelines: create, list, look up. Each pipeline's spec is kept as immutable versions."""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import and_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.ids import uuid7
from app.db.models import Pipeline, PipelineVersion
from app.db.queries import query
from app.domain import audit
from app.domain.name_search import holds, literal_pattern
from app.domain.namespaces import namespace_id, visible_namespaces
from app.domain.pagination import Position, decode_cursor
from app.domain.permissions import Permission, Principal
from app.pipeline.spec import PipelineSpec, parse_spec

#: Largest spec a pipeline version stores, as JSON: the MiB a YAML body may hold (app/api/yaml_body.py). Every read
#: of the pipeline and GET …/versions echo it: four 9 MB JSON versions made one versions answer 36 MB.
MAX_SPEC_BYTES = 1024 * 1024


def checked_spec(spec: dict[str, Any]) -> PipelineSpec:
    """parse_spec, once the spec is within MAX_SPEC_BYTES as JSON (else 422 `spec_too_large`, field `spec`)."""
    size = len(msgspec.json.encode(spec))
    if size > MAX_SPEC_BYTES:
        message = f"the spec takes {size} bytes as JSON; at most {MAX_SPEC_BYTES} are accepted"
        raise InvalidInput(message, code="spec_too_large", errors=[{"field": "spec", "message": message}])
    return parse_spec(spec)


def create_pipeline(
    session: Session,
    *,
    namespace: str,
    name: str,
    description: str,
    spec: dict[str, Any],
    principal: Principal | None = None,
    audit_as: audit.AuditContext | None = None,
) -> tuple[Pipeline, PipelineVersion]:
    """A new pipeline at version 1; the name is unique in its namespace.

    With `audit_as` (the API, the CLI) the creation is audited in the same transaction.
    """
    parsed = checked_spec(spec)
    target = namespace_id(session, namespace)
    if principal is not None:
        principal.require(Permission.PIPELINES_WRITE, target, resource="namespace")
    pipeline = Pipeline(
        id=uuid7(),
        namespace_id=target,
        name=name,
        description=description,
        latest_version=1,
    )
    version = PipelineVersion(pipeline_id=pipeline.id, version=1, spec=msgspec.to_builtins(parsed))
    session.add(pipeline)
    try:
        session.flush()
        session.add(version)
        session.flush()
    except IntegrityError:
        raise Conflict(
            f"a pipeline named {name!r} already exists in namespace {namespace!r}",
            code="pipeline_name_taken",
        ) from None
    session.refresh(pipeline)
    session.refresh(version)
    if audit_as is not None:
        audit.record(
            session,
            audit_as,
            action="pipelines.create",
            resource_type="pipeline",
            resource_id=pipeline.id,
            namespace_id=pipeline.namespace_id,
            details={"after": {"name": pipeline.name, "version": version.version}},
        )
    return pipeline, version


def resolve_pipeline(session: Session, reference: str, *, namespace: str) -> Pipeline:
    """A pipeline by id, or by name within `namespace` (how a reference resolves: `resolve_submit_target`)."""
    pipeline = session.get(Pipeline, resolve_submit_target(session, reference, namespace=namespace).id)
    if pipeline is None:  # deleted between the two statements
        raise NotFound(f"pipeline {reference!r} does not exist", code="pipeline_not_found")
    return pipeline


class SubmitTarget(NamedTuple):
    """What a submit needs of the pipeline it names."""

    id: uuid.UUID
    namespace_id: uuid.UUID
    latest_version: int


def resolve_submit_target(session: Session, reference: str, *, namespace: str) -> SubmitTarget:
    """The pipeline `reference` names: by id, or by name within `namespace`; an archived one does not exist.

    One plain statement: a submit needs no more, and the ORM loads cost it a millisecond.
    """
    try:
        row = session.execute(query("submit_target_by_id"), {"pipeline_id": uuid.UUID(reference)}).first()
    except ValueError:
        row = session.execute(query("submit_target_by_name"), {"name": reference, "namespace": namespace}).first()
        if row is None:
            raise NotFound(f"namespace {namespace!r} does not exist", code="namespace_not_found") from None
    if row is None or row.id is None or row.archived:
        raise NotFound(f"pipeline {reference!r} does not exist", code="pipeline_not_found")
    return SubmitTarget(row.id, row.namespace_id, row.latest_version)


def pipeline_for(
    session: Session, reference: str, namespace: str, principal: Principal, permission: Permission
) -> Pipeline:
    """A pipeline the caller holds `permission` on: 404 when it cannot see the namespace, else 403."""
    pipeline = resolve_pipeline(session, reference, namespace=namespace)
    principal.require(permission, pipeline.namespace_id, resource="pipeline", name=reference)
    return pipeline


def get_version(session: Session, pipeline_id: uuid.UUID, version: int) -> PipelineVersion:
    found = session.get(PipelineVersion, (pipeline_id, version))
    if found is None:
        raise NotFound(f"pipeline version {version} does not exist", code="pipeline_version_not_found")
    return found


def list_pipelines(
    session: Session,
    principal: Principal,
    *,
    namespace: str | None,
    name_prefix: str | None = None,
    search: str | None = None,
    limit: int,
    cursor: str | None,
) -> list[tuple[Pipeline, PipelineVersion]]:
    """Pipelines the caller may read (whose name starts with `name_prefix`, exactly, and holds `search`, in any case,
    when given), newest first, with their latest version; `limit + 1` rows to tell if more exist."""
    query = (
        select(Pipeline, PipelineVersion)
        .join(
            PipelineVersion,
            and_(PipelineVersion.pipeline_id == Pipeline.id, PipelineVersion.version == Pipeline.latest_version),
        )
        .where(Pipeline.archived_at.is_(None))
        .order_by(Pipeline.created_at.desc(), Pipeline.id.desc())
        .limit(limit + 1)
    )
    visible = visible_namespaces(session, principal, Permission.PIPELINES_READ, namespace)
    if visible is not None:
        query = query.where(Pipeline.namespace_id.in_(visible))
    if name_prefix:
        query = query.where(Pipeline.name.like(literal_pattern(name_prefix) + "%", escape="\\"))
    if search:
        query = query.where(holds(search, Pipeline.name))
    if cursor:
        position: Position = decode_cursor(cursor)
        query = query.where(tuple_(Pipeline.created_at, Pipeline.id) < tuple_(position.at, position.id))
    return [(row[0], row[1]) for row in session.execute(query).all()]
