"""Files of a dataset version handed to a client: Parquet as is, or streamed as CSV/NDJSON by a bounded reader."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
from litestar import Response
from litestar.response import File, Stream

from app.core import display_text
from app.db.datasets import Dataset
from app.domain import files as data_files
from app.domain.dataset_reader import Reader
from app.ingest.bounded import request_limits
from app.paths import resolved_root, upload_data_path, upload_key
from app.settings import Settings

_MEDIA = {"csv": "text/csv", "json": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}
#: What a CSV download starts with when the client asks for `bom`: Excel takes a CSV without it for the system's
#: code page (GBK on a Chinese Windows), so every Chinese header and cell would show garbled.
UTF8_BOM = b"\xef\xbb\xbf"


def download_stem(dataset: Dataset, version: int) -> str:
    """A download's file name without extension: the dataset's name made safe, and the version."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", dataset.name)[:100] + f"-v{version}"


def parquet_download(parquet: Path, stem: str, format_: str, settings: Settings, *, bom: bool = False) -> File | Stream:
    """A Parquet file as itself, or streamed as CSV (after a UTF-8 BOM with `bom`) or NDJSON by a bounded reader."""
    if format_ == "parquet":
        return File(parquet, filename=f"{stem}.parquet", media_type=_MEDIA["parquet"])
    # A download streams the whole version, so no time limit applies; its memory and threads are the request's.
    reader = Reader(parquet, resolved_root(settings.data_path) / "tmp" / "readers", request_limits(settings))
    try:
        batches = reader.stream(format_)
    except BaseException:
        reader.close()
        raise

    def chunks():  # type: ignore[no-untyped-def]
        try:
            if bom and format_ == "csv":
                yield UTF8_BOM
            yield from batches
        finally:
            reader.close()

    extension = "csv" if format_ == "csv" else "ndjson"
    return Stream(
        chunks(),
        media_type=_MEDIA[format_],
        headers={"Content-Disposition": f'attachment; filename="{stem}.{extension}"'},
    )


def raw_download(settings: Settings, upload_id: uuid.UUID, filename: str) -> File | Stream:
    """An upload's bytes: the file itself on a local data root, else streamed from the store.

    A name stored before app/core/display_text.py's rule may hold a control or bidi character: it goes out as "_".
    """
    safe = display_text.scrubbed(filename)
    if not settings.data_in_store:
        return File(upload_data_path(settings.data_path, upload_id), filename=safe)
    store = data_files.store(settings)
    key = upload_key(upload_id)
    size = store.size(key)  # missing or store down: answered before the stream starts
    return Stream(
        store.stream(key),
        media_type="application/octet-stream",
        headers={"Content-Disposition": attachment(safe), "Content-Length": str(size)},
    )


def attachment(filename: str) -> str:
    """A Content-Disposition for `filename` as Litestar's File writes it: plain when it is safe ASCII, else
    percent-encoded UTF-8 (RFC 6266 `filename*`), so a Chinese name is neither garbled nor a 500."""
    quoted = quote(filename)
    return f'attachment; filename="{filename}"' if quoted == filename else f"attachment; filename*=utf-8''{quoted}"


def empty_download(schema: pa.Schema, stem: str, format_: str, *, bom: bool = False) -> Response[bytes]:
    """A file with no rows in the shape a Parquet download of `schema` would have (CSV: its header line)."""
    if format_ == "parquet":
        buffer = io.BytesIO()
        pq.write_table(schema.empty_table(), buffer)
        body, extension = buffer.getvalue(), "parquet"
    else:
        body = ((UTF8_BOM if bom else b"") + (",".join(schema.names) + "\n").encode()) if format_ == "csv" else b""
        extension = "csv" if format_ == "csv" else "ndjson"
    headers = {"Content-Disposition": f'attachment; filename="{stem}.{extension}"'}
    return Response(body, media_type=_MEDIA[format_], headers=headers)
