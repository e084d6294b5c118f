"""Datasets: created from an upload, imported into immutable versions by ingest runs, browsed, renamed, deleted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core import display_text
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.ids import uuid7
from app.core.notices import Notice
from app.core.patterns import whole
from app.core.states import ACTIVE, RunKind
from app.db.datasets import Dataset, DatasetStatus, DatasetVersion, Upload
from app.db.models import Run
from app.domain import audit
from app.domain.dataset_writes import begin_write
from app.domain.events import record_event
from app.domain.name_search import holds
from app.domain.namespaces import visible_namespaces
from app.domain.pagination import decode_cursor
from app.domain.permissions import Permission, Principal
from app.domain.runs import cancel_run, insert_run
from app.settings import Settings

#: A dataset name: the display-text rule (app/core/display_text.py), and no '/' or '\\'.
Name = display_text.one_line(200, also_refused="/\\")
Description = display_text.multi_line(10_000)
#: A tag: a letter or digit, then letters, digits and _ . : - (at most 64 characters in all).
TAG = r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}"
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=whole(TAG))]
#: A dataset's tags, at most 50, from the JSON PATCH and the upload form alike.
Tags = Annotated[list[Tag], msgspec.Meta(max_length=50)]
#: The upload form's `tags`: tags separated by commas, spaces around them and empty ones ignored (check_tags).
#: Kept free of nested optional repeats, which test generators (Hypothesis) cannot draw from in reasonable time.
TAGS_FIELD = whole(rf"[ ,]*(?:{TAG}(?: *,[ ,]*{TAG})*)?[ ,]*")


#: Why a run was cancelled when its dataset was deleted (its run event's reason).
DATASET_DELETED = "dataset_deleted"


class DatasetDeleted(Conflict):
    """The dataset a run was writing was deleted before the run could publish its version."""

    code = DATASET_DELETED


class DatasetPatch(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; anything left out stays as it is."""

    name: Name | None = None
    description: Description | None = None
    tags: Tags | None = None


class DatasetFilters(msgspec.Struct, kw_only=True):
    #: A namespace's name: only its datasets (one the caller cannot see is 404 namespace_not_found).
    namespace: str | None = None
    source: Literal["uploaded", "generated"] | None = None
    status: DatasetStatus | None = None
    tag: str | None = None
    search: str | None = None


def check_name(name: str) -> str:
    """A dataset name from a form or a hand-built value, checked and normalised by the rule the JSON bodies use."""
    name = display_text.clean(name, "name")
    try:
        return msgspec.convert(name, Name)
    except msgspec.ValidationError as exc:
        message = display_text.pattern_message(str(exc)) or f"{exc}: at most 200 characters"
        raise InvalidInput(f"invalid dataset name: {message}", errors=[{"field": "name", "message": message}]) from None


def check_tags(tags: list[str]) -> list[str]:
    """Tags as given in a form field: validated like the JSON ones, duplicates dropped."""
    try:
        return list(dict.fromkeys(msgspec.convert(tags, Tags)))
    except msgspec.ValidationError as exc:
        raise InvalidInput(str(exc), errors=[{"field": "tags", "message": str(exc)}]) from None


def create_dataset(
    session: Session,
    *,
    principal: Principal,
    namespace_id: uuid.UUID,
    name: str,
    description: str,
    tags: list[str],
    upload: Upload,
    file_format: str,
    audit_as: audit.AuditContext,
    action: Literal["datasets.create", "uploads.complete"] = "datasets.create",
) -> Dataset:
    """An uploaded dataset with its raw file, not imported yet; audited as the route that made it (`action`)."""
    principal.require(Permission.DATASETS_WRITE, namespace_id, resource="namespace")
    dataset = Dataset(
        id=uuid7(),
        namespace_id=namespace_id,
        name=check_name(name),
        description=description,
        tags=check_tags(tags),
        source="uploaded",
        status="uploaded",
        upload_id=upload.id,
        file_format=file_format,
        created_by=principal.user_id,
    )
    session.add(dataset)
    _flush_unique(session, name)
    # One form upload names its file; a chunked upload is named by its id (the rows each route always wrote).
    source = {"file": upload.filename} if action == "datasets.create" else {"upload_id": str(upload.id)}
    audit.record(
        session,
        audit_as,
        action=action,
        resource_type="dataset",
        resource_id=dataset.id,
        namespace_id=namespace_id,
        details={"after": {"name": dataset.name, **source, "size": upload.size}},
    )
    return dataset


