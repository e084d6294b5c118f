"""/api/v1/datasets: upload, list, read, change, delete; preview and import (rows and files: dataset_files.py)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import anyio
import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.orm import Session

from app.api import idempotent
from app.api.dataset_schemas import DATASET_FORM, EMBEDDED_VERSIONS, LIST_VERSIONS, DatasetOut, DatasetVersionOut
from app.api.idempotent import IdempotencyKey
from app.api.multipart_upload import receive_form
from app.api.schemas import NameSearch, Page, PageCursor, PageLimit, RunOut, page, page_cursor, runs_out
from app.api.security import audit_context, principal_of
from app.clock import utcnow
from app.core import display_text
from app.core.errors import Conflict
from app.db.database import Database
from app.db.datasets import Dataset, DatasetStatus, Upload
from app.db.models import Run
from app.domain import dataset_versions as versions
from app.domain import datasets as service
from app.domain import files as data_files
from app.domain import uploads as upload_service
from app.domain.pagination import check_limit
from app.domain.permissions import Permission
from app.domain.run_params import check_size
from app.ingest import preview
from app.ingest.bounded import bounded, request_limits
from app.ingest.config import parse_config
from app.ingest.limits import limits_of
from app.ingest.models import Preview
from app.paths import resolved_root, upload_dir, upload_key
from app.settings import Settings

DatasetId = FromPath[uuid.UUID]
READ = {"permission": Permission.DATASETS_READ}
WRITE = Permission.DATASETS_WRITE


def dataset_out(session: Session, dataset: Dataset, *, with_versions: bool = False) -> DatasetOut:
    """The dataset as the API shows it: current version's schema and stats, raw file, latest import."""
    current = versions.get_version(session, dataset, None) if dataset.current_version else None
    upload = session.get(Upload, dataset.upload_id) if dataset.upload_id else None
    run = session.get(Run, dataset.last_run_id) if dataset.last_run_id else None
    history = versions.list_versions(session, dataset.id, limit=EMBEDDED_VERSIONS) if with_versions else None
    made = versions.makers(session, [v.run_id for v in history[:EMBEDDED_VERSIONS]]) if history else None
    # A page not full is every version; only a dataset with more is counted (an index-only scan of its key).
    count = None if history is None else len(history)
    if history is not None and len(history) > EMBEDDED_VERSIONS:
        count = versions.count_versions(session, dataset.id)
    return DatasetOut.of(
        dataset, current=current, upload=upload, run=run, versions=history, version_count=count, makers=made
    )


def _tags(raw: str) -> list[str]:
    return [t.strip() for t in raw.split(",") if t.strip()]


