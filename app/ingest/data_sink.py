"""Where an import's COPY writes the version's data: its local file only, or a sink that also streams it out.

A sink (app.storage.streamed_output on an S3 data root) gives DuckDB a URL of a filesystem registered on the
import's connection; every byte still lands in the local file, which the rest of the import reads as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, Protocol


class DataSink(Protocol):
    """A streamed output for one file (see app.storage.streamed_output.StreamedOutput)."""

    #: The store's error that failed a write, if one did (DuckDB reports it as an error of its own).
    failure: BaseException | None

    def url_for(self, local: str | Path) -> str: ...

    def register(self, conn: Any) -> None: ...


class SinkSpent(Exception):
    """The import writes its data file a second time, which a sink (one file, streamed as written) cannot take:
    the caller aborts the sink and imports again without one, uploading the local file after. Raised by a
    lenient CSV import whose float column is read again as text (app.ingest.csv_range), and by a CSV import that
    reads the file again after meeting CRLF and LF rows mixed past its head (app.ingest.import_csv)."""


class CopyTarget(NamedTuple):
    """What a COPY of the data file writes to, the URLs the connection may write, and the COPY's extra options."""

    target: str
    outputs: list[str]
    options: str


def copy_target(sink: DataSink | None, local: str) -> CopyTarget:
    """The local file itself, or the sink's URL for it (written in place: no temporary file renamed after)."""
    if sink is None:
        return CopyTarget(local, [], "")
    url = sink.url_for(local)
    return CopyTarget(url, [url], ", USE_TMP_FILE false")


def raise_sink_failure(sink: DataSink | None, exc: BaseException) -> None:
    """A COPY that failed because the sink's store did: raise the store's error (retryable), not a file error."""
    if sink is not None and sink.failure is not None:
        raise sink.failure from exc
