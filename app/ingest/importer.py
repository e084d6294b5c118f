"""Import one file into `data.parquet` (and `rejects.parquet` when lenient) in `out_dir`, all or nothing.

Everything is written in a hidden work directory inside `out_dir` and renamed into place only when the import
succeeded, so a failed or cancelled import leaves no data file behind and a previous version is untouched. The
format-specific steps are app.ingest.import_csv, import_json and import_excel.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from app.ingest import subtotals
from app.ingest.columns import long_numbers_past_sample
from app.ingest.config import DuckDBSettings, ImportConfig, ImportLimits
from app.ingest.data_sink import DataSink
from app.ingest.duck import column_stats, connect
from app.ingest.errors import ImportCancelled
from app.ingest.import_csv import import_csv
from app.ingest.import_excel import import_excel
from app.ingest.import_job import ImportJob, Progress, held
from app.ingest.import_json import import_json
from app.ingest.models import ImportResult
from app.ingest.notices import settled
from app.ingest.sniff import sniff
from app.paths import DATA_FILE, REJECTS_FILE


def import_file(
    source: str | os.PathLike[str],
    *,
    filename: str,
    config: ImportConfig,
    limits: ImportLimits,
    out_dir: str | os.PathLike[str],
    duckdb_settings: DuckDBSettings,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    data_sink: DataSink | None = None,
) -> ImportResult:
    """Stream `source` into Parquet under `out_dir`; raise a DomainError (and write nothing) on failure.

    `data_sink`: where a CSV's or JSON's data file is also sent as DuckDB writes it (an S3 data root); the
    local file is written all the same. A workbook's is not: the caller uploads it after."""
    config.validate()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sniffed = sniff(source, filename, config, limits)
    work = Path(tempfile.mkdtemp(prefix=".ingest-", dir=out))
    job = ImportJob(
        source=os.path.abspath(source),
        sniffed=sniffed,
        config=config,
        limits=limits,
        settings=duckdb_settings,
        work=work,
        progress=held(progress) if progress else (lambda rows, done, total: None),
        should_stop=should_stop or (lambda: False),
        warnings=list(sniffed.warnings),
        sink=data_sink,
    )
    try:
        step = {"excel": import_excel, "csv": import_csv}.get(sniffed.format, import_json)
        rejected, effective = step(job)
        if job.should_stop():
            raise ImportCancelled("import cancelled")
        conn = connect(duckdb_settings, readable=[job.data], writable=[str(work)])
        try:
            rows, stats = column_stats(conn, job.data)
            job.warnings += subtotals.written(conn, job.data, stats)
        finally:
            conn.close()
        if sniffed.format == "excel":  # whole numbers that lost digits in the file, past the type sample too
            job.warnings += long_numbers_past_sample(stats, job.warnings)
        has_rejects = os.path.exists(job.rejects)
        if has_rejects:
            os.replace(job.rejects, out / REJECTS_FILE)
        elif (out / REJECTS_FILE).exists():
            (out / REJECTS_FILE).unlink()  # from an earlier import into this directory: no longer true
        os.replace(job.data, out / DATA_FILE)
        job.progress(rows, sniffed.size, sniffed.size)
        warnings, notices = settled(job.warnings)
        return ImportResult(
            rows=rows,
            bytes_read=sniffed.size,
            columns=stats,
            rejected=rejected,
            warnings=warnings,
            notices=notices,
            data_path=str(out / DATA_FILE),
            rejects_path=str(out / REJECTS_FILE) if has_rejects else None,
            config=effective,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
