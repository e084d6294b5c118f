"""Schemas of the data center API: datasets, their versions, uploads, row pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema

from app.api.notice_schemas import import_notices
from app.api.schemas import ErrorDetail
from app.core import display_text
from app.core.patterns import whole
from app.core.states import RunStatus
from app.db.datasets import DATASET_SOURCES, Dataset, DatasetStatus, DatasetVersion, Upload
from app.db.models import Run
from app.domain.cell_cuts import CELL_BYTES, ROW_NESTED_BYTES
from app.domain.dataset_reader import MIN_CELL_CHARS, PAGE_BYTES, ROW_CELL_CHARS, ROW_TEXT_CHARS
from app.domain.dataset_versions import Maker
from app.domain.datasets import TAGS_FIELD
from app.domain.datasets import Description as DatasetDescription
from app.domain.datasets import Name as DatasetName
from app.domain.pagination import encode_number_cursor, list_scope, scoped
from app.domain.upload_ranges import missing_ranges
from app.ingest.models import shown_bound
from app.ingest.notices import ImportNotice

#: Where a dataset's data comes from: an uploaded file, or a pipeline's output.
DatasetSource = StrEnum("DatasetSource", [(v.upper(), v) for v in DATASET_SOURCES], module=__name__)  # type: ignore[misc]

#: The operation that lists a dataset's versions: the list `versions_next_cursor` is a cursor of.
LIST_VERSIONS = "listDatasetVersions"


class ColumnOut(msgspec.Struct):
    name: str
    type: str
    nulls: int | None = None
    #: At most 200 characters (then "…"): figures stored before that rule are cut here too.
    min: str | None = None
    max: str | None = None

    def __post_init__(self) -> None:
        self.min, self.max = shown_bound(self.min), shown_bound(self.max)


class MadeByOut(msgspec.Struct):
    run_kind: str
    trigger: str
    user_id: uuid.UUID | None
    username: str | None


class DatasetVersionOut(msgspec.Struct):
    version: int
    run_id: uuid.UUID
    created_at: datetime
    row_count: int
    size_bytes: int
    source_bytes: int
    rejected_rows: int
    columns: list[ColumnOut]
    config: dict[str, Any]
    #: The warnings' English text; `notices` has them as codes and parameters, for a client to word.
    warnings: list[str]
    lineage: dict[str, Any] | None
    #: The warnings as notices, in the same order (null for a version written before they were kept: read `warnings`).
    notices: list[ImportNotice] | None = None
    #: Who made this version: the run's kind and trigger, and its user (None when not known, e.g. a deleted run).
    made_by: MadeByOut | None = None

    @classmethod
    def of(cls, v: DatasetVersion, maker: Maker | None = None) -> DatasetVersionOut:
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
            notices=import_notices(v.notices),
            made_by=MadeByOut(maker.run_kind, maker.trigger, maker.user_id, maker.username) if maker else None,
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
    status: RunStatus
    progress: dict[str, Any]
    error: ErrorDetail | None


#: How many of its newest versions GET of one dataset embeds; the rest are paged by GET .../versions.
EMBEDDED_VERSIONS = 20
EmbeddedVersions = Annotated[
    list[DatasetVersionOut],
    msgspec.Meta(
        max_length=EMBEDDED_VERSIONS,
        description=f"GET of one dataset only: its newest {EMBEDDED_VERSIONS} versions at the most, newest first (the "
        "rest: GET .../versions?cursor={versions_next_cursor}); null in a list of datasets",
    ),
]


class DatasetOut(msgspec.Struct):
    id: uuid.UUID
    namespace_id: uuid.UUID
    name: str
    description: str
    tags: list[str]
    source: DatasetSource
    status: DatasetStatus
    current_version: int | None
    row_count: int | None
    columns: list[ColumnOut]
    file: FileOut | None
    last_import: ImportOut | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    versions: EmbeddedVersions | None = None
    version_count: Annotated[
        int | None,
        msgspec.Meta(description="GET of one dataset only: how many versions it has in all; null in a list"),
    ] = None
    versions_next_cursor: Annotated[
        str | None,
        msgspec.Meta(
            description="GET of one dataset only: the `cursor` of GET .../versions for the versions after those in "
            "`versions`; null when `versions` holds them all"
        ),
    ] = None

    @classmethod
    def of(
        cls,
        d: Dataset,
        *,
        current: DatasetVersion | None,
        upload: Upload | None,
        run: Run | None,
        versions: list[DatasetVersion] | None = None,
        version_count: int | None = None,
        makers: dict[uuid.UUID, Maker] | None = None,
    ) -> DatasetOut:
        """With `versions` (up to EMBEDDED_VERSIONS + 1, newest first: the extra one says more exist), the newest
        EMBEDDED_VERSIONS of them, `version_count` (how many it has in all) and the cursor to the rest."""
        shown = versions[:EMBEDDED_VERSIONS] if versions is not None else None
        return cls(
            id=d.id,
            namespace_id=d.namespace_id,
            name=d.name,
            description=d.description,
            tags=d.tags,
            source=DatasetSource(d.source),
            status=DatasetStatus(d.status),
            current_version=d.current_version,
            row_count=current.row_count if current else None,
            columns=[msgspec.convert(c, ColumnOut) for c in current.columns] if current else [],
            file=FileOut(upload.id, upload.filename, upload.size, upload.sha256, d.file_format) if upload else None,
            last_import=ImportOut(
                run.id,
                RunStatus(run.status),
                run.progress,
                ErrorDetail(run.error_code, run.error_message or "") if run.error_code else None,
            )
            if run
            else None,
            last_error=d.last_error,
            created_at=d.created_at,
            updated_at=d.updated_at,
            versions=[DatasetVersionOut.of(v, (makers or {}).get(v.run_id)) for v in shown]
            if shown is not None
            else None,
            version_count=version_count if shown is not None else None,
            versions_next_cursor=scoped(
                encode_number_cursor(shown[-1].version), list_scope(LIST_VERSIONS, {"dataset_id": d.id}, [])
            )
            if versions is not None and shown is not None and len(versions) > len(shown)
            else None,
        )


class UploadOut(msgspec.Struct):
    id: uuid.UUID
    filename: str
    size: int
    received: int
    ranges: list[list[int]]
    missing: list[list[int]]
    status: Literal["open", "complete", "expired"]
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


class CompleteUploadIn(display_text.Normalised, kw_only=True, forbid_unknown_fields=True):
    """Turn a finished upload into a dataset."""

    name: DatasetName
    description: DatasetDescription = ""
    tags: list[str] = msgspec.field(default_factory=list)


class TruncatedCell(msgspec.Struct, omit_defaults=True):
    """A cell `rows` holds cut: a text cell longer than the page's `cell_chars` characters (its first
    `cell_chars`), or a list, struct, map or binary cell over about CELL_BYTES of JSON (its first items, each cut
    in turn); the dataset's download (`GET …/download?format=csv|json|parquet`) holds the whole value."""

    row: Annotated[int, msgspec.Meta(description="The row's position in this page's `rows` (0-based)")]
    column: str
    chars: Annotated[int | None, msgspec.Meta(description="A text cell: the whole value's length in characters")] = None
    items: Annotated[
        int | None, msgspec.Meta(description="A list, array or map cell: the whole value's number of items")
    ] = None
    bytes: Annotated[int | None, msgspec.Meta(description="A binary cell: the whole value's length in bytes")] = None


