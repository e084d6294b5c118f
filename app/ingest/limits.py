"""What the settings allow the ingest and DuckDB work of one job: a library function, so the API (previews,
sniffing an upload) and the worker (the import itself) read the same limits from the same place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.ingest.config import DuckDBSettings, ImportLimits

if TYPE_CHECKING:
    from app.settings import Settings


def limits_of(settings: Settings) -> ImportLimits:
    """The ingest limits the settings choose."""
    return ImportLimits(
        max_upload_bytes=settings.max_upload_bytes,
        max_workbook_uncompressed_bytes=settings.max_workbook_uncompressed_bytes,
        max_workbook_cells=settings.max_workbook_cells,
        max_preview_rows=settings.max_preview_rows,
    )


def duckdb_of(settings: Settings) -> DuckDBSettings:
    """What one job's DuckDB connection may use."""
    return DuckDBSettings(memory_limit=f"{settings.job_memory_limit_mb}MB", threads=settings.job_threads)
