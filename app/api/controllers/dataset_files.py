"""/api/v1/datasets/{id}: what a version holds, read back: a page of rows, the whole version as a file, its rejects."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, PathParameter, QueryParameter
from litestar.response import File, Stream

from app.api.dataset_schemas import CSV_BOM, CSV_CELLS, DOWNLOADS, REJECTS_DOWNLOADS, RowsOut, TruncatedCell
from app.api.downloads import download_stem, empty_download, parquet_download, raw_download
from app.api.security import principal_of
from app.core.errors import Conflict, NotFound
from app.core.ids import MAX_VERSION
from app.db.database import Database
from app.db.datasets import Upload
from app.domain import dataset_versions as versions
from app.domain import datasets as service
from app.domain import files as data_files
from app.domain.cell_cuts import CELL_BYTES
from app.domain.dataset_reader import PAGE_BYTES, ROW_CELL_CHARS, Reader
from app.domain.pagination import MAX_BIGINT
from app.domain.permissions import Permission
from app.ingest.bounded import bounded, request_limits
from app.ingest.import_job import REJECTS_SCHEMA
from app.paths import DATA_FILE, REJECTS_FILE, resolved_root
from app.settings import Settings

DatasetId = FromPath[uuid.UUID]
READ = {"permission": Permission.DATASETS_READ}


class DatasetFileController(Controller):
    path = "/api/v1/datasets"
    tags = ["datasets"]

    @get(
        "/{dataset_id:uuid}/rows",
        operation_id="getDatasetRows",
        opt={**READ, "errors": (409, 503)},  # 409: no version imported yet and none named
        sync_to_thread=True,
        summary=f"A page of rows of a version: at most `limit` rows and {PAGE_BYTES >> 20} MiB of them (then "
        f"`next_offset` says where the next page starts); text cells cut at {ROW_CELL_CHARS:,} characters or fewer "
        f"(`cell_chars`), list, struct, map and binary cells at about {CELL_BYTES >> 10} KiB, listed in `truncated`",
    )
    def rows(
        self,
        request: Request,
        dataset_id: DatasetId,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        version: Annotated[int | None, QueryParameter(ge=1, le=MAX_VERSION)] = None,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_BIGINT)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 100,
        columns: Annotated[str | None, QueryParameter(description="Comma-separated column names")] = None,
        order_by: Annotated[
            str | None,
            QueryParameter(
                description="Comma-separated; `-name` sorts descending; nulls last; rows with equal sort values "
                "keep their order in the version (stable pages)"
            ),
        ] = None,
        filter_: Annotated[
            list[str] | None,
            QueryParameter(
                name="filter",
                description="column:op:value (eq ne lt le gt ge contains starts_with is_null not_null), repeatable",
            ),
        ] = None,
    ) -> RowsOut:
        with db.read() as session:
            dataset = service.get_dataset(session, dataset_id, principal_of(request))
            chosen = versions.get_version(session, dataset, version)
        parquet = data_files.version_file(settings, dataset.id, chosen.run_id, DATA_FILE, attempt=chosen.attempt)
        work = resolved_root(settings.data_path) / "tmp" / "readers"
        limits = request_limits(settings)
        sorted_dir = resolved_root(settings.data_path) / "tmp" / "sorted"
        with bounded(limits), Reader(parquet, work, limits, sorted_dir=sorted_dir) as reader:
            found = reader.rows(
                offset=offset,
                limit=limit,
                columns=[c for c in (columns or "").split(",") if c] or None,
                order_by=[c for c in (order_by or "").split(",") if c],
                filters=filter_ or [],
            )
        cut = [TruncatedCell(**cell) for cell in found.pop("truncated")]
        return RowsOut(**found, offset=offset, limit=limit, version=chosen.version, truncated=cut)

    @get(
        "/{dataset_id:uuid}/download",
        operation_id="downloadDataset",
        opt={**READ, "errors": (409, 503), "produces": DOWNLOADS},
        sync_to_thread=True,
        summary="The raw file or a version, streamed",
    )
    def download(
        self,
        request: Request,
        dataset_id: DatasetId,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        format_: Annotated[
            Literal["raw", "parquet", "csv", "json"], QueryParameter(name="format", description=CSV_CELLS)
        ] = "parquet",
        version: Annotated[int | None, QueryParameter(ge=1, le=MAX_VERSION)] = None,
        bom: Annotated[bool, QueryParameter(description=CSV_BOM)] = False,
    ) -> File | Stream:
        with db.read() as session:
            dataset = service.get_dataset(session, dataset_id, principal_of(request))
            upload = session.get(Upload, dataset.upload_id) if dataset.upload_id else None
            chosen = None if format_ == "raw" else versions.get_version(session, dataset, version)
        if format_ == "raw":
            if upload is None:
                raise Conflict("this dataset has no raw file", code="dataset_not_importable")
            return raw_download(settings, upload.id, upload.filename)
        assert chosen is not None
        parquet = data_files.version_file(settings, dataset.id, chosen.run_id, DATA_FILE, attempt=chosen.attempt)
        return parquet_download(parquet, download_stem(dataset, chosen.version), format_, settings, bom=bom)

    @get(
        "/{dataset_id:uuid}/versions/{version:int}/rejects",
        operation_id="downloadRejects",
        opt={**READ, "errors": (503,), "produces": REJECTS_DOWNLOADS},
        sync_to_thread=True,
        summary="The rows a lenient import of this version rejected (row, column, message, value); none: an empty file",
    )
    def rejects(
        self,
        request: Request,
        dataset_id: DatasetId,
        version: Annotated[int, PathParameter(ge=1, le=MAX_VERSION)],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        format_: Annotated[
            Literal["csv", "json", "parquet"], QueryParameter(name="format", description=CSV_CELLS)
        ] = "csv",
        bom: Annotated[bool, QueryParameter(description=CSV_BOM)] = False,
    ) -> File | Stream | Response[bytes]:
        with db.read() as session:
            dataset = service.get_dataset(session, dataset_id, principal_of(request))
            chosen = versions.get_version(session, dataset, version)
        stem = download_stem(dataset, chosen.version) + "-rejects"
        if not chosen.rejected_rows:
            return empty_download(REJECTS_SCHEMA, stem, format_, bom=bom)
        try:
            path = data_files.version_file(settings, dataset.id, chosen.run_id, REJECTS_FILE, attempt=chosen.attempt)
        except FileNotFoundError:
            path = None
        if path is None or not path.is_file():
            raise NotFound(f"the rejects file of version {chosen.version} is gone", code="rejects_not_found")
        return parquet_download(path, stem, format_, settings, bom=bom)
