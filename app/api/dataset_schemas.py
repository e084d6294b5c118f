"""Schemas of the data center API: datasets, their versions, uploads, row pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from app.api.schemas import ErrorDetail
from app.db.datasets import Dataset, DatasetVersion, Upload
from app.db.models import Run
from app.domain.datasets import Name as DatasetName
from app.domain.states import FINAL
from app.domain.uploads import missing_ranges


class ColumnOut(msgspec.Struct):
    name: str
    type: str
    nulls: int | None = None
    min: str | None = None
    max: str | None = None


class VersionOut(msgspec.Struct):
    version: int
    run_id: uuid.UUID
    created_at: datetime
    row_count: int
    size_bytes: int
    source_bytes: int
    rejected_rows: int
    columns: list[ColumnOut]
    config: dict[str, Any]
    warnings: list[str]
    lineage: dict[str, Any] | None

    @classmethod
    def of(cls, v: DatasetVersion) -> VersionOut:
        return cls(
            version=v.version,
            run_id=v.run_id,
            created_at=v.created_at,
            row_count=v.row_count,
            size_bytes=v.size_bytes,
            source_bytes=v.source_bytes,
            rejected_rows=v.rejected_rows,
            columns=[msgspec.convert(c, ColumnOut) for c in v.columns],
            config=v.config,
            warnings=v.warnings,
            lineage=v.lineage,
        )


class FileOut(msgspec.Struct):
    upload_id: uuid.UUID
    filename: str
    size: int
    sha256: str | None
    format: str | None


class ImportOut(msgspec.Struct):
    """The latest import run: its status and progress are the dataset's."""

    run_id: uuid.UUID
    status: str
    progress: dict[str, Any]
    error: ErrorDetail | None


class DatasetOut(msgspec.Struct):
    id: uuid.UUID
    namespace_id: uuid.UUID
    name: str
    description: str
    tags: list[str]
    source: str
    status: str
    current_version: int | None
    row_count: int | None
    columns: list[ColumnOut]
    file: FileOut | None
    last_import: ImportOut | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    versions: list[VersionOut] | None = None

    @classmethod
    def of(
        cls,
        d: Dataset,
        *,
        current: DatasetVersion | None,
        upload: Upload | None,
        run: Run | None,
        versions: list[DatasetVersion] | None = None,
    ) -> DatasetOut:
        status = d.status
        if status == "importing" and run is not None and run.status in {s.value for s in FINAL}:
            status = "ready" if d.current_version else "failed"  # e.g. the reaper ended a lost import
        return cls(
            id=d.id,
            namespace_id=d.namespace_id,
            name=d.name,
            description=d.description,
            tags=d.tags,
            source=d.source,
            status=status,
            current_version=d.current_version,
            row_count=current.row_count if current else None,
            columns=[msgspec.convert(c, ColumnOut) for c in current.columns] if current else [],
            file=FileOut(upload.id, upload.filename, upload.size, upload.sha256, d.file_format) if upload else None,
            last_import=ImportOut(
                run.id,
                run.status,
                run.progress,
                ErrorDetail(run.error_code, run.error_message or "") if run.error_code else None,
            )
            if run
            else None,
            last_error=d.last_error,
            created_at=d.created_at,
            updated_at=d.updated_at,
            versions=[VersionOut.of(v) for v in versions] if versions is not None else None,
        )


class UploadOut(msgspec.Struct):
    id: uuid.UUID
    filename: str
    size: int
    received: int
    ranges: list[list[int]]
    missing: list[list[int]]
    status: str
    sha256: str | None
    expires_at: datetime

    @classmethod
    def of(cls, u: Upload) -> UploadOut:
        return cls(
            id=u.id,
            filename=u.filename,
            size=u.size,
            received=u.received,
            ranges=u.ranges,
            missing=missing_ranges(u.ranges, u.size),
            status=u.status,
            sha256=u.sha256,
            expires_at=u.expires_at,
        )


class CompleteUploadIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Turn a finished upload into a dataset."""

    name: DatasetName
    description: Annotated[str, msgspec.Meta(max_length=10_000)] = ""
    tags: list[str] = msgspec.field(default_factory=list)


class RowsOut(msgspec.Struct):
    columns: list[dict[str, str]]
    rows: list[list[Any]]
    total: int
    offset: int
    limit: int
    version: int
