"""What an import's format-specific steps share: the job, how its data file is written, and the connection a
CSV's or JSON's COPY writes it through."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import msgspec
import pyarrow as pa

from app.ingest.config import DuckDBSettings, ImportConfig, ImportLimits
from app.ingest.data_sink import CopyTarget, DataSink, copy_target
from app.ingest.duck import connect
from app.ingest.sniff import Sniffed
from app.paths import DATA_FILE, REJECTS_FILE

Progress = Callable[[int, int, int], None]
#: How a version's data file is written (CSV and JSON). Parquet 2.x encodings (delta for integers and dates,
#: byte-stream-split for doubles) with zstd at level 1: the 1 GiB bench CSV gives 220 MiB of Parquet instead of
#: 383 MiB (snappy, 1.x encodings) for about the same DuckDB CPU to write and less to read. Every byte of a
#: version is uploaded (and stored, and fetched into caches) on an S3 data root, where the store's CPU per byte
#: dwarfs the encoder's. Readable by DuckDB, pyarrow, polars and Spark 3.
PARQUET_OPTIONS = "FORMAT parquet, PARQUET_VERSION v2, COMPRESSION zstd, COMPRESSION_LEVEL 1"
REJECTS_SCHEMA = pa.schema(
    [("row", pa.int64()), ("column", pa.string()), ("message", pa.string()), ("value", pa.string())]
)


class ImportJob(msgspec.Struct, kw_only=True):
    """What the format-specific steps share."""

    source: str
    sniffed: Sniffed
    config: ImportConfig
    limits: ImportLimits
    settings: DuckDBSettings
    work: Path
    progress: Progress
    should_stop: Callable[[], bool]
    warnings: list[str]
    sink: DataSink | None = None

    @property
    def data(self) -> str:
        return str(self.work / DATA_FILE)

    @property
    def rejects(self) -> str:
        return str(self.work / REJECTS_FILE)


def held(progress: Progress) -> Progress:
    """`progress` (rows, bytes done, total) never reporting less than it did: a step that reads the file again (a
    CSV read again with its line ends as LF after DuckDB's reader failed on a mix, a COPY redone with a column as
    text, an import written again without its sink) holds the figures where they were until it passes them,
    rather than sending the run's progress back to 0 for a user watching it."""
    most = [0, 0]

    def report(rows: int, done: int, total: int) -> None:
        most[:] = [max(most[0], rows), max(most[1], done)]
        progress(most[0], most[1], total)

    return report


def data_connection(job: ImportJob, readable: list[str]) -> tuple[duckdb.DuckDBPyConnection, CopyTarget]:
    """The connection a CSV's or JSON's COPY writes the data file through, and that COPY's target: the local file,
    or the sink's URL for it (registered on the connection, the one URL it may write)."""
    data = copy_target(job.sink, job.data)
    conn = connect(job.settings, readable=readable, writable=[str(job.work)], outputs=data.outputs)
    if job.sink is not None:
        try:
            job.sink.register(conn)
        except BaseException:
            conn.close()
            raise
    return conn, data