class DatasetController(Controller):
    path = "/api/v1/datasets"
    tags = ["datasets"]

    @post(
        "/",
        operation_id="uploadDataset",
        opt={
            "permission": WRITE,
            "action": "datasets.create",
            "errors": (409, 413, 415, 503),
            "accepts": {"multipart/form-data": DATASET_FORM},
        },
        status_code=201,
        request_max_body_size=None,
        summary="Upload a file (multipart: file, name, description?, tags?) as a new dataset in ?namespace=",
    )
    async def create(
        self,
        request: Request,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        namespace: FromQuery[str] = "default",
        idempotency_key: IdempotencyKey = None,
    ) -> Response[DatasetOut]:
        principal = principal_of(request)

        def allowed() -> uuid.UUID:  # before a byte is stored
            with db.read() as session:
                return upload_service.writable_namespace(session, namespace, principal)

        ns = await anyio.to_thread.run_sync(allowed)
        upload_id = uuid.uuid4()
        writer = data_files.store(settings).writer(upload_key(upload_id))
        try:
            with writer as sink:  # complete only when the whole part arrived; aborted otherwise
                form = await receive_form(request, file_field="file", sink=sink, max_bytes=settings.max_upload_bytes)
            return await anyio.to_thread.run_sync(
                self._create, request, db, settings, ns, upload_id, form, idempotency_key
            )
        except BaseException:
            upload_service.remove_files(settings, upload_id)
            raise

    def _create(self, request, db, settings, ns, upload_id, form, key):  # type: ignore[no-untyped-def]
        principal = principal_of(request)
        # The file part's name, else the form's `name`; either is refused (nothing stored) when the rule says so.
        filename = display_text.file_name(form.filename or form.text("name"), "file" if form.filename else "name")
        found = data_files.upload_format(settings, upload_id, filename, form.size)  # on S3 by ranges, not a download
        # the file is known by its digest: the same key with the same form and bytes is a replay
        body = {"namespace": ns, "fields": form.fields, "file": [form.filename, form.size, form.sha256]}

        def create() -> uuid.UUID:
            upload = upload_service.open_upload(
                session,
                principal=principal,
                namespace_id=ns,
                filename=filename,
                size=form.size,
                sha256=form.sha256,
                settings=settings,
                now=utcnow(),
                complete=True,
            )
            upload.id = upload_id
            session.flush()
            dataset = service.create_dataset(
                session,
                principal=principal,
                namespace_id=ns,
                name=form.text("name") or filename,
                description=display_text.clean(form.text("description"), "description", "multi_line"),
                tags=_tags(form.text("tags")),
                upload=upload,
                file_format=found.kind,
                audit_as=audit_context(request),
            )
            return dataset.id

        with db.transaction() as session:
            dataset_id, replayed = idempotent.create_one(session, request, settings, key=key, body=body, create=create)
            out = dataset_out(session, service.get_dataset(session, dataset_id, principal))
        if replayed:  # the first request's file is the dataset's: this one's bytes go
            upload_service.remove_files(settings, upload_id)
        return Response(out, status_code=201, headers=idempotent.headers(replayed, f"/api/v1/datasets/{out.id}"))

    @get(
        "/",
        operation_id="listDatasets",
        opt=READ,
        sync_to_thread=True,
        summary="List datasets the caller may see, newest first",
    )
    def list_datasets(
        self,
        request: Request,
        db: NamedDependency[Database],
        source: FromQuery[Literal["uploaded", "generated"] | None] = None,
        status: FromQuery[DatasetStatus | None] = None,
        tag: FromQuery[str | None] = None,
        search: NameSearch = None,
        namespace: FromQuery[str | None] = None,
        limit: PageLimit = 50,
        cursor: PageCursor = None,
    ) -> Page[DatasetOut]:
        with db.read() as session:
            filters = service.DatasetFilters(
                namespace=namespace or None,
                source=source,
                status=status,
                tag=tag,
                search=search,
            )
            rows = service.list_datasets(
                session, principal_of(request), filters, limit=limit, cursor=page_cursor(request, cursor)
            )
            return page(
                request, rows, limit, position=lambda d: (d.created_at, d.id), item=lambda d: dataset_out(session, d)
            )

    @get(
        "/{dataset_id:uuid}",
        operation_id="getDataset",
        opt=READ,
        sync_to_thread=True,
        summary="A dataset with its newest versions and how many it has",
    )
    def read(self, request: Request, dataset_id: DatasetId, db: NamedDependency[Database]) -> DatasetOut:
        with db.read() as session:
            dataset = service.get_dataset(session, dataset_id, principal_of(request))
            return dataset_out(session, dataset, with_versions=True)

    @get(
        "/{dataset_id:uuid}/versions",
        operation_id=LIST_VERSIONS,
        opt=READ,
        sync_to_thread=True,
        summary="A dataset's versions, newest first, paged",
    )
    def list_versions(
        self,
        request: Request,
        dataset_id: DatasetId,
        db: NamedDependency[Database],
        limit: PageLimit = 50,
        cursor: PageCursor = None,
        run_id: Annotated[
            uuid.UUID | None, QueryParameter(description="Only the version this run wrote (none if it wrote none)")
        ] = None,
    ) -> Page[DatasetVersionOut]:
        with db.read() as session:
            dataset = service.get_dataset(session, dataset_id, principal_of(request))
            rows = versions.list_versions(
                session, dataset.id, limit=check_limit(limit), cursor=page_cursor(request, cursor), run_id=run_id
            )
            made = versions.makers(session, [v.run_id for v in rows[:limit]])
        return page(
            request,
            rows,
            limit,
            position=lambda v: v.version,
            item=lambda v: DatasetVersionOut.of(v, made.get(v.run_id)),
        )

    @patch(
        "/{dataset_id:uuid}",
        operation_id="updateDataset",
        opt={"permission": WRITE, "action": "datasets.update", "errors": (409,)},
        sync_to_thread=True,
        summary="Rename, describe, tag",
    )
    def update(
        self,
        request: Request,
        dataset_id: DatasetId,
        data: JSONBody[service.DatasetPatch],
        db: NamedDependency[Database],
    ) -> DatasetOut:
        principal = principal_of(request)
        with db.transaction() as session:
            dataset = service.get_dataset(session, dataset_id, principal, lock=True)
            service.update_dataset(session, dataset, data, principal=principal, audit_as=audit_context(request))
            return dataset_out(session, dataset)

    @delete(
        "/{dataset_id:uuid}",
        operation_id="deleteDataset",
        opt={"permission": WRITE, "action": "datasets.delete"},
        sync_to_thread=True,
        summary="Delete (soft: files are removed after CONVEYOR_DATASET_RETENTION_HOURS)",
    )
    def remove(self, request: Request, dataset_id: DatasetId, db: NamedDependency[Database]) -> None:
        principal = principal_of(request)
        with db.transaction() as session:
            dataset = service.get_dataset(session, dataset_id, principal)  # locked by the delete, after its runs
            service.delete_dataset(session, dataset, principal=principal, now=utcnow(), audit_as=audit_context(request))

    @post(
        "/{dataset_id:uuid}/preview",
        operation_id="previewDatasetImport",
        opt={**READ, "errors": (409, 413, 415, 503)},
        sync_to_thread=True,
        status_code=200,
        summary="Preview the raw file with an import configuration (every key optional: inferred when absent)",
    )
    def preview(
        self,
        request: Request,
        dataset_id: DatasetId,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        rows: Annotated[int, QueryParameter(ge=0, le=100_000)] = 100,
        data: JSONBody[dict[str, object] | None] = None,
    ) -> Preview:
        with db.read() as session:
            dataset = service.get_dataset(session, dataset_id, principal_of(request))
            upload = session.get(Upload, dataset.upload_id) if dataset.upload_id else None
        if upload is None:
            raise Conflict("this dataset has no raw file to preview", code="dataset_not_importable")
        check_size(data, field="config", what="the import configuration")  # its null_values cost CPU each
        config = parse_config(data)
        limits = limits_of(settings)
        work = resolved_root(settings.data_path) / "tmp"
        work.mkdir(parents=True, exist_ok=True)
        duckdb_limits = request_limits(settings)
        with bounded(duckdb_limits):
            return preview(
                data_files.upload_file(settings, upload.id),
                upload.filename,
                config,
                limits,
                rows=min(rows, limits.max_preview_rows),
                duckdb_settings=duckdb_limits,
                work_dir=work,
                head_cache=upload_dir(settings.data_path, upload.id),  # reused as the form changes
            )

    @post(
        "/{dataset_id:uuid}/imports",
        operation_id="importDataset",
        opt={"permission": WRITE, "action": "datasets.import", "errors": (409,)},
        sync_to_thread=True,
        status_code=202,
        summary="Import the raw file into a new version (asynchronously: an ingest run)",
    )
    def start_import(
        self,
        request: Request,
        dataset_id: DatasetId,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: JSONBody[dict[str, object] | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[RunOut]:
        principal = principal_of(request)
        check_size(data, field="config", what="the import configuration")  # stored as the run's params
        config = msgspec.to_builtins(parse_config(data))
        ctx = audit_context(request)
        with db.transaction() as session:
            dataset = service.get_dataset(session, dataset_id, principal, lock=True)
            run_id, replayed = idempotent.create_one(
                session,
                request,
                settings,
                key=idempotency_key,
                body=config,
                resource_id=dataset_id,
                create=lambda: service.start_import(
                    session, dataset, config, principal=principal, settings=settings, audit_as=ctx
                ),
            )
            answer = runs_out(session, [session.get_one(Run, run_id)])[0]
            return Response(answer, status_code=202, headers=idempotent.headers(replayed, f"/api/v1/runs/{run_id}"))
