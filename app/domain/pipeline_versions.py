"""Pipeline versions: each change is a new immutable version; list, compare and archive."""

from __future__ import annotations

import difflib
import json
import uuid
from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.db.models import Pipeline, PipelineVersion
from app.domain import audit, deployment_actions
from app.domain.pagination import numbered_page
from app.domain.permissions import Permission, Principal
from app.domain.pipelines import checked_spec


def new_version(
    session: Session,
    pipeline: Pipeline,
    spec: dict[str, Any],
    *,
    principal: Principal,
    message: str = "",
    audit_as: audit.AuditContext,
) -> PipelineVersion:
    """The pipeline's next version (the pipeline row is locked, so two changes never get one number); audited.

    Whether it is archived is read under that lock, as `archive` takes it: a pipeline archived while this change
    waited is 404 `pipeline_not_found`, the answer to a change asked after the archive, and gets no version.
    """
    principal.require(Permission.PIPELINES_WRITE, pipeline.namespace_id, resource="pipeline")
    parsed = checked_spec(spec)
    session.refresh(pipeline, with_for_update=True)
    if pipeline.archived_at is not None:
        raise NotFound(f"pipeline {pipeline.id} does not exist", code="pipeline_not_found")
    version = PipelineVersion(
        pipeline_id=pipeline.id,
        version=pipeline.latest_version + 1,
        spec=msgspec.to_builtins(parsed),
        created_by=principal.user_id,
        message=message,
    )
    pipeline.latest_version = version.version
    pipeline.updated_at = func.now()  # type: ignore[assignment]
    session.add(version)
    session.flush()
    session.refresh(pipeline)
    audit.record(
        session,
        audit_as,
        action="pipelines.update",
        resource_type="pipeline",
        resource_id=pipeline.id,
        namespace_id=pipeline.namespace_id,
        details={"after": {"version": version.version, "message": message}},
    )
    return version


def archive(session: Session, pipeline: Pipeline, *, audit_as: audit.AuditContext) -> None:
    """Hide the pipeline from lists and new runs, its deployments paused; its versions and runs stay (audited).

    Checked again under the row lock: a pipeline another request archived meanwhile is 404 `pipeline_not_found`, as
    an archived pipeline is everywhere, and keeps its first archive time and audit entry.
    """
    session.refresh(pipeline, with_for_update=True)
    if pipeline.archived_at is not None:
        raise NotFound(f"pipeline {pipeline.id} does not exist", code="pipeline_not_found")
    pipeline.archived_at = func.now()  # type: ignore[assignment]
    session.flush()
    deployment_actions.pause_for_archive(session, pipeline.id, audit_as=audit_as)
    audit.record(
        session,
        audit_as,
        action="pipelines.archive",
        resource_type="pipeline",
        resource_id=pipeline.id,
        namespace_id=pipeline.namespace_id,
        details={"before": {"name": pipeline.name}},
    )


def list_versions(
    session: Session, pipeline_id: uuid.UUID, *, limit: int, cursor: str | None = None
) -> list[PipelineVersion]:
    """Up to `limit + 1` versions, newest first, after the cursor's version (the extra one says more exist)."""
    query = select(PipelineVersion).where(PipelineVersion.pipeline_id == pipeline_id)
    return list(session.scalars(numbered_page(query, PipelineVersion.version, limit=limit, cursor=cursor)))


def changes(before: Any, after: Any, path: str = "") -> list[dict[str, Any]]:
    """What differs between two spec documents, path by path: added, removed or changed. Pure."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[dict[str, Any]] = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in before:
                found.append({"path": where, "change": "added", "after": after[key]})
            elif key not in after:
                found.append({"path": where, "change": "removed", "before": before[key]})
            else:
                found += changes(before[key], after[key], where)
        return found
    if isinstance(before, list) and isinstance(after, list):
        found = []
        for index in range(max(len(before), len(after))):
            where = f"{path}[{index}]"
            if index >= len(before):
                found.append({"path": where, "change": "added", "after": after[index]})
            elif index >= len(after):
                found.append({"path": where, "change": "removed", "before": before[index]})
            else:
                found += changes(before[index], after[index], where)
        return found
    return [] if before == after else [{"path": path or "$", "change": "changed", "before": before, "after": after}]


def unified(before: dict[str, Any], after: dict[str, Any], *, names: tuple[str, str]) -> str:
    """A unified text diff of the two specs as indented JSON (stable key order). Pure."""
    lines = [json.dumps(s, indent=2, sort_keys=True, default=str).splitlines(keepends=True) for s in (before, after)]
    return "".join(difflib.unified_diff(lines[0], lines[1], fromfile=names[0], tofile=names[1]))