class RowsOut(msgspec.Struct):
    """A page of rows: at most `limit` rows, and at most PAGE_BYTES of them as JSON (see `next_offset`)."""

    columns: list[dict[str, str]]
    rows: list[list[Any]]
    total: int
    offset: int
    limit: int
    version: int
    next_offset: Annotated[
        int | None,
        msgspec.Meta(
            description=f"The `offset` of the next page, null after the last row. A page stops before `limit` rows "
            f"when its rows would pass {PAGE_BYTES >> 20} MiB as JSON (it always holds one row): ask for the next "
            "page from here, not from `offset + limit`"
        ),
    ]
    cell_chars: Annotated[
        int,
        msgspec.Meta(
            description=f"The characters this page's text cells are cut at: {ROW_CELL_CHARS:,}, or fewer when the "
            f"page selects more than {ROW_TEXT_CHARS // ROW_CELL_CHARS} text columns ({ROW_TEXT_CHARS:,} shared "
            f"among them, never under {MIN_CELL_CHARS})"
        ),
    ]
    truncated: Annotated[
        list[TruncatedCell],
        msgspec.Meta(
            description="The cells of this page `rows` holds cut (empty when none is): text cells longer than "
            f"`cell_chars` characters (their first `cell_chars`), and list, struct, map and binary cells over about "
            f"{CELL_BYTES >> 10} KiB of JSON ({ROW_NESTED_BYTES >> 10} KiB shared a row): their first items, text "
            "and binary inside cut in turn (a struct has no size of its own); the dataset's download holds them whole"
        ),
    ]


#: The multipart form of POST /api/v1/datasets (read as a stream by app.api.multipart_upload, so declared by hand).
DATASET_FORM = Schema(
    type=OpenAPIType.OBJECT,
    required=["file"],
    properties={
        "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="The file to upload"),
        "name": Schema(type=OpenAPIType.STRING, description="The dataset's name (default: the file's name)"),
        "description": Schema(type=OpenAPIType.STRING),
        "tags": Schema(
            type=OpenAPIType.STRING,
            pattern=TAGS_FIELD,
            description="Comma-separated tags: each a letter or digit, then letters, digits and _ . : - (≤ 64)",
        ),
    },
)
#: What GET /api/v1/datasets/{id}/download sends: a version as Parquet, CSV or NDJSON, or the raw file as it came.
DOWNLOADS = ("application/vnd.apache.parquet", "text/csv", "application/x-ndjson", "*/*")
#: What GET …/versions/{v}/rejects sends: the rejected rows as CSV, NDJSON or Parquet.
REJECTS_DOWNLOADS = ("text/csv", "application/x-ndjson", "application/vnd.apache.parquet")
#: One chunk of a resumable upload: raw bytes, placed by its Content-Range header.
CHUNK = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
CONTENT_RANGE = Schema(
    type=OpenAPIType.STRING,
    pattern=whole(r"bytes [0-9]+-[0-9]+/([0-9]+|\*)"),
    description="Where the chunk goes: bytes START-END/TOTAL (END inclusive, TOTAL the upload's size)",
    examples=["bytes 0-1048575/5242880"],
)

#: How a CSV download writes text a spreadsheet would run (app/domain/csv_cells.py), for the `format` parameters.
CSV_CELLS = (
    "csv: a text cell starting with = + - @, a tab or a carriage return gets a leading ' "
    "(spreadsheets would run it as a formula)"
)
#: The `bom` parameter of the CSV downloads.
CSV_BOM = (
    "csv: start with a UTF-8 byte order mark, so Excel opens Chinese (any non-ASCII) text right; "
    "the console asks for it. Leave it off for programs that read UTF-8."
)