def _flush_unique(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        if "uq_datasets_namespace_name" not in str(exc.orig):
            raise
        raise Conflict(
            f"a dataset named {name!r} already exists in this namespace",
            code="dataset_name_taken",
            errors=[{"field": "name", "message": "already taken"}],
        ) from None


def get_dataset(session: Session, dataset_id: uuid.UUID, principal: Principal, *, lock: bool = False) -> Dataset:
    """A live dataset the caller may read; 404 otherwise, the same for one in a namespace the caller cannot see."""
    dataset = session.get(Dataset, dataset_id, with_for_update=lock)
    if (
        dataset is None
        or dataset.deleted_at is not None
        or not principal.may(Permission.DATASETS_READ, dataset.namespace_id)
    ):
        raise NotFound(f"dataset {dataset_id} does not exist", code="dataset_not_found")
    return dataset


def list_datasets(
    session: Session, principal: Principal, filters: DatasetFilters, *, limit: int, cursor: str | None
) -> list[Dataset]:
    """Live datasets the caller may read, newest first; `limit + 1` rows so the caller can tell whether more exist."""
    q = (
        select(Dataset)
        .where(Dataset.deleted_at.is_(None))
        .order_by(Dataset.created_at.desc(), Dataset.id.desc())
        .limit(limit + 1)
    )
    visible = visible_namespaces(session, principal, Permission.DATASETS_READ, filters.namespace)
    if visible is not None:
        q = q.where(Dataset.namespace_id.in_(visible))
    if filters.source:
        q = q.where(Dataset.source == filters.source)
    if filters.status:
        q = q.where(Dataset.status == filters.status)
    if filters.tag:
        q = q.where(Dataset.tags.contains([filters.tag]))
    if filters.search:
        q = q.where(holds(filters.search, Dataset.name))
    if cursor:
        position = decode_cursor(cursor)
        q = q.where(tuple_(Dataset.created_at, Dataset.id) < tuple_(position.at, position.id))
    return list(session.scalars(q))


def update_dataset(
    session: Session, dataset: Dataset, patch: DatasetPatch, *, principal: Principal, audit_as: audit.AuditContext
) -> dict[str, Any]:
    """Rename, describe, tag (audited with the changed fields before and after); returns the fields changed."""
    principal.require(Permission.DATASETS_WRITE, dataset.namespace_id, resource="dataset")
    before = {"name": dataset.name, "description": dataset.description, "tags": list(dataset.tags)}
    changes = {k: v for k, v in msgspec.structs.asdict(patch).items() if v is not None}
    if "tags" in changes:
        changes["tags"] = list(dict.fromkeys(changes["tags"]))
    for key, value in changes.items():
        setattr(dataset, key, value)
    dataset.updated_at = func.now()  # type: ignore[assignment]
    _flush_unique(session, dataset.name)
    audit.record(
        session,
        audit_as,
        action="datasets.update",
        resource_type="dataset",
        resource_id=dataset.id,
        namespace_id=dataset.namespace_id,
        details={"before": {k: before[k] for k in changes}, "after": changes},
    )
    return changes


def delete_dataset(
    session: Session, dataset: Dataset, *, principal: Principal, now: datetime, audit_as: audit.AuditContext
) -> None:
    """Soft delete: hidden at once (its name is free again); the cleanup job removes its files later. Audited.

    The unfinished runs writing it, its imports and the pipeline runs it is the output of, are cancelled as a
    user's cancel would (a queued or retrying one at once, a running one stops within seconds; each audited as
    `runs.cancel`): none runs on into a dataset nobody can reach.
    """
    principal.require(Permission.DATASETS_WRITE, dataset.namespace_id, resource="dataset")
    # A run's dataset_id is the dataset it writes: an import's, or a pipeline run's output once it made it. Its
    # unfinished runs are locked (as read, in id order, as a worker's batch locks runs) before the dataset: a cancel,
    # the reaper and the schedule loop lock a run, then the dataset it writes (dataset_writes.end_writes), and the
    # other order deadlocked with them. One ending meanwhile is waited for, and left out.
    unfinished = (
        select(Run.id)
        .where(Run.dataset_id == dataset.id, Run.status.in_([s.value for s in ACTIVE]))
        .order_by(Run.id)
        .with_for_update()
    )
    session.scalars(unfinished).all()
    session.refresh(dataset, with_for_update=True)
    if dataset.deleted_at is not None:  # deleted by another request while this one waited
        raise NotFound(f"dataset {dataset.id} does not exist", code="dataset_not_found")
    dataset.deleted_at = now
    session.flush()
    # Read again under the dataset's lock: a run that began writing it before the lock (rare) is locked now.
    cancelled = [
        cancel_run(session, run_id, principal, reason=DATASET_DELETED, audit_as=audit_as).id
        for run_id in session.scalars(unfinished).all()
    ]
    audit.record(
        session,
        audit_as,
        action="datasets.delete",
        resource_type="dataset",
        resource_id=dataset.id,
        namespace_id=dataset.namespace_id,
        details={"before": {"name": dataset.name}, "cancelled_runs": [str(i) for i in cancelled]},
    )


def start_import(
    session: Session,
    dataset: Dataset,
    config: dict[str, Any],
    *,
    principal: Principal,
    settings: Settings,
    max_retries: int | None = None,
    audit_as: audit.AuditContext,
) -> uuid.UUID:
    """An ingest run (with its outbox row) that imports the dataset's raw file with `config` into a new version.

    Its retries are the instance default (CONVEYOR_DEFAULT_MAX_RETRIES) unless `max_retries` says otherwise.

    Audited here; an Idempotency-Key replay does not call this, so it is audited once.
    """
    principal.require(Permission.DATASETS_WRITE, dataset.namespace_id, resource="dataset")
    if dataset.source != "uploaded" or dataset.upload_id is None:
        raise Conflict("only an uploaded dataset with its raw file can be imported", code="dataset_not_importable")
    run_id = insert_run(
        session,
        settings=settings,
        principal=principal,
        namespace_id=dataset.namespace_id,
        kind=RunKind.INGEST,
        params={"config": config, "upload_id": str(dataset.upload_id)},
        max_retries=max_retries,
        timeout_seconds=settings.default_timeout_seconds,
        dataset_id=str(dataset.id),
    )
    begin_write(dataset, run_id)
    session.flush()
    audit.record(
        session,
        audit_as,
        action="datasets.import",
        resource_type="dataset",
        resource_id=dataset.id,
        namespace_id=dataset.namespace_id,
        details={"run_id": str(run_id), "config": config},
    )
    return run_id


def record_version(
    session: Session,
    *,
    dataset_id: uuid.UUID,
    run_id: uuid.UUID,
    attempt: int,
    upload_id: uuid.UUID | None,
    row_count: int,
    size_bytes: int,
    source_bytes: int,
    rejected_rows: int,
    columns: list[dict[str, Any]],
    config: dict[str, Any],
    notices: Sequence[Notice],
    producer: str,
    lineage: dict[str, Any] | None = None,
) -> int:
    """The next immutable version, written by `attempt` of `run_id` (its files are that attempt's); the dataset now
    reads it. Returns its number.

    `notices`: what the run warned of, kept as notices (codes and parameters) and as their English text (`warnings`).

    A run writes one version: asked again (a write repeated because the database
    went away before its commit was acknowledged), it returns the one it wrote.
    DatasetDeleted when the dataset was deleted meanwhile: the caller removes the files it published.
    """
    dataset = session.get_one(Dataset, dataset_id, with_for_update=True)
    written = select(DatasetVersion.version).where(
        DatasetVersion.dataset_id == dataset_id, DatasetVersion.run_id == run_id
    )
    if (existing := session.scalar(written)) is not None:
        return existing
    if dataset.deleted_at is not None:  # checked under the row lock delete_dataset's update also takes
        raise DatasetDeleted("the dataset was deleted while this run wrote it: no version was published")
    latest = select(func.max(DatasetVersion.version)).where(DatasetVersion.dataset_id == dataset_id)
    number = (session.scalar(latest) or 0) + 1
    session.add(
        DatasetVersion(
            dataset_id=dataset_id,
            version=number,
            run_id=run_id,
            attempt=attempt,
            upload_id=upload_id,
            row_count=row_count,
            size_bytes=size_bytes,
            source_bytes=source_bytes,
            rejected_rows=rejected_rows,
            columns=columns,
            config=config,
            warnings=[n.message for n in notices],
            notices=msgspec.to_builtins(list(notices)),
            lineage=lineage,
        )
    )
    dataset.current_version, dataset.status, dataset.last_error = number, DatasetStatus.READY, None
    dataset.updated_at = func.now()  # type: ignore[assignment]
    record_event(
        session,
        "dataset.ingested" if dataset.source == "uploaded" else "dataset.generated",
        producer=producer,
        namespace_id=dataset.namespace_id,
        dataset_id=dataset_id,
        dataset_version=number,
        run_id=run_id,
        payload={"rows": row_count, "bytes": size_bytes, "rejected_rows": rejected_rows, "columns": len(columns)},
    )
    session.flush()
    return number
