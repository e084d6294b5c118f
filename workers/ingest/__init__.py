"""Ingest library: sniff an uploaded file, preview it, and stream it into Parquet (no HTTP, no database)."""

from workers.ingest.config import ColumnSpec, DuckDBSettings, ImportConfig, ImportLimits
from workers.ingest.importer import import_file
from workers.ingest.models import ImportResult, Preview
from workers.ingest.preview import preview
from workers.ingest.sniff import safe_display_name, sniff

__all__ = [
    "ColumnSpec",
    "DuckDBSettings",
    "ImportConfig",
    "ImportLimits",
    "ImportResult",
    "Preview",
    "import_file",
    "preview",
    "safe_display_name",
    "sniff",
]
